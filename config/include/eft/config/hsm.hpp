#pragma once
/// The `hsm:` section of a deployment config: which HSM backend to use and where its keys are. The
/// local master key of the software backend is never in the config: only where to read it from.

#include <cstddef>
#include <filesystem>
#include <string>

#include "eft/config/error.hpp"

namespace YAML {
class Node;
}

namespace eft::config {

/// HSM settings.
struct hsm_config {
  std::string backend = "software";  ///< software | pkcs11
  bool production = false;           ///< production HSMs refuse eftctl's clear-key tools
  std::size_t threads = 0;           ///< worker threads for blocking backends (0: run inline)
  std::size_t queue_limit = 1024;    ///< operations waiting at most, then "busy"
  // software backend
  std::filesystem::path key_file;       ///< TR-31 key blocks under the LMK (relative to the config file)
  std::string lmk_env = "EFT_HSM_LMK";  ///< environment variable holding the LMK (64 hex digits)
  std::filesystem::path lmk_file;       ///< or a file holding it, used when the variable is unset
  // pkcs11 backend
  std::filesystem::path module;         ///< the PKCS#11 library to dlopen
  std::string token_label;              ///< the token to use
  std::string pin_env = "EFT_HSM_PIN";  ///< environment variable holding the user PIN
};

/// Reads the `hsm:` section of a YAML node; `file` names the source in errors and anchors relative
/// paths. Throws config_error naming file and line.
hsm_config parse_hsm_config(const YAML::Node& node, const std::filesystem::path& file);

/// Reads the `hsm:` section of a deployment config file. Throws config_error.
hsm_config load_hsm_config(const std::filesystem::path& file);

}  // namespace eft::config
