#include "eft/config/hsm.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>

namespace eft::config {

namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const YAML::Node& at, const std::string& what,
                       const std::string& hint = {}) {
  std::string msg = file.string();
  if (at.IsDefined() && at.Mark().line >= 0) msg += ":" + std::to_string(at.Mark().line + 1);
  msg += ": " + what;
  if (!hint.empty()) msg += " (" + hint + ")";
  throw config_error(msg);
}

std::string scalar(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail(file, n, key + " must be a single value");
  return n.Scalar();
}

std::size_t count(const std::filesystem::path& file, const YAML::Node& n, const std::string& key, std::size_t max) {
  const std::string s = scalar(file, n, key);
  std::size_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) {
    fail(file, n, key + " '" + s + "' is not a number from 0 to " + std::to_string(max));
  }
  return v;
}

bool flag(const std::filesystem::path& file, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(file, n, key);
  if (s == "true") return true;
  if (s == "false") return false;
  fail(file, n, key + " '" + s + "' is not true or false");
}

std::filesystem::path relative_to(const std::filesystem::path& file, const std::string& p) {
  const std::filesystem::path path(p);
  return path.is_absolute() ? path : file.parent_path() / path;
}

}  // namespace

hsm_config parse_hsm_config(const YAML::Node& node, const std::filesystem::path& file) {
  if (!node.IsMap()) fail(file, node, "hsm must be a map", "for example hsm: {backend: software, key_file: keys.yaml}");
  static const char* const keys[] = {"backend", "production", "threads", "queue_limit", "key_file",
                                     "lmk_env", "lmk_file",   "module",  "token_label", "pin_env"};
  for (const auto& kv : node) {
    const std::string k = kv.first.Scalar();
    bool known = false;
    std::string allowed;
    for (const char* a : keys) {
      known = known || k == a;
      allowed += allowed.empty() ? "" : ", ";
      allowed += a;
    }
    if (!known) fail(file, kv.first, "unknown key 'hsm." + k + "'", "allowed keys: " + allowed);
  }
  hsm_config c;
  if (node["backend"]) {
    c.backend = scalar(file, node["backend"], "hsm.backend");
    if (c.backend != "software" && c.backend != "pkcs11") {
      fail(file, node["backend"], "hsm.backend '" + c.backend + "' is unknown", "use software or pkcs11");
    }
  }
  if (node["production"]) c.production = flag(file, node["production"], "hsm.production");
  if (node["threads"]) c.threads = count(file, node["threads"], "hsm.threads", 256);
  if (node["queue_limit"]) c.queue_limit = count(file, node["queue_limit"], "hsm.queue_limit", 1'000'000);
  if (node["key_file"]) c.key_file = relative_to(file, scalar(file, node["key_file"], "hsm.key_file"));
  if (node["lmk_env"]) c.lmk_env = scalar(file, node["lmk_env"], "hsm.lmk_env");
  if (node["lmk_file"]) c.lmk_file = relative_to(file, scalar(file, node["lmk_file"], "hsm.lmk_file"));
  if (node["module"]) c.module = scalar(file, node["module"], "hsm.module");
  if (node["token_label"]) c.token_label = scalar(file, node["token_label"], "hsm.token_label");
  if (node["pin_env"]) c.pin_env = scalar(file, node["pin_env"], "hsm.pin_env");
  if (c.backend == "software" && c.key_file.empty()) {
    fail(file, node, "hsm.key_file is missing",
         "the software backend keeps its keys in a file: add key_file: keys.yaml");
  }
  if (c.backend == "pkcs11" && (c.module.empty() || c.token_label.empty())) {
    fail(file, node, "the pkcs11 backend needs hsm.module and hsm.token_label",
         "for example module: /usr/lib/softhsm/libsofthsm2.so, token_label: eft");
  }
  return c;
}

hsm_config load_hsm_config(const std::filesystem::path& file) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw config_error(file.string() + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    throw config_error(file.string() + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (!root["hsm"])
    throw config_error(file.string() + ": no hsm section (add hsm: {backend: software, key_file: ...})");
  return parse_hsm_config(root["hsm"], file);
}

}  // namespace eft::config
