// The operations sections of a switch config: metrics, logging and tls on listeners and links. Paths
// are relative to the config file and checked when the config loads; errors name file and line.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "eft/config/switch.hpp"

namespace eft::config {
namespace {

class SwitchOpsConfig : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() / ("eft-ops-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "tls");
    for (const char* f : {"tls/server.pem", "tls/server.key", "tls/ca.pem"}) std::ofstream(dir / f) << "PEM\n";
    file = dir / "switch.yaml";
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // Listener and link with the given tls: maps (empty: none), then `tail`.
  static std::string yaml(const std::string& listener_tls, const std::string& link_tls, const std::string& tail = {}) {
    std::string s = "listeners:\n  - name: pos\n    port: 5000\n    spec: iso87-binary\n";
    if (!listener_tls.empty()) s += "    tls: " + listener_tls + "\n";
    s += "links:\n  - name: acq1\n    addresses: [127.0.0.1:7000]\n    spec: iso87-ascii\n";
    if (!link_tls.empty()) s += "    tls: " + link_tls + "\n";
    return s + tail;
  }
  std::string error_of(const std::string& text) {
    try {
      (void)parse_switch_config_text(text, file);
    } catch (const config_error& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir;
  std::filesystem::path file;
};

TEST_F(SwitchOpsConfig, DefaultsWithoutTheSections) {
  const auto c = parse_switch_config_text(yaml("", ""), file);
  EXPECT_FALSE(c.metrics.has_value());
  EXPECT_EQ(c.logging.format, "text");
  EXPECT_TRUE(c.logging.file.empty());
  EXPECT_FALSE(c.listeners[0].tls.has_value());
  EXPECT_FALSE(c.links[0].tls.has_value());
}

TEST_F(SwitchOpsConfig, MetricsAndLogging) {
  const auto c = parse_switch_config_text(
      yaml("", "", "metrics: {address: 0.0.0.0, port: 0}\nlogging: {format: json, file: eftswitch.log, queue: 1024}\n"),
      file);
  ASSERT_TRUE(c.metrics.has_value());
  EXPECT_EQ(c.metrics->address, "0.0.0.0");
  EXPECT_EQ(c.metrics->port, 0);
  EXPECT_EQ(c.logging.format, "json");
  EXPECT_EQ(c.logging.file, dir / "eftswitch.log");
  EXPECT_EQ(c.logging.queue, 1024U);
  EXPECT_EQ(error_of(yaml("", "", "logging: {format: xml}\n")),
            file.string() + ":9: logging.format 'xml' is unknown (use text or json)");
  EXPECT_EQ(error_of(yaml("", "", "logging: {file: nowhere/x.log}\n")),
            file.string() + ":9: logging.file '" + (dir / "nowhere/x.log").string() +
                "': the folder does not exist (create it, or name a file in an existing folder)");
  EXPECT_EQ(error_of(yaml("", "", "metrics: {port: 70000}\n")),
            file.string() + ":9: metrics.port '70000' is not a number from 0 to 65535");
}

TEST_F(SwitchOpsConfig, TlsPathsAreRelativeToTheConfigFile) {
  const auto c = parse_switch_config_text(
      yaml("{cert_file: tls/server.pem, key_file: tls/server.key, ca_file: tls/ca.pem, verify_peer: true}",
           "{ca_file: tls/ca.pem, verify_peer: true, server_name: host.example}"),
      file);
  ASSERT_TRUE(c.listeners[0].tls.has_value());
  EXPECT_EQ(c.listeners[0].tls->cert_file, dir / "tls/server.pem");
  EXPECT_EQ(c.listeners[0].tls->key_file, dir / "tls/server.key");
  EXPECT_EQ(c.listeners[0].tls->ca_file, dir / "tls/ca.pem");
  EXPECT_TRUE(c.listeners[0].tls->verify_peer);
  ASSERT_TRUE(c.links[0].tls.has_value());
  EXPECT_EQ(c.links[0].tls->server_name, "host.example");
  EXPECT_TRUE(c.links[0].tls->cert_file.empty());
}

TEST_F(SwitchOpsConfig, TlsErrorsNameFileLineAndFix) {
  EXPECT_EQ(error_of(yaml("{cert_file: tls/missing.pem, key_file: tls/server.key}", "")),
            file.string() + ":5: listeners[0].tls.cert_file '" + (dir / "tls/missing.pem").string() +
                "' does not exist (the certificate file, PEM; relative paths start at the config file's folder)");
  EXPECT_EQ(error_of(yaml("{key_file: tls/server.key}", "")),
            file.string() +
                ":5: listeners[0].tls has no cert_file (a TLS listener presents a certificate: add cert_file and "
                "key_file)");
  EXPECT_EQ(error_of(yaml("{cert_file: tls/server.pem}", "")),
            file.string() +
                ":5: listeners[0].tls has cert_file but no key_file (add key_file: the certificate's private key "
                "(PEM))");
  EXPECT_EQ(error_of(yaml("", "{verify_peer: true}")),
            file.string() +
                ":9: links[0].tls.verify_peer needs ca_file (add ca_file: the CA bundle peer certificates are "
                "checked against)");
  EXPECT_EQ(error_of(yaml("", "{ca: tls/ca.pem}")),
            file.string() +
                ":9: unknown key 'links[0].tls.ca' (allowed keys: cert_file, key_file, ca_file, verify_peer, "
                "server_name)");
  EXPECT_EQ(error_of(yaml("{cert_file: tls, key_file: tls/server.key}", "")),
            file.string() + ":5: listeners[0].tls.cert_file '" + (dir / "tls").string() +
                "' is not a readable file (check the path and that the switch's user may read it)");
}

}  // namespace
}  // namespace eft::config
