// The hsm: section of a deployment config: typed values, relative paths, and errors that name the
// file and line and say how to fix them.
#include <gtest/gtest.h>

#include <yaml-cpp/yaml.h>

#include "eft/config/hsm.hpp"

namespace eft::config {
namespace {

hsm_config parse(const std::string& yaml) {
  return parse_hsm_config(YAML::Load(yaml)["hsm"], "/etc/eft/switch.yaml");
}

std::string error_of(const std::string& yaml) {
  try {
    (void)parse(yaml);
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

TEST(HsmConfig, SoftwareBackendWithRelativePaths) {
  const auto c =
      parse("hsm:\n  backend: software\n  key_file: keys/hsm.yaml\n  lmk_file: /run/secrets/lmk\n  threads: 0\n");
  EXPECT_EQ(c.backend, "software");
  EXPECT_EQ(c.key_file, std::filesystem::path("/etc/eft/keys/hsm.yaml"));
  EXPECT_EQ(c.lmk_file, std::filesystem::path("/run/secrets/lmk"));
  EXPECT_EQ(c.lmk_env, "EFT_HSM_LMK");
  EXPECT_FALSE(c.production);
}

TEST(HsmConfig, ErrorsNameFileLineAndFix) {
  EXPECT_EQ(error_of("hsm:\n  backend: sofware\n  key_file: k.yaml\n"),
            "/etc/eft/switch.yaml:2: hsm.backend 'sofware' is unknown (use software or pkcs11)");
  EXPECT_EQ(error_of("hsm:\n  backend: software\n  keyfile: k.yaml\n"),
            "/etc/eft/switch.yaml:3: unknown key 'hsm.keyfile' (allowed keys: backend, production, threads, "
            "queue_limit, key_file, lmk_env, lmk_file, module, token_label, pin_env)");
  EXPECT_EQ(error_of("hsm:\n  backend: software\n"),
            "/etc/eft/switch.yaml:2: hsm.key_file is missing (the software backend keeps its keys in a file: add "
            "key_file: keys.yaml)");
  EXPECT_EQ(error_of("hsm:\n  key_file: k.yaml\n  production: yes please\n"),
            "/etc/eft/switch.yaml:3: hsm.production 'yes please' is not true or false");
  EXPECT_EQ(error_of("hsm:\n  key_file: k.yaml\n  threads: -1\n"),
            "/etc/eft/switch.yaml:3: hsm.threads '-1' is not a number from 0 to 256");
  EXPECT_NE(error_of("hsm:\n  backend: pkcs11\n").find("needs hsm.module and hsm.token_label"), std::string::npos);
}

TEST(HsmConfig, MissingFileAndSection) {
  try {
    (void)load_hsm_config("/nonexistent/switch.yaml");
    FAIL();
  } catch (const config_error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/switch.yaml: cannot read the file");
  }
}

}  // namespace
}  // namespace eft::config
