#include "eft/switch/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <stdexcept>

namespace eft::switch_core {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what, const std::string& hint) {
  throw std::runtime_error(where + ": " + what + (hint.empty() ? "" : " (" + hint + ")"));
}

std::string reason(const boost::system::error_code& ec) {
  std::string s = ec.message();
  const std::string more = last_tls_error();
  if (!more.empty() && more != s) s += ": " + more;
  return s;
}

void load_identity(ssl::context& ctx, const config::tls_config& cfg, const std::string& where) {
  if (cfg.cert_file.empty()) return;
  boost::system::error_code ec;
  if (ctx.use_certificate_chain_file(cfg.cert_file.string(), ec)) {
    fail(where, "tls.cert_file " + cfg.cert_file.string() + " does not load: " + reason(ec),
         "a PEM certificate, optionally followed by its chain");
  }
  if (ctx.use_private_key_file(cfg.key_file.string(), ssl::context::pem, ec)) {
    fail(where, "tls.key_file " + cfg.key_file.string() + " does not load: " + reason(ec),
         "an unencrypted PEM private key readable by the switch's user");
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    fail(where, "tls.key_file " + cfg.key_file.string() + " is not the key of " + cfg.cert_file.string(),
         "give the private key that belongs to the certificate");
  }
}

void load_ca(ssl::context& ctx, const config::tls_config& cfg, const std::string& where) {
  if (cfg.ca_file.empty()) return;
  boost::system::error_code ec;
  if (ctx.load_verify_file(cfg.ca_file.string(), ec)) {
    fail(where, "tls.ca_file " + cfg.ca_file.string() + " does not load: " + reason(ec),
         "a PEM bundle of the CA certificates that sign the peers");
  }
}

std::shared_ptr<ssl::context> base_context(ssl::context::method m) {
  auto ctx = std::make_shared<ssl::context>(m);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  // Smaller idle TLS sessions: OpenSSL's read and write buffers are released between records.
  SSL_CTX_set_mode(ctx->native_handle(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

std::string last_tls_error() {
  std::string s;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s = buf;  // the last one is the most specific
  }
  return s;
}

std::shared_ptr<ssl::context> make_server_tls_context(const config::tls_config& cfg, const std::string& where) {
  auto ctx = base_context(ssl::context::tls_server);
  load_identity(*ctx, cfg, where);
  load_ca(*ctx, cfg, where);
  if (cfg.verify_peer) {
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    // The CA names sent to clients, so a terminal holding several certificates picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.ca_file.string().c_str())) {
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const config::tls_config& cfg, const std::string& where) {
  auto ctx = base_context(ssl::context::tls_client);
  load_identity(*ctx, cfg, where);
  load_ca(*ctx, cfg, where);
  ctx->set_verify_mode(cfg.verify_peer ? ssl::verify_peer : ssl::verify_none);
  return ctx;
}

}  // namespace eft::switch_core
