#include "eft/switch/hsm_backend.hpp"

#include <utility>

#include "eft/crypto/pkcs11_hsm.hpp"
#include "eft/crypto/software_hsm.hpp"

namespace eft::switch_core {

crypto::outcome<std::shared_ptr<crypto::hsm>> open_hsm_backend(const config::hsm_config& c) {
  if (c.backend == "pkcs11") {
    auto h = crypto::pkcs11_hsm::open({c.module, c.token_label, c.pin_env, c.production});
    if (!h) return h.error();
    return std::shared_ptr<crypto::hsm>(std::move(*h));
  }
  auto lmk = crypto::load_lmk({c.lmk_env, c.lmk_file});
  if (!lmk) return lmk.error();
  auto h = crypto::software_hsm::open(c.key_file, std::move(*lmk), c.production);
  if (!h) return crypto::failure{h.error().code, "key file " + c.key_file.string() + ": " + h.error().message()};
  return std::shared_ptr<crypto::hsm>(std::move(*h));
}

}  // namespace eft::switch_core
