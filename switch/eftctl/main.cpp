// eftctl: decode and encode messages, check configs, key and crypto operations.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "commands.hpp"

int main(int argc, char** argv) {
  try {
    CLI::App app{"eftctl: operator tool of the EFT switch"};
    app.require_subcommand(1);
    int exit_status = 0;
    eftctl::add_iso8583_command(app, exit_status);
    eftctl::add_crypto_command(app, exit_status);
    eftctl::add_keys_command(app, exit_status);
    eftctl::add_emv_command(app, exit_status);
    eftctl::add_config_command(app, exit_status);
    eftctl::add_journal_command(app, exit_status);
    eftctl::add_saf_command(app, exit_status);
    if (argc > 1 && std::string_view(argv[1]) == "crypto") {
      if (const std::string why = eftctl::crypto_refusal(); !why.empty()) {
        std::cerr << "eftctl: " << why << '\n';
        return 1;
      }
    }
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      if (e.get_exit_code() == 0) return app.exit(e);  // --help
      // Bad command lines follow the same contract as bad input: status 1 and one line.
      std::cerr << "eftctl: " << e.what() << " (see --help)\n";
      return 1;
    }
    return exit_status;
  } catch (const std::exception& e) {
    std::cerr << "eftctl: " << e.what() << '\n';
    return 2;
  }
}
