#pragma once
/// TLS (OpenSSL through Asio) for terminal listeners and host links: contexts made from a tls_config,
/// with errors that name the config file, the line and the fix. TLS 1.2 or later only.

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "eft/config/switch.hpp"

namespace eft::switch_core {

/// A server context for a listener: presents cert_file/key_file; with verify_peer, demands a client
/// certificate that verifies against ca_file (mutual TLS). `where` ("switch.yaml:12: listener pos")
/// prefixes errors. Throws std::runtime_error when a file does not load or the key does not match.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const config::tls_config& cfg,
                                                                   const std::string& where);

/// A client context for a host link: with verify_peer, the host's certificate must verify against
/// ca_file; with cert_file/key_file, a client certificate is presented (mutual TLS). Throws
/// std::runtime_error like make_server_tls_context.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const config::tls_config& cfg,
                                                                   const std::string& where);

/// The reason of the last OpenSSL error of this thread (empty when none), and clears the queue.
std::string last_tls_error();

}  // namespace eft::switch_core
