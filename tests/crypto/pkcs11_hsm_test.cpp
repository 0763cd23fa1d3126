// The pkcs11 backend against SoftHSM2, beyond the conformance suite: opening (token, PIN, module),
// missing keys, known answers for what runs inside the token (AES DUKPT derivation, CMAC, check
// values), the same answers as the software backend over many inputs, keys that outlive the
// process, token objects seen from outside (pkcs11-tool, when OpenSC is installed), and use from
// several threads.
//
// Vectors (copied from /work/shared/vectors/payment-crypto.yaml, with their sources):
//  [X24-3]  ANSI X9.24-3-2017 supplement test vectors (also moov-io/dukpt pkg/aes/aes_test.go):
//           BDK FEDCBA9876543210F1F1F1F1F1F1F1F1, initial key ID 1234567890123456, counter 1:
//           PIN key AF8CB133A78F8DC2D1359F18527593FB, MAC generation key
//           A2DC23DE6FDE0824A2BC321E08E4B8B7; the format 4 block A912150391AB65A67E52883D81CE2D15
//           holds PIN 1234 for PAN 4111111111111111 under that PIN key (yaml lines 29-56).
//  [X24-1]  ANSI X9.24-1:2009 Annex A: BDK 0123456789ABCDEFFEDCBA9876543210, KSN
//           FFFF9876543210E00001: MAC request key 042666B4918430A368DE9628D03984C9 (yaml 6-18).
//  [800-38B] NIST SP 800-38B / RFC 4493 AES-CMAC examples 1 and 2 (yaml 62-68).
//  [KCV]    X9.24 / PCI PIN 15-1 AES check value: key 00112233445566778899AABBCCDDEEFF -> 53E107B36E
//           (yaml 70-74).
//  [pyemv]  knovichikhin/pyemv tests/test_cvn_hsm.py: IMK 0123456789ABCDEFFEDCBA9876543210, PAN
//           1234567890123456, PSN 00, ATC 001C (yaml 76-95).
//  TR-31 blocks, as collected with their sources in tests/crypto/tr31_test.cpp: [T31] ASC X9 TR 31-2018
//           Annex A examples A.7.2.1, A.7.2.2, A.7.3.2, A.7.4; [X143] ANSI X9.143 8.1; [PS10] blocks made
//           by a Thales payShield 10k (openemv/tr31 test/tr31_decrypt_test.c); [PSEC] knovichikhin/psec
//           tests/test_tr31.py; [BPT] EFTlab BP-Tools blocks in chhil/TR31Keyblock TR31KeyBlockTest.java.
#include <gtest/gtest.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <thread>

#include "eft/crypto/async_hsm.hpp"
#include "eft/crypto/card_verification.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/emv.hpp"
#include "eft/crypto/kcv.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/pkcs11_hsm.hpp"
#include "eft/crypto/software_hsm.hpp"
#include "softhsm_token.hpp"

namespace eft::crypto {
namespace {

bytes hex(std::string_view h) {
  return from_hex(h).value();
}
secure_bytes key(std::string_view h) {
  return secure_from_hex(h).value();
}
std::string text(const clear_pin& p) {
  return {p.begin(), p.end()};
}

tr31_header header(std::string usage, char algorithm, char mode, char exportability = 'N') {
  tr31_header h;
  h.version = 'D';
  h.usage = std::move(usage);
  h.algorithm = algorithm;
  h.mode_of_use = mode;
  h.exportability = exportability;
  return h;
}

const std::string label = "eft-pkcs11-test";

class Pkcs11Hsm : public ::testing::Test {
 protected:
  void SetUp() override {
    module_ = test::softhsm_library();
    if (!module_) GTEST_SKIP() << test::softhsm_skip_reason;
    dir_ = std::filesystem::temp_directory_path() / ("eft-pkcs11-" + std::to_string(std::random_device{}()));
    const auto why = test::make_softhsm_token(dir_, label);
    ASSERT_TRUE(why.empty()) << why;
    open();
    auto sw = software_hsm::open(dir_ / "keys.yaml", random_bytes(32).value());
    ASSERT_TRUE(sw) << sw.error().message();
    sw_ = *sw;
  }
  void TearDown() override {
    hsm_.reset();
    sw_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  pkcs11_options options() const { return test::softhsm_options(*module_, label); }
  void open(std::size_t sessions = 8) {
    auto o = options();
    o.max_sessions = sessions;
    auto h = pkcs11_hsm::open(o);
    ASSERT_TRUE(h) << h.error().message();
    hsm_ = *h;
  }

  // Loads a key into the pkcs11 backend and the software backend (the reference).
  void load(const std::string& name, const tr31_header& hdr, std::string_view key_hex, std::string_view kcv = "") {
    for (hsm* h : {static_cast<hsm*>(hsm_.get()), static_cast<hsm*>(sw_.get())}) {
      std::vector<secure_bytes> parts;
      parts.push_back(key(key_hex));
      auto r = h->import_components(name, hdr, parts, kcv);
      ASSERT_TRUE(r) << h->backend() << " " << name << ": " << r.error().message();
    }
  }

  // Runs a pkcs11-tool command against the test token; false when OpenSC is not installed.
  bool pkcs11_tool(const std::string& args, std::string* output = nullptr) {
    if (std::system("command -v pkcs11-tool >/dev/null 2>&1") != 0) return false;
    const auto out = dir_ / "pkcs11-tool.out";
    const std::string command = "pkcs11-tool --module " + module_->string() + " --token-label " + label +
                                " --login --pin " + test::softhsm_user_pin + " " + args + " >" + out.string() + " 2>&1";
    const int rc = std::system(command.c_str());
    if (output != nullptr) {
      std::ifstream in(out);
      output->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    EXPECT_EQ(rc, 0) << command;
    return true;
  }

  std::optional<std::filesystem::path> module_;
  std::filesystem::path dir_;
  std::shared_ptr<pkcs11_hsm> hsm_;
  std::shared_ptr<software_hsm> sw_;
};

// ------------------------------------------------------------------------------------ opening

TEST_F(Pkcs11Hsm, NamesTheMissingToken) {
  auto o = options();
  o.token_label = "no-such-token";
  auto h = pkcs11_hsm::open(o);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, errc::backend);
  EXPECT_NE(h.error().detail.find("no token labelled 'no-such-token'"), std::string::npos) << h.error().detail;
}

TEST_F(Pkcs11Hsm, RefusesAWrongPinWithoutShowingIt) {
  hsm_.reset();  // the login is the application's, per token: with a session open, no PIN is asked
  ::setenv("EFT_TEST_WRONG_PIN", "97531", 1);
  auto o = options();
  o.pin_env = "EFT_TEST_WRONG_PIN";
  auto h = pkcs11_hsm::open(o);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, errc::backend);
  EXPECT_NE(h.error().detail.find("CKR_PIN_INCORRECT"), std::string::npos) << h.error().detail;
  EXPECT_NE(h.error().detail.find("EFT_TEST_WRONG_PIN"), std::string::npos) << h.error().detail;
  EXPECT_EQ(h.error().detail.find("97531"), std::string::npos) << h.error().detail;
  ::unsetenv("EFT_TEST_WRONG_PIN");
  open();  // the right PIN still works after a refusal
  EXPECT_TRUE(hsm_->list_keys());
}

TEST_F(Pkcs11Hsm, NeedsThePinVariableAndALoadableModule) {
  auto o = options();
  o.pin_env = "EFT_TEST_PIN_NOT_SET";
  ::unsetenv("EFT_TEST_PIN_NOT_SET");
  auto h = pkcs11_hsm::open(o);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, errc::bad_input);
  EXPECT_NE(h.error().detail.find("EFT_TEST_PIN_NOT_SET"), std::string::npos);

  o = options();
  o.module = dir_ / "no-such-module.so";
  h = pkcs11_hsm::open(o);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, errc::backend);
  EXPECT_NE(h.error().detail.find("cannot load the PKCS#11 module"), std::string::npos) << h.error().detail;

  o = options();
  o.module = dir_ / "softhsm2.conf";  // exists, is no library
  EXPECT_EQ(pkcs11_hsm::open(o).error().code, errc::backend);
}

TEST_F(Pkcs11Hsm, MissingKeysAreUnknownKeys) {
  load("zpk.test", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  EXPECT_EQ(hsm_->describe_key("nope").error().code, errc::unknown_key);
  const auto block = hex("1B9C1845EB993A7A");
  EXPECT_EQ(hsm_->translate_pin({"nope", {}, pin_block_format::iso0}, block, {"zpk.test", pin_block_format::iso0},
                                "4012345678909")
                .error()
                .code,
            errc::unknown_key);
  EXPECT_EQ(hsm_->translate_pin({"zpk.test", {}, pin_block_format::iso0}, block, {"nope", pin_block_format::iso0},
                                "4012345678909")
                .error()
                .code,
            errc::unknown_key);
  arqc_check c;
  c.imk = "nope";
  EXPECT_EQ(hsm_->verify_arqc(c).error().code, errc::unknown_key);
  EXPECT_EQ(hsm_->import_key("zpk.new", "nope", "B0080P0TE00E0000").error().code, errc::unknown_key);
  EXPECT_EQ(hsm_->export_key("zpk.test", "nope").error().code, errc::key_usage);  // not exportable comes first
  EXPECT_EQ(hsm_->export_key("nope", "zpk.test").error().code, errc::unknown_key);
}

TEST_F(Pkcs11Hsm, RefusesBadNamesAndDuplicates) {
  std::vector<secure_bytes> parts;
  parts.push_back(key("0123456789ABCDEFFEDCBA9876543210"));
  EXPECT_EQ(hsm_->import_components("zak#left", header("M0", 'T', 'C'), parts, "").error().code, errc::bad_input);
  ASSERT_TRUE(hsm_->import_components("zak.a", header("M0", 'T', 'C'), parts, ""));
  EXPECT_EQ(hsm_->import_components("zak.a", header("M0", 'T', 'C'), parts, "").error().code, errc::bad_input);
  EXPECT_EQ(hsm_->generate_key("zak.b", header("M0", 'T', 'C'), 15).error().code, errc::bad_key_length);
}

// ------------------------------------------------------------------------ known answers in the token

// [X24-3]: the AES DUKPT PIN key is derived inside the token (initial key, one intermediate key,
// working key) and opens the published format 4 block.
TEST_F(Pkcs11Hsm, AesDukptPinKeyDerivedInTheTokenOpensThePublishedBlock) {
  load("bdk.aes", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1");
  load("zpk.tdes", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  load("zpk.aes", header("P0", 'A', 'B'), "000102030405060708090A0B0C0D0E0F");
  const pin_source from{"bdk.aes", hex("123456789012345600000001"), pin_block_format::iso4};
  const auto block = hex("A912150391AB65A67E52883D81CE2D15");
  auto out = hsm_->translate_pin(from, block, {"zpk.tdes", pin_block_format::iso0}, "4111111111111111");
  ASSERT_TRUE(out) << out.error().message();
  auto pin = decrypt_pin(pin_block_format::iso0, cipher::tdes, key("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A"), *out,
                         "4111111111111111");
  ASSERT_TRUE(pin) << pin.error().message();
  EXPECT_EQ(text(*pin), "1234");

  out = hsm_->translate_pin(from, block, {"zpk.aes", pin_block_format::iso4}, "4111111111111111");
  ASSERT_TRUE(out) << out.error().message();
  pin = decrypt_pin(pin_block_format::iso4, cipher::aes, key("000102030405060708090A0B0C0D0E0F"), *out,
                    "4111111111111111");
  ASSERT_TRUE(pin) << pin.error().message();
  EXPECT_EQ(text(*pin), "1234");

  // The same block under counter 2 is not a PIN block any more.
  const pin_source wrong{"bdk.aes", hex("123456789012345600000002"), pin_block_format::iso4};
  EXPECT_EQ(hsm_->translate_pin(wrong, block, {"zpk.tdes", pin_block_format::iso0}, "4111111111111111").error().code,
            errc::bad_pin_block);
}

// [X24-3] and [X24-1]: DUKPT MAC keys, compared with MACs made from the published keys.
TEST_F(Pkcs11Hsm, DukptMacsUseThePublishedWorkingKeys) {
  load("bdk.aes", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1");
  load("bdk.tdes", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210", "08D7B4");
  const auto data = hex("4D4143206F766572207468697320646174612C20706C65617365");

  mac_spec aes;
  aes.key = "bdk.aes";
  aes.ksn = hex("123456789012345600000001");
  aes.algorithm = mac_algorithm::cmac;
  aes.length = 16;
  auto mac = hsm_->generate_mac(aes, data);
  ASSERT_TRUE(mac) << mac.error().message();
  EXPECT_EQ(to_hex(*mac), to_hex(cmac(cipher::aes, hex("A2DC23DE6FDE0824A2BC321E08E4B8B7"), data).value()));
  EXPECT_TRUE(hsm_->verify_mac(aes, data, *mac).value());
  aes.dukpt_response = true;  // the verification key is another key
  EXPECT_FALSE(hsm_->verify_mac(aes, data, *mac).value());

  mac_spec tdes;
  tdes.key = "bdk.tdes";
  tdes.ksn = hex("FFFF9876543210E00001");
  tdes.algorithm = mac_algorithm::iso9797_1_alg3;
  mac = hsm_->generate_mac(tdes, data);
  ASSERT_TRUE(mac) << mac.error().message();
  EXPECT_EQ(to_hex(*mac),
            to_hex(mac_iso9797_1_alg3(hex("042666B4918430A368DE9628D03984C9"), data, mac_padding::method1).value()));
}

// [800-38B] in the token (C_Sign with CKM_AES_CMAC) and [KCV] by each of the token paths a check
// value can take: CMAC (MAC key), E(K1) from two encryptions (PIN key), derivation (KEK, BDK).
TEST_F(Pkcs11Hsm, AesCmacAndCheckValuesComputedInTheToken) {
  load("zak.aes", header("M6", 'A', 'C'), "2B7E151628AED2A6ABF7158809CF4F3C");
  mac_spec spec;
  spec.key = "zak.aes";
  spec.algorithm = mac_algorithm::cmac;
  spec.length = 16;
  EXPECT_EQ(to_hex(hsm_->generate_mac(spec, hex("6BC1BEE22E409F96E93D7E117393172A")).value()),
            "070A16B46B4D4144F79BDD9DD04A287C");
  EXPECT_EQ(to_hex(hsm_->generate_mac(spec, {}).value()), "BB1D6929E95937287FA37D129B756746");

  const char* aes_key = "00112233445566778899AABBCCDDEEFF";
  load("m.aes", header("M6", 'A', 'C'), aes_key, "53E107B36E");
  load("p.aes", header("P0", 'A', 'D'), aes_key, "53E107B36E");
  load("k.aes", header("K0", 'A', 'B'), aes_key, "53E107B36E");
  load("b.aes", header("B0", 'A', 'X'), aes_key, "53E107B36E");
  load("e.tdes", header("E0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210", "08D7B4");
  hsm_.reset();  // a new process: check values come from the token, not from the creation
  open();
  for (const char* name : {"m.aes", "p.aes", "k.aes", "b.aes"}) {
    auto info = hsm_->describe_key(name);
    ASSERT_TRUE(info) << name << ": " << info.error().message();
    EXPECT_EQ(info->kcv, "53E107B36E") << name;
  }
  EXPECT_EQ(hsm_->describe_key("e.tdes").value().kcv, "08D7B4");
}

// ------------------------------------------------------------------------ same answers as software

TEST_F(Pkcs11Hsm, MacsMatchTheSoftwareBackend) {
  load("zak.tdes", header("M1", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load("zak.tdes3", header("M1", 'T', 'C'), "0123456789ABCDEFFEDCBA987654321089ABCDEF01234567");
  load("zak.aes", header("M6", 'A', 'C'), "000102030405060708090A0B0C0D0E0F1011121314151617");
  load("zak.hmac", header("M7", 'H', 'C'), "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  load("zak.hmac16", header("M7", 'H', 'C'), "000102030405060708090A0B0C0D0E0F");
  load("bdk.tdes", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  load("bdk.aes", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1");
  load("bdk.aes256", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210F1F1F1F1F1F1F1F1");
  std::mt19937 rng(20240603);
  struct variant {
    const char* key;
    mac_algorithm algorithm;
    std::uint8_t padding;
    std::size_t length;
    const char* ksn;
  };
  const variant variants[] = {
      {"zak.tdes", mac_algorithm::iso9797_1_alg1, 1, 8, ""},
      {"zak.tdes", mac_algorithm::iso9797_1_alg1, 2, 4, ""},
      {"zak.tdes", mac_algorithm::iso9797_1_alg3, 1, 8, ""},
      {"zak.tdes", mac_algorithm::iso9797_1_alg3, 2, 6, ""},
      {"zak.tdes", mac_algorithm::cmac, 1, 8, ""},
      {"zak.tdes3", mac_algorithm::iso9797_1_alg1, 2, 8, ""},
      {"zak.tdes3", mac_algorithm::cmac, 1, 8, ""},
      {"zak.aes", mac_algorithm::iso9797_1_alg1, 2, 16, ""},
      {"zak.aes", mac_algorithm::cmac, 1, 16, ""},
      {"zak.aes", mac_algorithm::cmac, 1, 8, ""},
      {"zak.hmac", mac_algorithm::hmac_sha256, 1, 32, ""},
      {"zak.hmac", mac_algorithm::hmac_sha256, 1, 16, ""},
      {"zak.hmac16", mac_algorithm::hmac_sha256, 1, 32, ""},
      {"bdk.aes256", mac_algorithm::hmac_sha256, 1, 32, "123456789012345600000003"},
      {"bdk.aes256", mac_algorithm::cmac, 1, 16, "123456789012345600000003"},
      {"bdk.tdes", mac_algorithm::iso9797_1_alg3, 1, 8, "FFFF9876543210E00007"},
      {"bdk.tdes", mac_algorithm::iso9797_1_alg1, 2, 8, "FFFF9876543210E00012"},
      {"bdk.aes", mac_algorithm::cmac, 1, 16, "12345678901234560000000B"},
      {"bdk.aes", mac_algorithm::iso9797_1_alg1, 2, 8, "123456789012345600000100"},
  };
  for (const auto& v : variants) {
    for (bool response : {false, true}) {
      for (std::size_t n : {0, 1, 8, 15, 16, 17, 64, 100}) {
        bytes data(n);
        for (auto& b : data) b = static_cast<std::uint8_t>(rng());
        mac_spec spec;
        spec.key = v.key;
        spec.ksn = hex(v.ksn);
        spec.dukpt_response = response;
        spec.algorithm = v.algorithm;
        spec.padding = v.padding;
        spec.length = v.length;
        auto expected = sw_->generate_mac(spec, data);
        ASSERT_TRUE(expected) << v.key << ": " << expected.error().message();
        auto mac = hsm_->generate_mac(spec, data);
        ASSERT_TRUE(mac) << v.key << " algorithm " << static_cast<int>(v.algorithm) << ": " << mac.error().message();
        EXPECT_EQ(to_hex(*mac), to_hex(*expected))
            << v.key << " algorithm " << static_cast<int>(v.algorithm) << " n=" << n;
        EXPECT_TRUE(hsm_->verify_mac(spec, data, *expected).value());
        (*mac)[0] ^= 1;
        EXPECT_FALSE(hsm_->verify_mac(spec, data, *mac).value());
      }
    }
  }
  // A 16-byte HMAC key is stored zero-padded to the 32 bytes the token takes (same MACs, same KCV).
  EXPECT_EQ(hsm_->describe_key("zak.hmac16").value().kcv, sw_->describe_key("zak.hmac16").value().kcv);
  EXPECT_EQ(hsm_->describe_key("zak.hmac16").value().length, 32U);
  // AES-128 DUKPT HMAC keys are 16 bytes: too short for the token's HMAC, and said so.
  mac_spec spec;
  spec.key = "bdk.aes";
  spec.ksn = hex("123456789012345600000003");
  spec.algorithm = mac_algorithm::hmac_sha256;
  spec.length = 32;
  auto mac = hsm_->generate_mac(spec, hex("00"));
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().code, errc::bad_format) << mac.error().message();
}

TEST_F(Pkcs11Hsm, PinTranslationsMatchTheSoftwareBackend) {
  const char* tpk = "0123456789ABCDEFFEDCBA9876543210";
  const char* zpk = "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A";
  const char* zpk_aes = "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F";
  load("tpk", header("P0", 'T', 'D'), tpk);
  load("tpk.aes", header("P0", 'A', 'B'), zpk_aes);
  load("zpk", header("P0", 'T', 'E'), zpk);
  load("zpk.aes", header("P0", 'A', 'E'), zpk_aes);
  load("bdk", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  load("bdk.aes", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1");
  const std::string pan = "4012345678909";
  const std::string pins[] = {"1234", "0000", "987654", "123456789012"};
  struct route {
    pin_block_format in;
    pin_block_format out;
    const char* out_key;
  };
  const route routes[] = {{pin_block_format::iso0, pin_block_format::iso0, "zpk"},
                          {pin_block_format::iso0, pin_block_format::iso3, "zpk"},
                          {pin_block_format::iso3, pin_block_format::iso0, "zpk"},
                          {pin_block_format::iso1, pin_block_format::iso1, "zpk"},
                          {pin_block_format::iso1, pin_block_format::iso0, "zpk"},
                          {pin_block_format::iso0, pin_block_format::iso4, "zpk.aes"}};
  for (const auto& pin : pins) {
    for (const auto& r : routes) {
      auto block = encrypt_pin(r.in, cipher::tdes, key(tpk), pin, pan).value();
      auto out = hsm_->translate_pin({"tpk", {}, r.in}, block, {r.out_key, r.out}, pan);
      ASSERT_TRUE(out) << out.error().message();
      const bool aes = r.out == pin_block_format::iso4;
      auto back = decrypt_pin(r.out, aes ? cipher::aes : cipher::tdes, key(aes ? zpk_aes : zpk), *out, pan);
      ASSERT_TRUE(back) << back.error().message();
      EXPECT_EQ(text(*back), pin);
    }
    // Format 4 in (AES terminal key), format 0 out.
    auto block4 = encrypt_pin(pin_block_format::iso4, cipher::aes, key(zpk_aes), pin, pan).value();
    auto out =
        hsm_->translate_pin({"tpk.aes", {}, pin_block_format::iso4}, block4, {"zpk", pin_block_format::iso0}, pan);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(to_hex(*out), to_hex(encrypt_pin(pin_block_format::iso0, cipher::tdes, key(zpk), pin, pan).value()));
  }
  // DUKPT: both backends give the same format 0 block (format 0 has no random fill).
  for (std::uint32_t counter : {1U, 2U, 3U, 7U, 0x10U, 0x1FU, 0x800U, 0x1FF800U}) {
    bytes ksn = hex("FFFF9876543210E00000");
    ksn[7] = static_cast<std::uint8_t>(ksn[7] | (counter >> 16));
    ksn[8] = static_cast<std::uint8_t>(counter >> 8);
    ksn[9] = static_cast<std::uint8_t>(counter);
    auto device_key = dukpt_tdes_key(hex("0123456789ABCDEFFEDCBA9876543210"), ksn, dukpt_tdes_usage::pin).value();
    auto block = encrypt_pin(pin_block_format::iso0, cipher::tdes, device_key.view(), "4321", pan).value();
    auto a = hsm_->translate_pin({"bdk", ksn, pin_block_format::iso0}, block, {"zpk", pin_block_format::iso0}, pan);
    auto b = sw_->translate_pin({"bdk", ksn, pin_block_format::iso0}, block, {"zpk", pin_block_format::iso0}, pan);
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(to_hex(*a), to_hex(*b)) << counter;
  }
  for (std::uint32_t counter : {1U, 2U, 0x11U, 0xFFFFU, 0xFFFF0000U}) {
    bytes ksn = hex("123456789012345600000000");
    for (int i = 0; i < 4; ++i)
      ksn[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter >> (24 - 8 * i));
    auto device_key = dukpt_aes_key(hex("FEDCBA9876543210F1F1F1F1F1F1F1F1"), ksn, dukpt_aes_usage::pin_encryption,
                                    dukpt_aes_key_type::aes128)
                          .value();
    auto block = encrypt_pin(pin_block_format::iso4, cipher::aes, device_key.view(), "24680", pan).value();
    auto a = hsm_->translate_pin({"bdk.aes", ksn, pin_block_format::iso4}, block, {"zpk", pin_block_format::iso0}, pan);
    auto b = sw_->translate_pin({"bdk.aes", ksn, pin_block_format::iso4}, block, {"zpk", pin_block_format::iso0}, pan);
    ASSERT_TRUE(a) << a.error().message();
    ASSERT_TRUE(b) << b.error().message();
    EXPECT_EQ(to_hex(*a), to_hex(*b)) << counter;
  }
}

TEST_F(Pkcs11Hsm, CardAndPinVerificationMatchTheSoftwareBackend) {
  load("cvk", header("C0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load("pvk.visa", header("V2", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load("pvk.ibm", header("V1", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load("tpk", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  std::mt19937 rng(7);
  const auto digits = [&](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng() % 10));
    return s;
  };
  for (int i = 0; i < 40; ++i) {
    const cvv_input in{"cvk", digits(12 + static_cast<std::size_t>(i % 8)), digits(4), digits(3)};
    auto a = hsm_->generate_cvv(in);
    auto b = sw_->generate_cvv(in);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(*a, *b);
    EXPECT_TRUE(hsm_->verify_cvv(in, *b).value());
    EXPECT_FALSE(hsm_->verify_cvv(in, *b == "000" ? "001" : "000").value());

    const std::string pan = digits(16);
    const std::string pin = digits(4 + static_cast<std::size_t>(i % 9));
    auto block = encrypt_pin(pin_block_format::iso0, cipher::tdes, key("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A"), pin, pan);
    const pin_source from{"tpk", {}, pin_block_format::iso0};
    const pvv_check pvv{"pvk.visa", 1, generate_pvv(key("0123456789ABCDEFFEDCBA9876543210"), 1, pin, pan).value()};
    EXPECT_TRUE(hsm_->verify_pin_pvv(from, *block, pan, pvv).value());
    pvv_check wrong = pvv;
    wrong.pvki = 2;
    EXPECT_EQ(hsm_->verify_pin_pvv(from, *block, pan, wrong).value(),
              sw_->verify_pin_pvv(from, *block, pan, wrong).value());

    ibm3624_check ibm;
    ibm.pvk = "pvk.ibm";
    ibm.decimalization = "0123456789012345";
    ibm.validation_data = pan;
    ibm.offset = ibm3624_offset(key("0123456789ABCDEFFEDCBA9876543210"), ibm.decimalization, pan, pin, 4).value();
    EXPECT_TRUE(hsm_->verify_pin_ibm3624(from, *block, pan, ibm).value());
    ibm.offset = ibm.offset == "0000" ? "0001" : "0000";
    EXPECT_FALSE(hsm_->verify_pin_ibm3624(from, *block, pan, ibm).value());
  }
}

TEST_F(Pkcs11Hsm, ArqcAndArpcMatchTheSoftwareBackendForEveryCvn) {
  const char* imk = "0123456789ABCDEFFEDCBA9876543210";
  load("imk", header("E0", 'T', 'X'), imk);
  const auto data = hex("0000000040000000000000000124800004800001241911050152BF45851800001C03A06010");
  for (int cvn : {10, 16, 17, 18, 20, 21, 22}) {
    for (const char* pan : {"1234567890123456", "1234567890123456789", "541333000000003"}) {
      arqc_check c;
      c.imk = "imk";
      c.cvn = cvn;
      c.pan = pan;
      c.psn = "01";
      c.atc = hex("00A5");
      c.un = hex("1A2B3C4D");
      c.data = data;
      c.arqc = generate_arqc(cvn, hex(imk), c.pan, c.psn, c.atc, c.data, c.un).value();
      if (cvn == 18 || cvn == 22) {
        c.csu = hex("03940000");
        c.proprietary_auth_data = hex("0102");
      } else {
        c.arc = hex("3030");
      }
      auto a = hsm_->verify_arqc(c);
      auto b = sw_->verify_arqc(c);
      ASSERT_TRUE(a) << cvn << ": " << a.error().message();
      ASSERT_TRUE(b) << cvn << ": " << b.error().message();
      EXPECT_TRUE(a->valid) << cvn << " " << pan;
      EXPECT_EQ(to_hex(a->arpc), to_hex(b->arpc)) << cvn << " " << pan;
      c.arqc[7] ^= 0x01;
      a = hsm_->verify_arqc(c);
      ASSERT_TRUE(a);
      EXPECT_FALSE(a->valid);
    }
  }
}

// Malformed input gives the software backend's error kind.
TEST_F(Pkcs11Hsm, ErrorsMatchTheSoftwareBackend) {
  load("tpk", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  load("zak", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load("bdk", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  load("bdk.aes", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1");
  load("imk", header("E0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  load("cvk", header("C0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  const auto same = [&](auto call, const char* what) {
    auto a = call(static_cast<hsm&>(*hsm_));
    auto b = call(static_cast<hsm&>(*sw_));
    ASSERT_FALSE(a) << what;
    ASSERT_FALSE(b) << what;
    EXPECT_EQ(a.error().code, b.error().code)
        << what << ": pkcs11 says " << a.error().message() << "; software says " << b.error().message();
  };
  const auto block = hex("1B9C1845EB993A7A");
  const std::string pan = "4012345678909";
  same(
      [&](hsm& h) {
        return h.translate_pin({"tpk", {}, pin_block_format::iso0}, hex("1B9C18"), {"tpk", pin_block_format::iso0},
                               pan);
      },
      "short block");
  same(
      [&](hsm& h) {
        return h.translate_pin({"tpk", {}, pin_block_format::iso0}, block, {"tpk", pin_block_format::iso0}, "12AB5678");
      },
      "bad PAN");
  same(
      [&](hsm& h) {
        return h.translate_pin({"tpk", {}, pin_block_format::iso0}, block, {"tpk", pin_block_format::iso4}, pan);
      },
      "format 4 under TDES");
  same(
      [&](hsm& h) {
        return h.translate_pin({"bdk", hex("FFFF98765432"), pin_block_format::iso0}, block,
                               {"tpk", pin_block_format::iso0}, pan);
      },
      "KSN length");
  same(
      [&](hsm& h) {
        return h.translate_pin({"bdk", hex("FFFF9876543210E00000"), pin_block_format::iso0}, block,
                               {"tpk", pin_block_format::iso0}, pan);
      },
      "TDES counter 0");
  same(
      [&](hsm& h) {
        return h.translate_pin({"bdk.aes", hex("1234567890123456FFFFFFFF"), pin_block_format::iso4},
                               hex("A912150391AB65A67E52883D81CE2D15"), {"tpk", pin_block_format::iso0}, pan);
      },
      "AES counter exhausted");
  same(
      [&](hsm& h) {
        return h.translate_pin({"tpk", {}, pin_block_format::iso0}, block, {"zak", pin_block_format::iso0}, pan);
      },
      "MAC key as PIN key");
  mac_spec spec;
  spec.key = "zak";
  spec.length = 3;
  same([&](hsm& h) { return h.generate_mac(spec, hex("00")); }, "MAC length 3");
  spec.length = 8;
  spec.padding = 3;
  same([&](hsm& h) { return h.generate_mac(spec, hex("00")); }, "padding 3");
  spec.padding = 1;
  same([&](hsm& h) { return h.verify_mac(spec, hex("00"), hex("0011")); }, "short MAC");
  spec.key = "bdk.aes";
  spec.ksn = hex("123456789012345600000001");
  spec.algorithm = mac_algorithm::iso9797_1_alg3;
  same([&](hsm& h) { return h.generate_mac(spec, hex("00")); }, "algorithm 3 with AES");
  arqc_check c;
  c.imk = "imk";
  c.pan = "1234567890123456";
  c.psn = "00";
  c.atc = hex("001C");
  c.data = hex("00");
  c.arqc = hex("0011223344556677");
  c.cvn = 99;
  same([&](hsm& h) { return h.verify_arqc(c); }, "CVN 99");
  c.cvn = 16;
  same([&](hsm& h) { return h.verify_arqc(c); }, "CVN 16 without UN");
  c.cvn = 10;
  c.psn = "1";
  same([&](hsm& h) { return h.verify_arqc(c); }, "PSN");
  c.psn = "00";
  c.atc = hex("01");
  same([&](hsm& h) { return h.verify_arqc(c); }, "ATC");
  same([&](hsm& h) { return h.verify_cvv({"cvk", "4123456789012345", "8701", "111"}, "85"); }, "CVV length");
  same([&](hsm& h) { return h.generate_cvv({"cvk", "4123456789012345", "870", "111"}); }, "expiry");
}

// ------------------------------------------------------------------------------ keys on the token

TEST_F(Pkcs11Hsm, KeysOutliveTheProcessWithTheirHeaders) {
  load("zak.test", header("M3", 'T', 'C', 'E'), "0123456789ABCDEFFEDCBA9876543210", "08D7B4");
  load("zpk.test", header("P0", 'A', 'B'), "000102030405060708090A0B0C0D0E0F");
  load("cvk.test", header("C0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  auto before = hsm_->list_keys().value();
  hsm_.reset();
  open();
  auto after = hsm_->list_keys();
  ASSERT_TRUE(after) << after.error().message();
  ASSERT_EQ(after->size(), 3U);  // the companions of zak.test and cvk.test are not listed
  for (std::size_t i = 0; i < after->size(); ++i) {
    EXPECT_EQ((*after)[i].name, before[i].name);
    EXPECT_EQ((*after)[i].header.to_string(), before[i].header.to_string());
    EXPECT_EQ((*after)[i].kcv, before[i].kcv);
    EXPECT_EQ((*after)[i].length, before[i].length);
  }
  EXPECT_EQ((*after)[2].name, "zpk.test");
  EXPECT_EQ((*after)[2].header.usage, "P0");
  EXPECT_EQ((*after)[2].header.algorithm, 'A');
  mac_spec spec;
  spec.key = "zak.test";
  const std::string msg = "Now is the time for all ";
  EXPECT_EQ(to_hex(hsm_->generate_mac(spec, bytes(msg.begin(), msg.end())).value()), "A1C72E74EA3FA9B6");
  EXPECT_EQ(hsm_->generate_cvv({"cvk.test", "4123456789012345", "8701", "111"}).value(), "856");
}

TEST_F(Pkcs11Hsm, TokenObjectsAreSensitiveAndCarryTheHeaderInCkaId) {
  load("zpk.test", header("P0", 'T', 'B'), "0123456789ABCDEFFEDCBA9876543210");
  load("zak.test", header("M0", 'T', 'C', 'E'), "0123456789ABCDEFFEDCBA9876543210");
  std::string out;
  if (!pkcs11_tool("--list-objects --type secrkey", &out)) GTEST_SKIP() << "pkcs11-tool (OpenSC) is not installed";
  // "D0000P0TB00N0000" as hex, with the key's label.
  EXPECT_NE(out.find("label:      zpk.test\n  ID:         44303030305030544230304e30303030"), std::string::npos) << out;
  EXPECT_NE(out.find("label:      zak.test#left"), std::string::npos) << out;
  EXPECT_EQ(out.find("0123456789ABCDEF"), std::string::npos);
  EXPECT_EQ(out.find("0123456789abcdef"), std::string::npos);
  // The value cannot be read: pkcs11-tool fails on a sensitive key.
  const std::string read = "pkcs11-tool --module " + module_->string() + " --token-label " + label + " --login --pin " +
                           test::softhsm_user_pin + " --read-object --type secrkey --label zpk.test >/dev/null 2>&1";
  EXPECT_NE(std::system(read.c_str()), 0);
}

TEST_F(Pkcs11Hsm, KeysMadeElsewhereAreUsedOrExplained) {
  load("zak.test", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  const auto key_file = dir_ / "key.bin";
  {
    const auto k = hex("000102030405060708090A0B0C0D0E0F");
    std::ofstream f(key_file, std::ios::binary);
    f.write(reinterpret_cast<const char*>(k.data()), static_cast<std::streamsize>(k.size()));
  }
  // An object of another application (no TR-31 header) and a MAC key whose companion was deleted.
  if (!pkcs11_tool("--write-object " + key_file.string() + " --type secrkey --key-type AES:16 --label other.app")) {
    GTEST_SKIP() << "pkcs11-tool (OpenSC) is not installed";
  }
  pkcs11_tool("--delete-object --type secrkey --label 'zak.test#left'");
  hsm_.reset();
  open();
  auto all = hsm_->list_keys();
  ASSERT_TRUE(all) << all.error().message();
  ASSERT_EQ(all->size(), 1U);
  EXPECT_EQ((*all)[0].name, "zak.test");
  auto other = hsm_->describe_key("other.app");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().detail.find("no TR-31 header"), std::string::npos) << other.error().detail;
  mac_spec spec;
  spec.key = "zak.test";
  auto mac = hsm_->generate_mac(spec, hex("00"));
  ASSERT_FALSE(mac);
  EXPECT_NE(mac.error().detail.find("single-DES companion"), std::string::npos) << mac.error().detail;
  spec.algorithm = mac_algorithm::cmac;  // the token does CMAC without a companion
  EXPECT_TRUE(hsm_->generate_mac(spec, hex("00")));
}

TEST_F(Pkcs11Hsm, AKeyDeletedFromOutsideIsForgotten) {
  load("zak.test", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  mac_spec spec;
  spec.key = "zak.test";
  spec.algorithm = mac_algorithm::cmac;
  ASSERT_TRUE(hsm_->generate_mac(spec, hex("00")));  // the handle is cached now
  if (!pkcs11_tool("--delete-object --type secrkey --label zak.test")) {
    GTEST_SKIP() << "pkcs11-tool (OpenSC) is not installed";
  }
  auto mac = hsm_->generate_mac(spec, hex("00"));
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().code, errc::unknown_key) << mac.error().message();
}

// ------------------------------------------------------------------------------ TR-31 in the token

struct published_block {
  const char* source;
  const char* kbpk;
  const char* key;
  const char* block;
};

// Versions B and D: unwrapped with the KEK inside the token (KBEK/KBAK derived there).
const published_block published_bd[] = {
    {"[T31] A.7.2.2 B", "DD7515F2BFC17F85CE48F3CA25CB21F6", "3F419E1CB7079442AA37474C2EFBF8B8",
     "B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E"},
    {"[T31] A.7.3.2 B, KS block", "1D22BF32387C600AD97F9B97A51311AC", "E8BC63E5479455E26577F715D587FE68",
     "B0104B0TX12S0100KS1800604B120F9292800000BB68BE8680A400D9191AD4ECE45B6E6C0D21C4738A52190E248719E24B433627"},
    {"[T31] A.7.4 D, AES-256 KBPK", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC3"
     "4"},
    {"[X143] 8.1 D, hidden length", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0144P0AE00E00002C77FA3F4A553BED6E88AE5C172A4166E3D4ACA8E2AC71C158A476FAC12C13C3829DE55D3AB54C48F4C4FEF7AC75E90F"
     "C47F1B77E7B19A73ED46E64410082557"},
    {"[PS10] payShield 10k D, AES-256 key", "4141414141414141414141414141414141414141414141414141414141414141",
     "BE19E6A07A760F10EF8E83A226B63AAD141F463FDDD4F47DB244B4023EC3CACC",
     "D0144D0AN00N0000127862F945C2DED04530FAF7CDBC8B0BA10C7AA79BD5E0C2C5D6AC173BF588E4B19ACF1357178D50EA0AB193228E1395"
     "8304FC6149632DFDCADF3A5B3D57E814"},
    {"[PSEC] B, 3-key KBPK", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC", "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
     "B0096M3TC00E0000C7C6FE86A5DE769C20DCA238C52341378B484D544A9764D43963C3B2824AE56C2D07A565DD3AB342"},
    {"[BPT] D, AES-192 KBPK", "6BF89E64F80DBC70E9D6AEB03454E6544A67F725436E3BD3", "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0TE00E00004101636D69EDAA41ACA5596D662C3AAC23A14B4305C5D0A434476F50DD68BFDA0A4EB63DC27DB6DAEA0E6AC684BABDB"
     "E"},
    {"[BPT] D, AES-128 KBPK", "F45185EADC5B799819DC8F4C3B58EC73", "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0TE00E000013B674A99811C18AB8BCFB26D347F8449E68FC074858D85DC452E43910CDC2A5E9BFE75DC94415EC0A82072217D04E3"
     "5"},
};

TEST_F(Pkcs11Hsm, UnwrapsPublishedBlocksWithTheKekInTheToken) {
  int i = 0;
  for (const auto& b : published_bd) {
    const std::string kek = "kek." + std::to_string(i);
    const std::string name = "imported." + std::to_string(i++);
    const bool aes_kbpk = std::string_view(b.block)[0] == 'D';
    std::vector<secure_bytes> parts;
    parts.push_back(key(b.kbpk));
    ASSERT_TRUE(hsm_->import_components(kek, header("K0", aes_kbpk ? 'A' : 'T', 'B'), parts, "")) << b.source;
    auto info = hsm_->import_key(name, kek, b.block);
    ASSERT_TRUE(info) << b.source << ": " << info.error().message();
    const cipher c = info->header.algorithm == 'A' ? cipher::aes : cipher::tdes;
    EXPECT_EQ(info->kcv, to_hex(key_check_value(c, hex(b.key)).value())) << b.source;
    // An altered block fails its MAC, in the token.
    std::string altered = b.block;
    altered[altered.size() - 1] = altered.back() == '0' ? '1' : '0';
    EXPECT_EQ(hsm_->import_key(name + "x", kek, altered).error().code, errc::key_block_mac) << b.source;
  }
}

TEST_F(Pkcs11Hsm, VersionABlocksNeedAnExportableKek) {
  // [T31] A.7.2.1: version A, KBPK 89E88CF7931444F334BD7547FC3F380C, key F039121BEC83D26B169BDCD5B22AAF8F.
  const char* block = "A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24192FDB3193C730301CEE8701";
  std::vector<secure_bytes> parts;
  parts.push_back(key("89E88CF7931444F334BD7547FC3F380C"));
  ASSERT_TRUE(hsm_->import_components("kek.kept", header("K0", 'T', 'B', 'N'), parts, ""));
  auto refused = hsm_->import_key("zpk.a", "kek.kept", block);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("version A"), std::string::npos) << refused.error().detail;
  std::vector<secure_bytes> again;
  again.push_back(key("89E88CF7931444F334BD7547FC3F380C"));
  ASSERT_TRUE(hsm_->import_components("kek.exportable", header("K0", 'T', 'B', 'E'), again, ""));
  auto info = hsm_->import_key("zpk.a", "kek.exportable", block);
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->kcv, to_hex(key_check_value(cipher::tdes, hex("F039121BEC83D26B169BDCD5B22AAF8F")).value()));
}

// Blocks made in the token open in the software backend and the other way round, for each KEK size.
TEST_F(Pkcs11Hsm, BlocksTravelBetweenTheBackends) {
  const std::pair<const char*, char> keks[] = {
      {"DD7515F2BFC17F85CE48F3CA25CB21F6", 'T'},
      {"AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC", 'T'},
      {"F45185EADC5B799819DC8F4C3B58EC73", 'A'},
      {"6BF89E64F80DBC70E9D6AEB03454E6544A67F725436E3BD3", 'A'},
      {"88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6", 'A'}};
  int i = 0;
  for (const auto& [k, algorithm] : keks) {
    const std::string n = std::to_string(i++);
    load("kek." + n, header("K0", algorithm, 'B'), k);
    load("zak." + n, header("M3", 'T', 'C', 'E'), "0123456789ABCDEFFEDCBA9876543210");
    load("zpk.aes." + n, header("P0", 'A', 'B', 'E'), "000102030405060708090A0B0C0D0E0F");
    for (const std::string& name : {"zak." + n, "zpk.aes." + n}) {
      if (algorithm == 'T' && name.rfind("zpk.aes", 0) == 0) continue;  // version B carries TDES keys only
      auto from_token = hsm_->export_key(name, "kek." + n);
      ASSERT_TRUE(from_token) << name << ": " << from_token.error().message();
      EXPECT_EQ(from_token->at(0), algorithm == 'A' ? 'D' : 'B');
      auto into_software = sw_->import_key(name + ".copy", "kek." + n, *from_token);
      ASSERT_TRUE(into_software) << name << ": " << into_software.error().message();
      auto from_software = sw_->export_key(name, "kek." + n);
      ASSERT_TRUE(from_software);
      auto into_token = hsm_->import_key(name + ".copy", "kek." + n, *from_software);
      ASSERT_TRUE(into_token) << name << ": " << into_token.error().message();
      EXPECT_EQ(into_token->kcv, into_software->kcv);
      EXPECT_EQ(into_token->kcv, hsm_->describe_key(name).value().kcv);
      // Headers agree but for the version, which the pkcs11 backend (like the software backend's key
      // file) keeps as D.
      EXPECT_EQ(into_token->header.to_string().substr(1), into_software->header.to_string().substr(1));
    }
  }
  // A KEK of the other cipher did not make the block; an AES-256 KEK cannot be a version B KBPK.
  load("kek.tdes", header("K0", 'T', 'B'), "DD7515F2BFC17F85CE48F3CA25CB21F6");
  const auto d_block = sw_->export_key("zpk.aes.4", "kek.4").value();
  EXPECT_EQ(hsm_->import_key("x", "kek.tdes", d_block).error().code, errc::key_block_mac);
  EXPECT_EQ(sw_->import_key("x", "kek.tdes", d_block).error().code, errc::key_block_mac);
  const char* b_block = "B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E";
  EXPECT_EQ(hsm_->import_key("x", "kek.4", b_block).error().code, sw_->import_key("x", "kek.4", b_block).error().code);
}

// ---------------------------------------------------------------------------------- threads

TEST_F(Pkcs11Hsm, ServesSeveralThreadsFromASmallSessionPool) {
  hsm_.reset();
  open(3);  // fewer sessions than threads: callers wait for a free one
  load("tpk", header("P0", 'T', 'B'), "0123456789ABCDEFFEDCBA9876543210");
  load("zpk", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  load("bdk", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  load("bdk.aes", header("B0", 'A', 'X'), "FEDCBA9876543210F1F1F1F1F1F1F1F1");
  load("zak", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load("imk", header("E0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  const std::string pan = "4012345678909";
  const auto zpk = key("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string pin = std::to_string(1000 + t * 100 + i);
        auto block =
            encrypt_pin(pin_block_format::iso0, cipher::tdes, key("0123456789ABCDEFFEDCBA9876543210"), pin, pan);
        auto out =
            hsm_->translate_pin({"tpk", {}, pin_block_format::iso0}, *block, {"zpk", pin_block_format::iso0}, pan);
        auto back =
            out ? decrypt_pin(pin_block_format::iso0, cipher::tdes, zpk, *out, pan) : outcome<clear_pin>(out.error());
        if (!back || text(*back) != pin) ++wrong;
        // [X24-1] KSN ...E00001 -> PIN 1234; [X24-3] counter 1 -> PIN 1234 for PAN 4111111111111111.
        auto d = hsm_->translate_pin({"bdk", hex("FFFF9876543210E00001"), pin_block_format::iso0},
                                     hex("1B9C1845EB993A7A"), {"zpk", pin_block_format::iso0}, pan);
        if (!d || to_hex(*d) != to_hex(encrypt_pin(pin_block_format::iso0, cipher::tdes, zpk, "1234", pan).value()))
          ++wrong;
        auto a = hsm_->translate_pin({"bdk.aes", hex("123456789012345600000001"), pin_block_format::iso4},
                                     hex("A912150391AB65A67E52883D81CE2D15"), {"zpk", pin_block_format::iso0},
                                     "4111111111111111");
        if (!a) ++wrong;
        mac_spec spec;
        spec.key = "zak";
        const std::string msg = "Now is the time for all ";
        auto mac = hsm_->generate_mac(spec, bytes(msg.begin(), msg.end()));
        if (!mac || to_hex(*mac) != "A1C72E74EA3FA9B6") ++wrong;
        arqc_check c;  // [pyemv] Visa CVN 18
        c.imk = "imk";
        c.cvn = 18;
        c.pan = "1234567890123456";
        c.psn = "00";
        c.atc = hex("001C");
        c.data = hex("0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800");
        c.arqc = hex("7A788EA6B8A3E733");
        c.csu = hex("00000000");
        auto r = hsm_->verify_arqc(c);
        if (!r || !r->valid || to_hex(r->arpc) != "9AF514C1") ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(Pkcs11Hsm, RunsOnTheAsyncPoolWithoutBlockingTheCaller) {
  load("zak", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  boost::asio::io_context io;
  int done = 0;
  int right = 0;
  {
    async_hsm pool(hsm_, 4);
    for (int i = 0; i < 64; ++i) {
      pool.run<bytes>(
          [](hsm& h) {
            mac_spec spec;
            spec.key = "zak";
            const std::string msg = "Now is the time for all ";
            return h.generate_mac(spec, bytes(msg.begin(), msg.end()));
          },
          boost::asio::bind_executor(io, [&](outcome<bytes> r) {
            ++done;
            if (r && to_hex(*r) == "A1C72E74EA3FA9B6") ++right;
          }));
    }
    while (done < 64) io.run_one();  // completions arrive on this thread, through io
  }
  EXPECT_EQ(right, 64);
}

}  // namespace
}  // namespace eft::crypto
