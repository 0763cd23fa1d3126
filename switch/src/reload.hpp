#pragma once
// What a configuration reload (SIGHUP) may change in a running switch: the routes, the listeners'
// connection limits and deadlines, and the shutdown grace period. Everything else (what is bound,
// what is connected, keys, threads) needs a restart, and a reload that changes it is refused whole.

#include <string>

#include "eft/config/switch.hpp"
#include "eft/crypto/hsm.hpp"

namespace eft::switch_core::detail {

/// Why `next` cannot replace `running` in place (file:line where known), or empty when it can.
std::string reload_refusal(const config::switch_config& running, const config::switch_config& next);

}  // namespace eft::switch_core::detail
