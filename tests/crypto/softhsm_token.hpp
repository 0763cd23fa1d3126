#pragma once
// A throw-away SoftHSM2 token for the pkcs11 backend's tests: a softhsm2.conf and a token folder
// under the test's temporary directory (SOFTHSM2_CONF points there), initialised with
// `softhsm2-util --init-token`. Tests skip only when libsofthsm2.so is not installed.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "eft/crypto/pkcs11_hsm.hpp"

namespace eft::crypto::test {

/// The SoftHSM2 module, where Debian 12 installs it; nullopt when it is not installed.
inline std::optional<std::filesystem::path> softhsm_library() {
  for (const char* p : {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"}) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) return std::filesystem::path(p);
  }
  return std::nullopt;
}

inline constexpr const char* softhsm_skip_reason =
    "SoftHSM2 is not installed (no /usr/lib/softhsm/libsofthsm2.so or "
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so): apt-get install softhsm2, or run scripts/setup.sh";

inline constexpr const char* softhsm_pin_env = "EFT_TEST_HSM_PIN";
inline constexpr const char* softhsm_user_pin = "246810";
inline constexpr const char* softhsm_so_pin = "13579135";

/// Points SOFTHSM2_CONF at dir/softhsm2.conf (token folder dir/tokens), initialises a token with
/// `label` and puts the user PIN in EFT_TEST_HSM_PIN. Returns an empty string or what went wrong.
/// The module must not be initialised while this runs (no pkcs11_hsm open): SoftHSM reads its
/// configuration at C_Initialize.
inline std::string make_softhsm_token(const std::filesystem::path& dir, const std::string& label) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "tokens", ec);
  if (ec) return "cannot create " + (dir / "tokens").string() + ": " + ec.message();
  const auto conf = dir / "softhsm2.conf";
  {
    std::ofstream out(conf);
    out << "directories.tokendir = " << (dir / "tokens").string() << "\nobjectstore.backend = file\n"
        << "log.level = ERROR\nslots.removable = false\n";
    if (!out) return "cannot write " + conf.string();
  }
  ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
  ::setenv(softhsm_pin_env, softhsm_user_pin, 1);
  const std::string command = "softhsm2-util --init-token --free --label '" + label + "' --so-pin " + softhsm_so_pin +
                              " --pin " + softhsm_user_pin + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0)
    return "softhsm2-util --init-token failed (is the softhsm2 package installed?)";
  return {};
}

/// Options for the token made by make_softhsm_token.
inline pkcs11_options softhsm_options(const std::filesystem::path& module, const std::string& label) {
  pkcs11_options o;
  o.module = module;
  o.token_label = label;
  o.pin_env = softhsm_pin_env;
  return o;
}

}  // namespace eft::crypto::test
