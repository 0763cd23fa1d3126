#include "switch_ops.hpp"

#include <fstream>
#include <system_error>

#include "yaml_util.hpp"

namespace eft::config::detail {

namespace {

// A PEM file named in the config: it must exist and be readable by the switch now, not at the first
// handshake.
std::filesystem::path readable_file(const std::filesystem::path& file, const YAML::Node& n, const std::string& key,
                                    const char* what) {
  const std::string s = scalar(file, n, key);
  if (s.empty()) fail(file, n, key + " is empty", std::string("name the ") + what + " (PEM)");
  const std::filesystem::path p = relative_to(file, s);
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) {
    fail(file, n, key + " '" + p.string() + "' does not exist",
         std::string("the ") + what + " file, PEM; relative paths start at the config file's folder");
  }
  if (!std::filesystem::is_regular_file(p, ec) || !std::ifstream(p).good()) {
    fail(file, n, key + " '" + p.string() + "' is not a readable file",
         "check the path and that the switch's user may read it");
  }
  return p;
}

}  // namespace

tls_config parse_tls(const std::filesystem::path& file, const YAML::Node& n, const std::string& where, bool listener) {
  if (!n.IsMap()) {
    fail(file, n, where + " must be a map",
         listener ? "for example tls: {cert_file: server.pem, key_file: server.key}"
                  : "for example tls: {ca_file: ca.pem}");
  }
  check_keys(file, n, where, {"cert_file", "key_file", "ca_file", "verify_peer", "server_name"});
  tls_config c;
  c.line = line_of(n);
  if (n["cert_file"]) c.cert_file = readable_file(file, n["cert_file"], where + ".cert_file", "certificate");
  if (n["key_file"]) c.key_file = readable_file(file, n["key_file"], where + ".key_file", "private key");
  if (n["ca_file"]) c.ca_file = readable_file(file, n["ca_file"], where + ".ca_file", "CA certificate bundle");
  if (n["verify_peer"]) c.verify_peer = flag(file, n["verify_peer"], where + ".verify_peer");
  if (n["server_name"]) c.server_name = scalar(file, n["server_name"], where + ".server_name");
  if (listener && c.cert_file.empty()) {
    fail(file, n, where + " has no cert_file", "a TLS listener presents a certificate: add cert_file and key_file");
  }
  if (!c.cert_file.empty() && c.key_file.empty()) {
    fail(file, n, where + " has cert_file but no key_file", "add key_file: the certificate's private key (PEM)");
  }
  if (c.cert_file.empty() && !c.key_file.empty()) {
    fail(file, n, where + " has key_file but no cert_file", "add cert_file: the certificate of that key (PEM)");
  }
  if (c.verify_peer && c.ca_file.empty()) {
    fail(file, n["verify_peer"], where + ".verify_peer needs ca_file",
         "add ca_file: the CA bundle peer certificates are checked against");
  }
  if (listener && !c.server_name.empty()) {
    fail(file, n["server_name"], where + ".server_name is for host links", "remove it from the listener");
  }
  return c;
}

metrics_config parse_metrics(const std::filesystem::path& file, const YAML::Node& n) {
  if (!n.IsMap()) fail(file, n, "metrics must be a map", "for example metrics: {address: 127.0.0.1, port: 9100}");
  check_keys(file, n, "metrics", {"address", "port"});
  metrics_config c;
  c.line = line_of(n);
  if (n["address"]) c.address = scalar(file, n["address"], "metrics.address");
  if (n["port"]) c.port = static_cast<std::uint16_t>(number(file, n["port"], "metrics.port", 0, 65535));
  return c;
}

logging_config parse_logging(const std::filesystem::path& file, const YAML::Node& n) {
  if (!n.IsMap()) fail(file, n, "logging must be a map", "for example logging: {format: json, file: eftswitch.log}");
  check_keys(file, n, "logging", {"format", "file", "queue"});
  logging_config c;
  if (n["format"]) {
    c.format = scalar(file, n["format"], "logging.format");
    if (c.format != "text" && c.format != "json") {
      fail(file, n["format"], "logging.format '" + c.format + "' is unknown", "use text or json");
    }
  }
  if (n["file"]) {
    const std::string s = scalar(file, n["file"], "logging.file");
    if (s.empty()) fail(file, n["file"], "logging.file is empty", "leave it out to log to standard error");
    c.file = relative_to(file, s);
    std::error_code ec;
    const auto dir = c.file.parent_path();
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
      fail(file, n["file"], "logging.file '" + c.file.string() + "': the folder does not exist",
           "create it, or name a file in an existing folder");
    }
  }
  if (n["queue"]) c.queue = number(file, n["queue"], "logging.queue", 16, 1U << 22);
  return c;
}

}  // namespace eft::config::detail
