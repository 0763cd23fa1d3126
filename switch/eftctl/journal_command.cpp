// eftctl journal and eftctl saf: the transaction journal and the store-and-forward queue of a
// deployment. Queries read the journal while the switch runs (WAL snapshots, no lock); retry and
// purge write to it and so need the switch stopped (the journal's lock file, or the PostgreSQL
// instance lock, says whether it runs).
// Nothing printed holds a full PAN: records carry the masked PAN and the PAN's keyed hash only.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "crypto_cli.hpp"
#include "eft/config/switch.hpp"
#include "eft/switch/journal.hpp"

namespace eftctl {

namespace {

using crypto_cli::bad_input;
namespace sc = eft::switch_core;

eft::config::journal_config journal_section(const std::string& config_file) {
  eft::config::switch_config c;
  try {
    c = eft::config::load_switch_config(config_file);
  } catch (const eft::config::config_error& e) {
    throw bad_input{e.what()};
  }
  if (!c.journal.enabled()) throw bad_input{config_file + ": no journal: section (add journal: {path: ...})"};
  return c.journal;
}

// The journal key, when the caller needs it (PAN look-ups, SAF messages).
std::shared_ptr<const sc::journal_keys> keys_of(const eft::config::journal_config& j) {
  try {
    return std::make_shared<const sc::journal_keys>(sc::journal_keys::load(j.key_env, j.key_file));
  } catch (const sc::journal_open_error& e) {
    throw bad_input{e.what()};
  }
}

std::unique_ptr<sc::journal> open_read_only(const eft::config::journal_config& j,
                                            std::shared_ptr<const sc::journal_keys> keys) {
  try {
    return sc::open_journal(j, std::move(keys), sc::journal_access::read_only);
  } catch (const sc::journal_open_error& e) {
    throw bad_input{e.what()};
  }
}

std::unique_ptr<sc::journal> open_writable(const eft::config::journal_config& j) {
  try {
    return sc::open_journal(j, keys_of(j));
  } catch (const sc::journal_open_error& e) {
    throw bad_input{std::string(e.what()) + " (retry and purge need the switch stopped)"};
  }
}

// "2026-11-26T07:15:00Z" / "2026-11-26T07:15:00" (UTC) or "2026-11-26" to microseconds.
std::int64_t time_arg(const std::string& option, const std::string& v) {
  std::tm tm{};
  const char* end = strptime(v.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end == nullptr) {
    tm = std::tm{};
    end = strptime(v.c_str(), "%Y-%m-%d", &tm);
  }
  if (end == nullptr || (*end != '\0' && std::string_view(end) != "Z")) {
    throw bad_input{option + ": '" + v + "' is not a UTC time like 2026-11-26T07:15:00Z or 2026-11-26"};
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000000;
}

std::string iso_time(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(us % 1000000));
  return out;
}

nlohmann::ordered_json to_json(const sc::journal_record& r) {
  nlohmann::ordered_json o;
  o["txn"] = r.txn_id;
  o["event"] = std::string(sc::to_string(r.event));
  o["at"] = iso_time(r.at_us);
  const std::pair<const char*, const std::string*> text[] = {{"terminal", &r.terminal},
                                                             {"pan", &r.pan_masked},
                                                             {"pan_hash", &r.pan_hash},
                                                             {"mti", &r.mti},
                                                             {"processing_code", &r.processing_code},
                                                             {"amount", &r.amount},
                                                             {"currency", &r.currency},
                                                             {"terminal_stan", &r.terminal_stan},
                                                             {"transmission", &r.transmission},
                                                             {"host_stan", &r.host_stan},
                                                             {"rrn", &r.rrn},
                                                             {"route", &r.route},
                                                             {"link", &r.link},
                                                             {"rc", &r.rc},
                                                             {"detail", &r.detail},
                                                             {"instance", &r.instance}};
  for (const auto& [name, value] : text) {
    if (!value->empty()) o[name] = *value;
  }
  if (r.latency_us >= 0) o["latency_ms"] = static_cast<double>(r.latency_us) / 1000.0;
  return o;
}

void print_record(const sc::journal_record& r) {
  std::cout << iso_time(r.at_us) << " txn=" << r.txn_id << ' ' << sc::to_string(r.event);
  const std::pair<const char*, const std::string*> text[] = {{"mti", &r.mti},
                                                             {"terminal", &r.terminal},
                                                             {"pan", &r.pan_masked},
                                                             {"amount", &r.amount},
                                                             {"cur", &r.currency},
                                                             {"stan", &r.terminal_stan},
                                                             {"host_stan", &r.host_stan},
                                                             {"rrn", &r.rrn},
                                                             {"route", &r.route},
                                                             {"link", &r.link},
                                                             {"rc", &r.rc},
                                                             {"instance", &r.instance}};
  for (const auto& [name, value] : text) {
    if (!value->empty()) std::cout << ' ' << name << '=' << *value;
  }
  if (r.latency_us >= 0 && r.event != sc::journal_event::received) {
    std::cout << " latency_ms=" << static_cast<double>(r.latency_us) / 1000.0;
  }
  if (!r.detail.empty()) std::cout << " (" << r.detail << ')';
  std::cout << '\n';
}

nlohmann::ordered_json to_json(const sc::saf_item& it, std::int64_t now) {
  nlohmann::ordered_json o;
  o["seq"] = it.seq;
  o["txn"] = it.txn_id;
  o["link_group"] = it.link_group;
  o["kind"] = std::string(sc::to_string(it.kind));
  o["state"] = std::string(sc::to_string(it.state));
  o["mti"] = it.mti;
  o["summary"] = it.summary;
  o["created"] = iso_time(it.created_us);
  o["age_s"] = (now - it.created_us) / 1000000;
  o["attempts"] = it.attempts;
  if (it.next_attempt_us > 0) o["next_attempt"] = iso_time(it.next_attempt_us);
  return o;
}

// eftctl journal --check: exit 0 when every page reads back as SQLite expects, 1 when not.
void check(const eft::config::journal_config& j, bool thorough) {
  if (j.backend != eft::config::journal_backend::sqlite) {
    throw bad_input{"--check: the journal is in PostgreSQL; check it with the server's own tools (amcheck)"};
  }
  sc::journal_check_result r;
  try {
    r = sc::check_sqlite_journal(j.path, thorough);
  } catch (const sc::journal_open_error& e) {
    throw bad_input{e.what()};
  }
  std::cout << fmt::format("journal {}: {} pages ({:.1f} MB) checked in {:.2f} s ({}): {}\n", j.path.string(), r.pages,
                           static_cast<double>(r.bytes) / (1024.0 * 1024.0), r.seconds,
                           thorough ? "integrity_check" : "quick_check", r.ok ? "ok" : "CORRUPT");
  for (const auto& p : r.problems) std::cout << "  " << p << '\n';
  if (!r.ok) {
    throw bad_input{"journal " + j.path.string() +
                    " is corrupt: restore it from a backup, or stop the switch and move the file aside to start a "
                    "new one"};
  }
}

}  // namespace

void add_journal_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("journal", "Query the transaction journal of a deployment");
  struct options {
    std::string config;
    std::string terminal;
    std::string rrn;
    std::string pan;
    std::string pan_hash;
    std::string from;
    std::string to;
    std::int64_t txn = 0;
    std::size_t limit = 1000;
    bool json = false;
    bool check = false;
    bool thorough = false;
  };
  auto o = std::make_shared<options>();
  cmd->add_option("--config", o->config, "deployment config file with a journal: section")->required();
  cmd->add_flag("--check", o->check,
                "check every page of the journal (SQLite) instead of querying it: exit 1 when it is corrupt. "
                "Runs beside the switch; the switch itself checks only its state tables at start");
  cmd->add_flag("--thorough", o->thorough, "with --check: also match every index entry with its row (slower)");
  cmd->add_option("--terminal", o->terminal, "terminal id (field 41)");
  cmd->add_option("--rrn", o->rrn, "retrieval reference number: every record of its transaction");
  cmd->add_option("--pan", o->pan,
                  "card number, hashed with the journal key to find its transactions (never printed or stored)");
  cmd->add_option("--pan-hash", o->pan_hash, "the PAN's keyed hash as journaled (64 hex digits)");
  cmd->add_option("--from", o->from, "records at or after this UTC time (2026-11-26T07:00:00Z)");
  cmd->add_option("--to", o->to, "records before this UTC time");
  cmd->add_option("--txn", o->txn, "one transaction by its journal id");
  cmd->add_option("--limit", o->limit, "records at most (default 1000)");
  cmd->add_flag("--json", o->json, "print JSON, one array of records");
  cmd->callback([o, &exit_status] {
    exit_status = crypto_cli::run([&] {
      const auto j = journal_section(o->config);
      if (o->check) {
        check(j, o->thorough);
        return;
      }
      if (o->thorough) throw bad_input{"--thorough goes with --check"};
      sc::journal_query q;
      q.terminal = o->terminal;
      q.rrn = o->rrn;
      q.pan_hash = o->pan_hash;
      q.txn_id = o->txn;
      q.limit = o->limit;
      if (!o->from.empty()) q.from_us = time_arg("--from", o->from);
      if (!o->to.empty()) q.to_us = time_arg("--to", o->to);
      std::shared_ptr<const sc::journal_keys> keys;
      if (!o->pan.empty()) {
        if (o->pan.size() < 12 || o->pan.size() > 19 || o->pan.find_first_not_of("0123456789") != std::string::npos) {
          throw bad_input{"--pan: 12 to 19 digits"};
        }
        keys = keys_of(j);
        q.pan_hash = keys->pan_hash(o->pan);
        eft::crypto::wipe(o->pan.data(), o->pan.size());
      }
      const auto records = open_read_only(j, keys)->query(q);
      if (o->json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& r : records) out.push_back(to_json(r));
        std::cout << out.dump() << '\n';
      } else {
        for (const auto& r : records) print_record(r);
        if (records.empty()) std::cout << "no records\n";
      }
    });
  });
}

void add_saf_command(CLI::App& app, int& exit_status) {
  auto* saf = app.add_subcommand("saf", "The store-and-forward queue of a deployment");
  saf->require_subcommand(1);
  struct options {
    std::string config;
    std::string group;
    std::int64_t txn = 0;
    bool all = false;
    bool yes = false;
    bool json = false;
  };
  auto o = std::make_shared<options>();

  auto* list = saf->add_subcommand("list", "Items waiting for their host, oldest first, and depth per host");
  list->add_option("--config", o->config, "deployment config file with a journal: section")->required();
  list->add_option("--group", o->group, "only this link group's queue");
  list->add_flag("--json", o->json, "print JSON");
  list->callback([o, &exit_status] {
    exit_status = crypto_cli::run([&] {
      const auto jc = journal_section(o->config);
      const auto j = open_read_only(jc, nullptr);
      const auto items = j->saf_items(o->group, false);
      const std::int64_t now = sc::journal_now_us();
      if (o->json) {
        nlohmann::ordered_json out;
        out["items"] = nlohmann::ordered_json::array();
        for (const auto& it : items) out["items"].push_back(to_json(it, now));
        out["depth"] = nlohmann::ordered_json::array();
        for (const auto& d : j->saf_depth()) {
          out["depth"].push_back({{"link_group", d.link_group},
                                  {"ready", d.ready},
                                  {"armed", d.armed},
                                  {"oldest_age_s", d.oldest_ready_us > 0 ? (now - d.oldest_ready_us) / 1000000 : 0}});
        }
        std::cout << out.dump() << '\n';
        return;
      }
      for (const auto& it : items) {
        std::cout << "seq=" << it.seq << " txn=" << it.txn_id << ' ' << it.link_group << ' ' << sc::to_string(it.kind)
                  << ' ' << sc::to_string(it.state) << ' ' << it.mti << " attempts=" << it.attempts
                  << " age_s=" << (now - it.created_us) / 1000000 << " (" << it.summary << ")\n";
      }
      for (const auto& d : j->saf_depth()) {
        std::cout << "depth " << d.link_group << ": ready=" << d.ready << " armed=" << d.armed
                  << " oldest_age_s=" << (d.oldest_ready_us > 0 ? (now - d.oldest_ready_us) / 1000000 : 0) << '\n';
      }
      if (items.empty()) std::cout << "SAF queue empty\n";
    });
  });

  auto* retry = saf->add_subcommand("retry", "Send an item (or all) at the next chance, not after its retry wait");
  retry->add_option("--config", o->config, "deployment config file with a journal: section")->required();
  retry->add_option("--txn", o->txn, "the item's transaction id (see saf list)");
  retry->add_flag("--all", o->all, "every ready item");
  retry->callback([o, &exit_status] {
    exit_status = crypto_cli::run([&] {
      if ((o->txn == 0) == !o->all) throw bad_input{"give --txn N or --all"};
      const auto jc = journal_section(o->config);
      const auto j = open_writable(jc);
      sc::journal_batch b;
      for (const auto& it : j->saf_items({}, false)) {
        if (it.state == sc::saf_state::ready && (o->all || it.txn_id == o->txn)) b.saf_retry_now.push_back(it.txn_id);
      }
      if (b.saf_retry_now.empty()) throw bad_input{"no such ready item in the SAF queue"};
      const std::size_t n = b.saf_retry_now.size();
      if (!j->post(std::move(b)) || !j->flush()) throw bad_input{"the journal could not be written"};
      std::cout << n << " item(s) will be sent when their link is ready\n";
    });
  });

  auto* purge = saf->add_subcommand(
      "purge", "Remove an item (or a group's queue) that will never be acknowledged; it is journaled as expired");
  purge->add_option("--config", o->config, "deployment config file with a journal: section")->required();
  purge->add_option("--txn", o->txn, "the item's transaction id (see saf list)");
  purge->add_option("--group", o->group, "every item of this link group");
  purge->add_flag("--yes", o->yes, "do not ask for confirmation");
  purge->callback([o, &exit_status] {
    exit_status = crypto_cli::run([&] {
      if ((o->txn == 0) == o->group.empty()) throw bad_input{"give --txn N or --group NAME"};
      const auto jc = journal_section(o->config);
      const auto j = open_writable(jc);
      sc::journal_batch b;
      for (const auto& it : j->saf_items(o->group, false)) {
        if (o->txn != 0 && it.txn_id != o->txn) continue;
        sc::journal_record r;
        r.txn_id = it.txn_id;
        r.event = sc::journal_event::expired;
        r.at_us = sc::journal_now_us();
        r.mti = it.mti;
        r.detail = "purged from the SAF queue by an operator (" + it.summary + ")";
        b.records.push_back(std::move(r));
        b.saf_remove.push_back(it.txn_id);
        std::cout << "txn=" << it.txn_id << ' ' << it.link_group << ' ' << it.mti << " attempts=" << it.attempts << " ("
                  << it.summary << ")\n";
      }
      if (b.saf_remove.empty()) throw bad_input{"no such item in the SAF queue"};
      const std::size_t n = b.saf_remove.size();
      if (!o->yes) {
        std::cout << "Purge these " << n
                  << " item(s)? The host will never get them. Type 'purge' to confirm: " << std::flush;
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "purge") throw bad_input{"not confirmed; nothing purged"};
      }
      if (!j->post(std::move(b)) || !j->flush()) throw bad_input{"the journal could not be written"};
      std::cout << n << " item(s) purged\n";
    });
  });
}

}  // namespace eftctl
