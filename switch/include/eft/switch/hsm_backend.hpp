#pragma once
/// Opens the HSM backend an `hsm:` config section describes: the one place where eftswitch and
/// eftctl turn a config into a crypto::hsm.

#include <memory>

#include "eft/config/hsm.hpp"
#include "eft/crypto/error.hpp"
#include "eft/crypto/hsm.hpp"

namespace eft::switch_core {

/// The software backend (key file under the LMK read from lmk_env or lmk_file) or a PKCS#11 token
/// (module, token label, user PIN from pin_env). The error names what failed (an LMK that cannot be
/// read, a key file with a bad block, a token that is not there); it never holds key material.
crypto::outcome<std::shared_ptr<crypto::hsm>> open_hsm_backend(const config::hsm_config& c);

}  // namespace eft::switch_core
