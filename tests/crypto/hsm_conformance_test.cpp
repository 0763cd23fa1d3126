// One conformance suite for every HSM backend: the same operations, keys loaded from clear
// components of published test keys, and answers checked against published vectors (the sources are
// named at each constant). A new backend joins by adding a factory to `backends()`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>

#include "eft/crypto/hsm.hpp"
#include "eft/crypto/pin_block.hpp"
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

tr31_header header(std::string usage, char algorithm, char mode, char exportability = 'N') {
  tr31_header h;
  h.version = 'D';
  h.usage = std::move(usage);
  h.algorithm = algorithm;
  h.mode_of_use = mode;
  h.exportability = exportability;
  return h;
}

// Loads a key as a single clear component and checks its KCV on the way in.
void load(hsm& h, const std::string& name, const tr31_header& hdr, std::string_view key_hex,
          std::string_view kcv = "") {
  std::vector<secure_bytes> parts;
  parts.push_back(key(key_hex));
  auto r = h.import_components(name, hdr, parts, kcv);
  ASSERT_TRUE(r) << name << ": " << r.error().message();
}

struct backend_factory {
  std::string name;
  std::function<std::shared_ptr<hsm>(const std::filesystem::path& dir)> make;
};

std::vector<backend_factory> backends() {
  return {{"software",
           [](const std::filesystem::path& dir) -> std::shared_ptr<hsm> {
             auto lmk = random_bytes(32).value();
             auto h = software_hsm::open(dir / "keys.yaml", std::move(lmk));
             if (!h) throw std::runtime_error(h.error().message());
             return *h;
           }},
          {"pkcs11", [](const std::filesystem::path& dir) -> std::shared_ptr<hsm> {
             // SoftHSM2 in a token of its own under the test's folder (tests/crypto/softhsm_token.hpp).
             const auto module = test::softhsm_library();
             if (!module) {
               [] { GTEST_SKIP() << test::softhsm_skip_reason; }();
               return nullptr;
             }
             if (auto why = test::make_softhsm_token(dir, "eft-conformance"); !why.empty()) {
               throw std::runtime_error(why);
             }
             auto h = pkcs11_hsm::open(test::softhsm_options(*module, "eft-conformance"));
             if (!h) throw std::runtime_error(h.error().message());
             return *h;
           }}};
}

class HsmConformance : public ::testing::TestWithParam<backend_factory> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("eft-hsm-" + GetParam().name + "-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    hsm_ = GetParam().make(dir_);
  }
  void TearDown() override {
    hsm_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::shared_ptr<hsm> hsm_;
};

// ANSI X9.24-1:2009 Annex A: BDK 0123456789ABCDEFFEDCBA9876543210, KSN FFFF9876543210E00001,
// PIN 1234, PAN 4012345678909 -> encrypted ISO-0 block 1B9C1845EB993A7A.
TEST_P(HsmConformance, TranslatesDukptPinBlockToZonePinKey) {
  load(*hsm_, "bdk.test", header("B0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210", "08D7B4");
  const std::string zpk = "0123456789ABCDEF0123456789ABCDEF";  // any TDES key; checked by decrypting below
  load(*hsm_, "zpk.test", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  pin_source from{"bdk.test", hex("FFFF9876543210E00001"), pin_block_format::iso0};
  auto out = hsm_->translate_pin(from, hex("1B9C1845EB993A7A"), {"zpk.test", pin_block_format::iso0}, "4012345678909");
  ASSERT_TRUE(out) << out.error().message();
  // Independent check with the clear algorithm: the block under the ZPK holds PIN 1234.
  auto pin =
      decrypt_pin(pin_block_format::iso0, cipher::tdes, key("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A"), *out, "4012345678909");
  ASSERT_TRUE(pin) << pin.error().message();
  EXPECT_EQ(std::string(pin->begin(), pin->end()), "1234");
  (void)zpk;
}

TEST_P(HsmConformance, RefusesPinTranslationIntoFormat1) {
  load(*hsm_, "tpk.test", header("P0", 'T', 'B'), "0123456789ABCDEFFEDCBA9876543210");
  load(*hsm_, "zpk.test", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  auto block = encrypt_pin(pin_block_format::iso0, cipher::tdes, key("0123456789ABCDEFFEDCBA9876543210"), "1234",
                           "4012345678909");
  ASSERT_TRUE(block);
  auto out = hsm_->translate_pin({"tpk.test", {}, pin_block_format::iso0}, *block, {"zpk.test", pin_block_format::iso1},
                                 "4012345678909");
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::format_not_allowed);
}

TEST_P(HsmConformance, PinKeyCannotMakeAMac) {
  load(*hsm_, "tpk.test", header("P0", 'T', 'B'), "0123456789ABCDEFFEDCBA9876543210");
  mac_spec spec;
  spec.key = "tpk.test";
  auto mac = hsm_->generate_mac(spec, hex("00112233"));
  ASSERT_FALSE(mac);
  EXPECT_EQ(mac.error().code, errc::key_usage);
}

// ISO/IEC 9797-1:2011 B.4: MAC algorithm 3, padding method 1, "Now is the time for all ".
TEST_P(HsmConformance, RetailMacKnownAnswer) {
  load(*hsm_, "zak.test", header("M0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  mac_spec spec;
  spec.key = "zak.test";
  spec.algorithm = mac_algorithm::iso9797_1_alg3;
  spec.padding = 1;
  const std::string text = "Now is the time for all ";
  const bytes data(text.begin(), text.end());
  auto mac = hsm_->generate_mac(spec, data);
  ASSERT_TRUE(mac) << mac.error().message();
  EXPECT_EQ(to_hex(*mac), "A1C72E74EA3FA9B6");
  EXPECT_TRUE(hsm_->verify_mac(spec, data, hex("A1C72E74EA3FA9B6")).value());
  EXPECT_FALSE(hsm_->verify_mac(spec, data, hex("A1C72E74EA3FA9B7")).value());
}

// knovichikhin/pyemv tests/test_cvn_hsm.py: Visa CVN 10 and 18.
TEST_P(HsmConformance, VisaArqcVerifiedAndArpcBuilt) {
  load(*hsm_, "imk.ac.test", header("E0", 'T', 'X'), "0123456789ABCDEFFEDCBA9876543210");
  arqc_check c;
  c.imk = "imk.ac.test";
  c.pan = "1234567890123456";
  c.psn = "00";
  c.atc = hex("001C");
  c.cvn = 10;
  c.data = hex("0000000040000000000000000124800004800001241911050152BF45851800001C03A06010");
  c.arqc = hex("29CCA15AE665FA2E");
  c.arc = hex("3030");
  auto r = hsm_->verify_arqc(c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->valid);
  EXPECT_EQ(to_hex(r->arpc), "28993816AFAE4AEB");

  c.cvn = 18;
  c.data = hex("0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800");
  c.arqc = hex("7A788EA6B8A3E733");
  c.arc.clear();
  c.csu = hex("00000000");
  r = hsm_->verify_arqc(c);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->valid);
  EXPECT_EQ(to_hex(r->arpc), "9AF514C1");

  c.arqc = hex("7A788EA6B8A3E734");
  r = hsm_->verify_arqc(c);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->valid);
  EXPECT_TRUE(r->arpc.empty());
}

// Visa CVV method example: CVK A/B 0123456789ABCDEF FEDCBA9876543210, PAN 4123456789012345,
// expiry 8701, service code 111 -> 856.
TEST_P(HsmConformance, CvvKnownAnswer) {
  load(*hsm_, "cvk.test", header("C0", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  cvv_input in{"cvk.test", "4123456789012345", "8701", "111"};
  auto cvv = hsm_->generate_cvv(in);
  ASSERT_TRUE(cvv) << cvv.error().message();
  EXPECT_EQ(*cvv, "856");
  EXPECT_TRUE(hsm_->verify_cvv(in, "856").value());
  EXPECT_FALSE(hsm_->verify_cvv(in, "857").value());
}

// knovichikhin/psec tests/test_pin.py: PVK 0123456789ABCDEFFEDCBA9876543210, PVKI 1, PIN 4524,
// PAN 1122334455667788 -> PVV 8523.
TEST_P(HsmConformance, PvvVerification) {
  load(*hsm_, "pvk.test", header("V2", 'T', 'C'), "0123456789ABCDEFFEDCBA9876543210");
  load(*hsm_, "tpk.test", header("P0", 'T', 'B'), "1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A");
  auto block = encrypt_pin(pin_block_format::iso0, cipher::tdes, key("1C1C1C1C1C1C1C1C2A2A2A2A2A2A2A2A"), "4524",
                           "1122334455667788");
  ASSERT_TRUE(block);
  pin_source from{"tpk.test", {}, pin_block_format::iso0};
  EXPECT_TRUE(hsm_->verify_pin_pvv(from, *block, "1122334455667788", {"pvk.test", 1, "8523"}).value());
  EXPECT_FALSE(hsm_->verify_pin_pvv(from, *block, "1122334455667788", {"pvk.test", 1, "8524"}).value());
}

// knovichikhin/psec tests/test_tr31.py: version B block under KBPK DD7515F2BFC17F85CE48F3CA25CB21F6
// holds key 3F419E1CB7079442AA37474C2EFBF8B8 (usage P0).
TEST_P(HsmConformance, ImportsTr31BlockAndListsWithoutMaterial) {
  load(*hsm_, "kek.test", header("K0", 'T', 'B'), "DD7515F2BFC17F85CE48F3CA25CB21F6");
  auto info = hsm_->import_key("zpk.imported", "kek.test",
                               "B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E");
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_EQ(info->header.usage, "P0");
  const auto kcv = ecb_encrypt(cipher::tdes, hex("3F419E1CB7079442AA37474C2EFBF8B8"), hex("0000000000000000")).value();
  EXPECT_EQ(info->kcv, to_hex(kcv).substr(0, 6));
  auto all = hsm_->list_keys();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2U);
  for (const auto& k : *all) EXPECT_EQ(k.kcv.size(), 6U);
}

TEST_P(HsmConformance, ComponentsAreCheckedAgainstTheirKcv) {
  std::vector<secure_bytes> parts;
  parts.push_back(key("0123456789ABCDEFFEDCBA9876543210"));
  auto r = hsm_->import_components("zpk.bad", header("P0", 'T', 'B'), parts, "000000");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_input);
  // Two components XOR to the key: 0123.. = 1111.. ^ 1032..
  std::vector<secure_bytes> two;
  two.push_back(key("11111111111111111111111111111111"));
  two.push_back(key("1032547698BADCFEEFCDAB8967452301"));
  EXPECT_TRUE(hsm_->import_components("zpk.two", header("P0", 'T', 'B'), two, "08D7B4"));
}

TEST_P(HsmConformance, ExportNeedsAnExportableKeyAndRoundTrips) {
  load(*hsm_, "kek.test", header("K0", 'A', 'B'), "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  load(*hsm_, "zpk.secret", header("P0", 'T', 'B', 'N'), "0123456789ABCDEFFEDCBA9876543210");
  load(*hsm_, "zpk.shared", header("P0", 'T', 'B', 'E'), "0123456789ABCDEFFEDCBA9876543210");
  EXPECT_EQ(hsm_->export_key("zpk.secret", "kek.test").error().code, errc::key_usage);
  auto block = hsm_->export_key("zpk.shared", "kek.test");
  ASSERT_TRUE(block) << block.error().message();
  auto again = hsm_->import_key("zpk.copy", "kek.test", *block);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->kcv, "08D7B4");
}

TEST_P(HsmConformance, UnknownKeyIsAnError) {
  mac_spec spec;
  spec.key = "nope";
  EXPECT_EQ(hsm_->generate_mac(spec, hex("00")).error().code, errc::unknown_key);
}

INSTANTIATE_TEST_SUITE_P(Backends, HsmConformance, ::testing::ValuesIn(backends()),
                         [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace eft::crypto
