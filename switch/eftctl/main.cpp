// eftctl: decode and encode messages, check configs, key and crypto operations.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
  try {
    CLI::App app{"eftctl: operator tool of the EFT switch"};
    app.require_subcommand(1);
    int exit_status = 0;
    eftctl::add_iso8583_command(app, exit_status);
    eftctl::add_crypto_command(app, exit_status);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e);
    }
    return exit_status;
  } catch (const std::exception& e) {
    std::cerr << "eftctl: " << e.what() << '\n';
    return 2;
  }
}
