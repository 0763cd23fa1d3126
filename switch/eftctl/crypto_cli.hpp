#pragma once
// Shared plumbing of the `eftctl crypto ...` calculator commands: registration, argument parsing
// and the output contract (uppercase hex, one line per result or one JSON object with --json;
// malformed input: exit status 1 and a one-line reason on stderr).

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "eft/crypto/bytes.hpp"
#include "eft/crypto/error.hpp"

namespace eftctl::crypto_cli {

/// Thrown by the helpers below on malformed input; turned into exit status 1 and one line.
struct bad_input {
  std::string reason;
};

/// Adds commands under `eftctl crypto`. Each command family registers one function from its own
/// source file with a namespace-scope `const bool registered = crypto_cli::register_commands(...)`.
using registrar = std::function<void(CLI::App& crypto, int& exit_status)>;
bool register_commands(registrar r);
const std::vector<registrar>& registrars();

/// Hex argument to bytes: bad_input naming the option on odd length or a non-hex digit.
eft::crypto::bytes hex_arg(const std::string& option, const std::string& value);
/// Hex key argument (wiped memory), with its length checked against the allowed lengths.
eft::crypto::secure_bytes key_arg(const std::string& option, const std::string& value,
                                  std::initializer_list<std::size_t> lengths);
/// Decimal digits with a length range: bad_input otherwise.
std::string digits_arg(const std::string& option, const std::string& value, std::size_t min, std::size_t max);

/// Turns a crypto failure into bad_input (its message).
template <typename T>
T take(eft::crypto::outcome<T> r) {
  if (!r) throw bad_input{r.error().message()};
  return std::move(r).value();
}

/// Prints results: with json, one object {"name": "value", ...}; otherwise the first value alone
/// on one line (further values each on their own line as "name: value"; pass one result for the
/// one-line contract).
void print(bool json, const std::vector<std::pair<std::string, std::string>>& results);

/// Runs a command body: returns 0, or 1 after printing the reason of a bad_input.
int run(const std::function<void()>& body);

}  // namespace eftctl::crypto_cli
