// HSM operations as the switch calls them, on each backend side by side (…/software, …/pkcs11):
// PIN translation from a terminal PIN key and from DUKPT to a zone PIN key, ARQC verification with
// ARPC, and MAC generation. Baseline in the same run: one TDES block encryption through the same
// OpenSSL primitives (a PIN translation needs at least two of them).
//
// The pkcs11 backend runs against SoftHSM2 in a token made for the run in a temporary folder
// (SOFTHSM2_CONF, softhsm2-util); its cases report an error when SoftHSM2 is not installed.
//
//   build/bin/bench_crypto --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/pkcs11_hsm.hpp"
#include "eft/crypto/primitives.hpp"
#include "eft/crypto/software_hsm.hpp"

namespace {

using namespace eft::crypto;

bytes hex(std::string_view h) {
  return from_hex(h).value();
}

tr31_header header(std::string usage, char algorithm, char mode) {
  tr31_header h;
  h.usage = std::move(usage);
  h.algorithm = algorithm;
  h.mode_of_use = mode;
  return h;
}

enum class backend { software, pkcs11 };

// Loads the test keys of the published vectors.
bool load_keys(hsm& h) {
  const auto load = [&](const char* name, const tr31_header& hdr, std::string_view k) {
    std::vector<secure_bytes> parts;
    parts.push_back(secure_from_hex(k).value());
    return static_cast<bool>(h.import_components(name, hdr, parts, ""));
  };
  return load("tpk.bench", header("P0", 'T', 'B'), "0123456789ABCDEFFEDCBA9876543210") &&
         load("zpk.bench", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A") &&
         load("bdk.bench", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210") &&
         load("imk.bench", header("E0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210") &&
         load("zak.bench", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
}

// A software HSM with the test keys, in a temporary key file.
std::shared_ptr<hsm> make_software() {
  const auto dir = std::filesystem::temp_directory_path() / ("eft-bench-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  auto h = software_hsm::open(dir / "keys.yaml", random_bytes(32).value()).value();
  const bool loaded = load_keys(*h);
  std::filesystem::remove_all(dir);
  if (!loaded) std::abort();
  return h;
}

// A pkcs11 HSM on a SoftHSM2 token of its own (nullptr when SoftHSM2 is not installed).
std::shared_ptr<hsm> make_pkcs11() {
  std::filesystem::path module;
  for (const char* p : {"/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"}) {
    std::error_code ec;
    if (std::filesystem::exists(p, ec)) module = p;
  }
  if (module.empty()) return nullptr;
  static const auto dir =
      std::filesystem::temp_directory_path() / ("eft-bench-softhsm-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir / "tokens");
  std::ofstream(dir / "softhsm2.conf") << "directories.tokendir = " << (dir / "tokens").string()
                                       << "\nobjectstore.backend = file\nlog.level = ERROR\n";
  ::setenv("SOFTHSM2_CONF", (dir / "softhsm2.conf").c_str(), 1);
  ::setenv("EFT_BENCH_HSM_PIN", "1234", 1);
  if (std::system("softhsm2-util --init-token --free --label eft-bench --so-pin 87654321 --pin 1234 >/dev/null") != 0) {
    return nullptr;
  }
  std::atexit([] { std::filesystem::remove_all(dir); });
  pkcs11_options o;
  o.module = module;
  o.token_label = "eft-bench";
  o.pin_env = "EFT_BENCH_HSM_PIN";
  auto h = pkcs11_hsm::open(o);
  if (!h || !load_keys(**h)) std::abort();
  return *h;
}

std::shared_ptr<hsm> make_hsm(backend b) {
  static std::shared_ptr<hsm> software = make_software();
  if (b == backend::software) return software;
  static std::shared_ptr<hsm> pkcs11 = make_pkcs11();
  return pkcs11;
}

void baseline_tdes_block(benchmark::State& state) {
  const auto key = hex("0123456789ABCDEFFEDCBA9876543210");
  const auto block = hex("041274EDCBA9876F");
  std::uint8_t out[8];
  for (auto _ : state) {
    benchmark::DoNotOptimize(ecb_encrypt(cipher::tdes, key, block, out));
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

void pin_translate_tpk_to_zpk(benchmark::State& state, backend b) {
  auto h = make_hsm(b);
  if (!h) {
    state.SkipWithError("SoftHSM2 is not installed");
    return;
  }
  const auto block = encrypt_pin(pin_block_format::iso0, cipher::tdes, hex("0123456789ABCDEFFEDCBA9876543210"), "1234",
                                 "4012345678909")
                         .value();
  for (auto _ : state) {
    auto r = h->translate_pin({"tpk.bench", {}, pin_block_format::iso0}, block, {"zpk.bench", pin_block_format::iso0},
                              "4012345678909");
    if (!r) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void pin_translate_dukpt_to_zpk(benchmark::State& state, backend b) {
  auto h = make_hsm(b);
  if (!h) {
    state.SkipWithError("SoftHSM2 is not installed");
    return;
  }
  // X9.24-1:2009 Annex A, KSN ...E00001: PIN 1234, PAN 4012345678909.
  const auto block = hex("1B9C1845EB993A7A");
  const auto ksn = hex("FFFF9876543210E00001");
  for (auto _ : state) {
    auto r = h->translate_pin({"bdk.bench", ksn, pin_block_format::iso0}, block, {"zpk.bench", pin_block_format::iso0},
                              "4012345678909");
    if (!r) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void arqc_verify_cvn18(benchmark::State& state, backend b) {
  auto h = make_hsm(b);
  if (!h) {
    state.SkipWithError("SoftHSM2 is not installed");
    return;
  }
  arqc_check c;  // knovichikhin/pyemv tests/test_cvn_hsm.py, Visa CVN 18
  c.imk = "imk.bench";
  c.cvn = 18;
  c.pan = "1234567890123456";
  c.psn = "00";
  c.atc = hex("001C");
  c.data = hex("0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800");
  c.arqc = hex("7A788EA6B8A3E733");
  c.csu = hex("00000000");
  for (auto _ : state) {
    auto r = h->verify_arqc(c);
    if (!r || !r->valid) state.SkipWithError("ARQC did not verify");
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void mac_generate_retail(benchmark::State& state, backend b) {
  auto h = make_hsm(b);
  if (!h) {
    state.SkipWithError("SoftHSM2 is not installed");
    return;
  }
  mac_spec spec;
  spec.key = "zak.bench";
  spec.algorithm = mac_algorithm::iso9797_1_alg3;
  const bytes data(static_cast<std::size_t>(state.range(0)), 0x5A);
  for (auto _ : state) {
    auto r = h->generate_mac(spec, data);
    if (!r) state.SkipWithError(r.error().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

}  // namespace

BENCHMARK(baseline_tdes_block);
BENCHMARK_CAPTURE(pin_translate_tpk_to_zpk, software, backend::software);
BENCHMARK_CAPTURE(pin_translate_tpk_to_zpk, pkcs11, backend::pkcs11);
BENCHMARK_CAPTURE(pin_translate_dukpt_to_zpk, software, backend::software);
BENCHMARK_CAPTURE(pin_translate_dukpt_to_zpk, pkcs11, backend::pkcs11);
BENCHMARK_CAPTURE(arqc_verify_cvn18, software, backend::software);
BENCHMARK_CAPTURE(arqc_verify_cvn18, pkcs11, backend::pkcs11);
BENCHMARK_CAPTURE(mac_generate_retail, software, backend::software)->Arg(64)->Arg(256);
BENCHMARK_CAPTURE(mac_generate_retail, pkcs11, backend::pkcs11)->Arg(64)->Arg(256);
// Two threads on one token: what a second worker adds (is a token slower with two threads?).
BENCHMARK_CAPTURE(pin_translate_tpk_to_zpk, pkcs11_2threads, backend::pkcs11)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
