#pragma once
// Sub-commands of eftctl. Each registers its options on the app and returns the exit status to use
// after parsing through its callback.

#include <CLI/CLI.hpp>

namespace eftctl {

/// `eftctl iso8583 decode|encode|specs`.
void add_iso8583_command(CLI::App& app, int& exit_status);

/// `eftctl crypto ...`: the calculator commands registered through crypto_cli.hpp.
void add_crypto_command(CLI::App& app, int& exit_status);

/// `eftctl emv decode --hex HEX [--json] [--reveal]`.
void add_emv_command(CLI::App& app, int& exit_status);

/// `eftctl keys list|generate|import|export --config FILE`.
void add_keys_command(CLI::App& app, int& exit_status);

/// `eftctl config check FILE`: validates a switch config like `eftswitch --check-config FILE`.
void add_config_command(CLI::App& app, int& exit_status);
/// `eftctl journal --config FILE [--terminal T] [--rrn R] [--pan PAN | --pan-hash H] [--from T] [--to T]`.
void add_journal_command(CLI::App& app, int& exit_status);

/// `eftctl saf list|retry|purge --config FILE`.
void add_saf_command(CLI::App& app, int& exit_status);

/// Clear-key calculators are refused when the deployment config named by the EFT_CONFIG
/// environment variable marks its HSM as production. Returns an empty string when allowed, else why.
std::string crypto_refusal();

}  // namespace eftctl
