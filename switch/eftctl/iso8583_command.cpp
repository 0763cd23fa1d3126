// eftctl iso8583: decode and encode ISO 8583 messages with any built-in or file spec.
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "commands.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/hex.hpp"
#include "eft/iso8583/json.hpp"
#include "eft/iso8583/spec.hpp"

namespace eftctl {

namespace {

struct decode_options {
  std::string spec;
  std::string hex;
  std::string file;
  bool framed = false;
  bool reveal = false;
  bool dump = false;
};

struct encode_options {
  std::string spec;
  std::string json_path;
  bool framed = false;
};

// One line on stderr and exit status 1: the contract for bad input.
int fail(const std::string& what) {
  std::cerr << "eftctl: " << what << '\n';
  return 1;
}

std::string read_all(std::istream& in) {
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The spec by name or path; on failure the reason is reported and nullptr returned.
std::shared_ptr<const eft::iso8583::spec> load_spec_or_report(const std::string& name) {
  try {
    return eft::iso8583::load_spec(name);
  } catch (const eft::iso8583::spec_error& e) {
    fail(e.what());
    return nullptr;
  }
}

int run_decode(const decode_options& o) {
  const auto sp = load_spec_or_report(o.spec);
  if (!sp) return 1;
  std::string bytes;
  if (!o.hex.empty()) {
    std::string hex;
    for (char c : o.hex) {
      if (c != ' ' && c != '\n' && c != '\t' && c != ':') hex += c;
    }
    if (!eft::iso8583::append_hex_decoded(hex, bytes)) return fail("--hex is not an even number of hex digits");
  } else {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) return fail("cannot read " + o.file);
    bytes = read_all(in);
  }
  std::string_view body = bytes;
  if (o.framed) {
    if (body.size() < 2) return fail("message at offset 0: truncated (a framed message starts with a 2-byte length)");
    const std::size_t len = (static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1]);
    if (len != body.size() - 2) {
      return fail("message at offset 0: bad length prefix (frame says " + std::to_string(len) + " bytes, " +
                  std::to_string(body.size() - 2) + " follow)");
    }
    body.remove_prefix(2);
  }
  eft::iso8583::message msg(*sp);
  if (auto st = eft::iso8583::unpack(eft::iso8583::as_bytes(body), msg); !st) {
    if (o.framed) st.offset += 2;
    return fail(st.message());
  }
  const auto show = o.reveal ? eft::iso8583::reveal::yes : eft::iso8583::reveal::no;
  if (o.dump) {
    std::cout << eft::iso8583::dump(msg, show);
  } else {
    std::cout << eft::iso8583::to_json(msg, show).dump(2) << '\n';
  }
  return 0;
}

int run_encode(const encode_options& o) {
  const auto sp = load_spec_or_report(o.spec);
  if (!sp) return 1;
  std::string text;
  if (o.json_path == "-") {
    text = read_all(std::cin);
  } else {
    std::ifstream in(o.json_path);
    if (!in) return fail("cannot read " + o.json_path);
    text = read_all(in);
  }
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(std::string("not valid JSON at byte ") + std::to_string(e.byte));
  }
  eft::iso8583::message msg(*sp);
  if (auto st = eft::iso8583::from_json(j, msg); !st) return fail(st.message());
  std::vector<std::byte> out;
  if (auto st = eft::iso8583::pack(msg, out); !st) return fail(st.message());
  if (o.framed) {
    if (out.size() > 0xFFFF) return fail("message too long for a 2-byte length");
    const std::byte hdr[2] = {static_cast<std::byte>(out.size() >> 8), static_cast<std::byte>(out.size() & 0xFF)};
    out.insert(out.begin(), hdr, hdr + 2);
  }
  std::cout << eft::iso8583::to_hex(out) << '\n';
  return 0;
}

}  // namespace

void add_iso8583_command(CLI::App& app, int& exit_status) {
  auto* iso = app.add_subcommand("iso8583", "Decode and encode ISO 8583 messages");
  iso->require_subcommand(1);

  auto dec = std::make_shared<decode_options>();
  auto* d = iso->add_subcommand("decode", "Print a message as JSON (masked unless --reveal) or as a dump");
  d->add_option(
       "--spec", dec->spec,
       "Built-in spec name (" +
           [] {
             std::string names;
             for (const auto& n : eft::iso8583::builtin_spec_names()) names += (names.empty() ? "" : ", ") + n;
             return names;
           }() +
           ") or YAML file")
      ->required();
  auto* hex = d->add_option("--hex", dec->hex, "The message as hex (no length header unless --framed)");
  auto* file = d->add_option("--file", dec->file, "File holding the message bytes");
  hex->excludes(file);
  d->add_flag("--framed", dec->framed, "The input starts with a 2-byte big-endian length");
  d->add_flag("--reveal", dec->reveal, "Show sensitive fields (PAN, tracks, PIN data) in clear");
  d->add_flag("--dump", dec->dump, "Human-readable dump instead of JSON");
  d->callback([dec, &exit_status, hex, file] {
    if (hex->count() == 0 && file->count() == 0) {
      exit_status = fail("give the message with --hex HEX or --file PATH");
      return;
    }
    exit_status = run_decode(*dec);
  });

  auto enc = std::make_shared<encode_options>();
  auto* e = iso->add_subcommand("encode", "Pack a message from its JSON form and print it as hex");
  e->add_option("--spec", enc->spec, "Built-in spec name or YAML file")->required();
  e->add_option("--json", enc->json_path, "JSON file, or - for standard input")->required();
  e->add_flag("--framed", enc->framed, "Prefix the output with a 2-byte big-endian length");
  e->callback([enc, &exit_status] { exit_status = run_encode(*enc); });

  auto* s = iso->add_subcommand("specs", "List the built-in specs");
  s->callback([] {
    for (const auto& n : eft::iso8583::builtin_spec_names()) std::cout << n << '\n';
  });
}

}  // namespace eftctl
