// The one place that turns a deployment's journal: section into a journal backend.
#include "eft/config/switch.hpp"
#include "eft/switch/journal.hpp"

namespace eft::switch_core {

std::unique_ptr<journal> open_journal(const config::journal_config& c, std::shared_ptr<const journal_keys> keys,
                                      journal_access access) {
  const journal_durability durability = c.durability == config::journal_durability_level::process_crash
                                            ? journal_durability::process_crash
                                            : journal_durability::power_loss;
  const bool read_only = access == journal_access::read_only;
  if (c.backend == config::journal_backend::postgresql) {
    postgresql_journal_options o;
    o.conninfo = c.conninfo;
    o.instance = c.instance;
    o.durability = durability;
    o.queue_limit = c.queue_limit;
    o.reversal_window = std::chrono::seconds(c.reversal_window_s);
    return read_only ? open_postgresql_journal_read_only(o, std::move(keys))
                     : open_postgresql_journal(o, std::move(keys));
  }
  if (read_only) return open_sqlite_journal_read_only(c.path, std::move(keys));
  sqlite_journal_options o;
  o.path = c.path;
  o.durability = durability;
  o.queue_limit = c.queue_limit;
  o.reversal_window = std::chrono::seconds(c.reversal_window_s);
  return open_sqlite_journal(o, std::move(keys));
}

}  // namespace eft::switch_core
