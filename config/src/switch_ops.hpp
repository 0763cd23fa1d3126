#pragma once
// Parsers of the operations sections of a switch config: tls (on listeners and links), metrics and
// logging. Kept apart from switch.cpp so the transaction sections and these evolve separately.

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>

#include "eft/config/switch.hpp"

namespace eft::config::detail {

/// A tls: map of a listener (`listener` true: cert_file and key_file required) or a host link.
/// Every file is resolved relative to `file` and must be readable. Throws config_error.
tls_config parse_tls(const std::filesystem::path& file, const YAML::Node& n, const std::string& where, bool listener);

/// The metrics: map. Throws config_error.
metrics_config parse_metrics(const std::filesystem::path& file, const YAML::Node& n);

/// The logging: map. Throws config_error.
logging_config parse_logging(const std::filesystem::path& file, const YAML::Node& n);

/// A route's stand_in: map (switch_stand_in.cpp). Throws config_error.
stand_in_config parse_stand_in(const std::filesystem::path& file, const YAML::Node& n, const std::string& where);

}  // namespace eft::config::detail
