#pragma once
/// Configuration errors: each names the file and line, says what is wrong and how to fix it.

#include <stdexcept>
#include <string>

namespace eft::config {

/// "switch.yaml:12: hsm.backend 'sofware' is unknown (use software or pkcs11)".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace eft::config
