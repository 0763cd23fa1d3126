// The issuer side end to end: field 55 bytes in, ARQC verified through the software HSM, response
// field 55 out. Vectors:
// - Visa CVN 10 and 18: ../shared/vectors/payment-crypto.yaml, block "emv" (source line there:
//   "knovichikhin/pyemv tests/test_cvn_hsm.py"), copied here:
//     issuer_master_key_ac 0123456789ABCDEFFEDCBA9876543210, pan 1234567890123456, psn 00, atc 001C
//     visa_cvn10: data 0000000040000000000000000124800004800001241911050152BF45851800001C03A06010,
//                 arqc 29CCA15AE665FA2E, arc 3030, arpc_method1 28993816AFAE4AEB
//     visa_cvn18: data 0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800,
//                 iad 06011203A0B800, arqc 7A788EA6B8A3E733, csu 00000000, arpc_method2 9AF514C1
// - Visa CVN 18, second vector: knovichikhin/pyemv pyemv/cvn.py module docstring (IMK AA..AA, ATC 0FFF,
//   amount 9999, country and currency 0840, date 991231; ARQC 769577B5ABE9FE62, ARPC 76503F48).
// - Mastercard CVN 16, 17, 20, 21: knovichikhin/pyemv tests/test_cvn_hsm.py test_mastercard_cvn16/17/
//   20/21 (amount 9999, country/currency 0124, TVR 8000000000, date 209906, type 00, UN ABCDEF12,
//   AIP 1800, ATC 001C, CVR A00003220000, counters 00000000000322FF for 17 and 21, ARC 0010; the IADs
//   are those of the test's comments, 0110.../0111..., with the CVN byte set to 14/15 for 20/21).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "eft/crypto/emv.hpp"
#include "eft/crypto/software_hsm.hpp"
#include "eft/emv/cryptogram.hpp"
#include "eft/emv/dictionary.hpp"
#include "test_util.hpp"

namespace eft::emv {
namespace {

using test::hex;
using test::to_hex;

crypto::tr31_header header(std::string usage, char mode) {
  crypto::tr31_header h;
  h.version = 'D';
  h.usage = std::move(usage);
  h.algorithm = 'T';
  h.mode_of_use = mode;
  h.exportability = 'N';
  return h;
}

class IssuerSide : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("eft-emv-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto h = crypto::software_hsm::open(dir_ / "keys.yaml", crypto::random_bytes(32).value());
    ASSERT_TRUE(h) << h.error().message();
    hsm_ = *h;
    load("imk.ac.test", header("E0", 'X'), "0123456789ABCDEFFEDCBA9876543210");
    load("imk.ac.aa", header("E0", 'X'), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    load("zpk.test", header("P0", 'B'), "0123456789ABCDEFFEDCBA9876543210");
  }
  void TearDown() override {
    hsm_.reset();
    std::filesystem::remove_all(dir_);
  }
  void load(const std::string& name, const crypto::tr31_header& h, std::string_view key) {
    std::vector<crypto::secure_bytes> parts;
    parts.push_back(crypto::secure_from_hex(key).value());
    auto r = hsm_->import_components(name, h, parts, "");
    ASSERT_TRUE(r) << r.error().message();
  }

  std::filesystem::path dir_;
  std::shared_ptr<crypto::software_hsm> hsm_;
};

// Field 55 of the Visa vectors: the pyemv transaction as a terminal sends it.
std::string visa_field55(std::string_view iad, std::string_view arqc) {
  return "9F2608" + std::string(arqc) + "9F270180" + "9F10" + (iad.size() == 14 ? "07" : "??") + std::string(iad) +
         "9F370452BF4585"
         "9F3602001C"
         "95058000048000"
         "9A03191105"
         "9C0101"
         "9F0206000000004000"
         "5F2A020124"
         "82021800"
         "9F1A020124"
         "9F0306000000000000"
         "9F3303E0F8C8"
         "8407A0000000031010"
         "5F340100";
}

TEST_F(IssuerSide, VisaCvn10EndToEnd) {
  const bytes request = hex(visa_field55("06010A03A06010", "29CCA15AE665FA2E"));
  tlv_tree t;
  ASSERT_TRUE(parse(request, t));
  EXPECT_EQ(detect_version(t).value(), cryptogram_version::visa_10);
  const auto in = assemble_arqc_input(t).value();
  EXPECT_EQ(to_hex(in.data), "0000000040000000000000000124800004800001241911050152BF45851800001C03A06010");

  issuer_response resp;
  resp.arc = hex("3030");  // response code "00"
  const auto r = verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", psn_of(t), resp);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->valid);
  EXPECT_EQ(r->version, cryptogram_version::visa_10);
  EXPECT_EQ(to_hex(r->arpc), "28993816AFAE4AEB");
  EXPECT_EQ(to_hex(r->response_field55), "910A28993816AFAE4AEB3030");
}

TEST_F(IssuerSide, VisaCvn18EndToEnd) {
  const bytes request = hex(visa_field55("06011203A0B800", "7A788EA6B8A3E733"));
  tlv_tree t;
  ASSERT_TRUE(parse(request, t));
  EXPECT_EQ(detect_version(t).value(), cryptogram_version::visa_18);
  EXPECT_EQ(to_hex(assemble_arqc_input(t)->data),
            "0000000040000000000000000124800004800001241911050152BF45851800001C06011203A0B800");

  issuer_response resp;
  resp.csu = hex("00000000");
  const auto r = verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->valid);
  EXPECT_EQ(to_hex(r->arpc), "9AF514C1");
  EXPECT_EQ(to_hex(r->response_field55), "91089AF514C100000000");
}

TEST_F(IssuerSide, VisaCvn18PyemvModuleExample) {
  const bytes request =
      hex("9F2608769577B5ABE9FE62"
          "9F100706011203A0B800"
          "9F370452BF4585"
          "9F36020FFF"
          "95058000048000"
          "9A03991231"
          "9C0101"
          "9F0206000000009999"
          "9F0306000000000000"
          "5F2A020840"
          "82021800"
          "9F1A020840"
          "8407A0000000031010");
  issuer_response resp;
  resp.csu = hex("00000000");
  const auto r = verify_and_respond(*hsm_, "imk.ac.aa", request, "1234567890123456", "00", resp);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->valid);
  EXPECT_EQ(to_hex(r->response_field55), "910876503F4800000000");
}

TEST_F(IssuerSide, MastercardCvn16To21EndToEnd) {
  struct {
    int cvn;
    const char* iad;
    const char* arqc;
    const char* arpc;
    cryptogram_version version;
  } const vectors[] = {
      {16, "0110A00003220000000000000000000000FF", "24CCF3DEE3158C70", "73F6BBF389A6586C",
       cryptogram_version::mastercard_16},
      {17, "0111A00003220000000000000000000322FF", "EAE8A620A75648D8", "29CF11FBDB9CA650",
       cryptogram_version::mastercard_17},
      {20, "0114A00003220000000000000000000000FF", "CD29615D6452E70E", "DFD0956606B68D64",
       cryptogram_version::mastercard_20},
      {21, "0115A00003220000000000000000000322FF", "C30E54BE496CF5E5", "4F51F9CC63CE8B3C",
       cryptogram_version::mastercard_21},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(v.cvn);
    const bytes request = hex("9F2608" + std::string(v.arqc) + "9F270180" + "9F1012" + v.iad +
                              "9F3704ABCDEF12"
                              "9F3602001C"
                              "95058000000000"
                              "9A03209906"
                              "9C0100"
                              "9F0206000000009999"
                              "9F0306000000000000"
                              "5F2A020124"
                              "82021800"
                              "9F1A020124"
                              "9F3303E0F8C8"
                              "9F34031F0302"
                              "8407A0000000041010");
    tlv_tree t;
    ASSERT_TRUE(parse(request, t));
    EXPECT_EQ(detect_version(t).value(), v.version);
    issuer_response resp;
    resp.arc = hex("0010");
    const auto r = verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp);
    ASSERT_TRUE(r) << r.error().message();
    EXPECT_TRUE(r->valid);
    EXPECT_EQ(to_hex(r->response_field55), "910A" + std::string(v.arpc) + "0010");
  }
}

TEST_F(IssuerSide, WrongCryptogramGivesNoIssuerAuthenticationData) {
  const bytes request = hex(visa_field55("06010A03A06010", "29CCA15AE665FA2F"));
  issuer_response resp;
  resp.arc = hex("3035");  // "05": do not honour
  resp.issuer_scripts = {};
  const auto r = verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_FALSE(r->valid);
  EXPECT_TRUE(r->arpc.empty());
  EXPECT_TRUE(r->response_field55.empty());
  // The wrong PAN sequence number is a wrong key, hence a wrong cryptogram, not an error.
  const auto other_psn = verify_and_respond(
      *hsm_, "imk.ac.test", hex(visa_field55("06010A03A06010", "29CCA15AE665FA2E")), "1234567890123456", "01", resp);
  ASSERT_TRUE(other_psn);
  EXPECT_FALSE(other_psn->valid);
}

TEST_F(IssuerSide, IssuerScriptsArePassedThrough) {
  const bytes request = hex(visa_field55("06010A03A06010", "29CCA15AE665FA2E"));
  const bytes scripts =
      hex("71129F180400000001 86098424000004AABBCCDD"
          "72099F180400000002 8600");
  issuer_response resp;
  resp.arc = hex("3030");
  resp.issuer_scripts = scripts;
  const auto r = verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(to_hex(r->response_field55), "910A28993816AFAE4AEB3030" + to_hex(scripts));

  const bytes not_scripts = hex("9F2701 80");
  resp.issuer_scripts = not_scripts;
  const auto bad = verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::bad_value);
  const bytes broken = hex("7105 9F18");
  resp.issuer_scripts = broken;
  EXPECT_EQ(verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp).error().code,
            errc::value_overrun);
}

TEST_F(IssuerSide, MalformedRequestsNameTheTag) {
  issuer_response resp;
  resp.arc = hex("3030");
  const auto run = [&](const std::string& h) {
    return verify_and_respond(*hsm_, "imk.ac.test", hex(h), "1234567890123456", "00", resp);
  };
  std::string f55 = visa_field55("06010A03A06010", "29CCA15AE665FA2E");

  // 9F36 removed.
  std::string no_atc = f55;
  no_atc.erase(no_atc.find("9F3602001C"), 10);
  auto r = run(no_atc);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::missing_tag);
  EXPECT_EQ(r.error().tag, 0x9F36U);
  EXPECT_EQ(r.error().message(), "tag 9F36: required data object missing: needed for the cryptogram");

  // 9F37 of 3 bytes.
  std::string un3 = f55;
  un3.replace(un3.find("9F370452BF4585"), 14, "9F370352BF45");
  r = run(un3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_value);
  EXPECT_EQ(r.error().message(), "tag 9F37: bad value: length 3, expected 4 bytes");

  // Two cryptograms.
  r = run(f55 + "9F26080102030405060708");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::repeated_tag);
  EXPECT_EQ(r.error().tag, 0x9F26U);

  // Visa CVN 17 (0x11) is not supported.
  std::string cvn17 = f55;
  cvn17.replace(cvn17.find("06010A03A06010"), 14, "06011103A06010");
  r = run(cvn17);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unsupported);
  EXPECT_NE(r.error().message().find("cryptogram version 11"), std::string::npos) << r.error().message();

  // Malformed BER-TLV.
  r = run(f55.substr(0, f55.size() - 2));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::value_overrun);

  // A missing 9F03 reads as zero: the cryptogram still verifies.
  std::string no_other = f55;
  no_other.erase(no_other.find("9F0306000000000000"), 18);
  r = run(no_other);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->valid);
}

TEST_F(IssuerSide, HsmRefusalsAreCryptoErrors) {
  const bytes request = hex(visa_field55("06010A03A06010", "29CCA15AE665FA2E"));
  issuer_response resp;
  resp.arc = hex("3030");
  auto r = verify_and_respond(*hsm_, "zpk.test", request, "1234567890123456", "00", resp);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::crypto);
  r = verify_and_respond(*hsm_, "imk.nosuch", request, "1234567890123456", "00", resp);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::crypto);
  // Method 1 without an ARC, method 2 without a CSU.
  resp.arc.clear();
  EXPECT_EQ(verify_and_respond(*hsm_, "imk.ac.test", request, "1234567890123456", "00", resp).error().code,
            errc::bad_value);
  EXPECT_EQ(verify_and_respond(*hsm_, "imk.ac.test", hex(visa_field55("06011203A0B800", "7A788EA6B8A3E733")),
                               "1234567890123456", "00", resp)
                .error()
                .code,
            errc::bad_value);
}

TEST(CryptogramInput, EmvCskMatchesAnIndependentComputation) {
  // No public CCD vector was found; the assembly is checked against the Book 2 primitives directly:
  // option A master key, A1.3 common session key, padding method 2 over the terminal data, AIP, ATC
  // and the whole IAD.
  bytes iad = hex("0FA501A000000000 0000000000000000 0F");
  iad.resize(32, 0);
  const std::string terminal =
      "000000001234"
      "000000000000"
      "0978"
      "0000000000"
      "0978"
      "250101"
      "00"
      "11223344";
  const bytes imk = hex("0123456789ABCDEFFEDCBA9876543210");
  const auto mk = crypto::derive_icc_master_key(imk, "5413330089010434", "01", crypto::icc_key_option::a).value();
  const auto sk = crypto::derive_emv_common_session_key(mk.view(), hex("0042")).value();
  bytes data = hex(terminal +
                   "3900"
                   "0042");
  data.insert(data.end(), iad.begin(), iad.end());
  const auto arqc = crypto::emv_application_cryptogram(sk.view(), data, crypto::emv_padding::method2).value();

  bytes f55;
  tlv_builder b(f55);
  b.add(0x9F26, arqc).add(0x9F27, hex("80")).add(0x9F10, iad).add(0x9F37, hex("11223344")).add(0x9F36, hex("0042"));
  b.add(0x95, hex("0000000000")).add(0x9A, hex("250101")).add(0x9C, hex("00")).add(0x9F02, hex("000000001234"));
  b.add(0x5F2A, hex("0978")).add(0x82, hex("3900")).add(0x9F1A, hex("0978")).add(0x9F03, hex("000000000000"));
  ASSERT_TRUE(b.finish());
  tlv_tree t;
  ASSERT_TRUE(parse(f55, t));
  EXPECT_EQ(detect_version(t).value(), cryptogram_version::emv_csk);
  const auto in = assemble_arqc_input(t).value();
  EXPECT_EQ(in.data, data);
  EXPECT_EQ(hsm_cvn(in.version), 18);
  EXPECT_TRUE(crypto::verify_arqc(18, imk, "5413330089010434", "01", in.atc, in.data, in.arqc, in.un).value());
}

TEST(CryptogramInput, VersionsAndMethods) {
  EXPECT_EQ(hsm_cvn(cryptogram_version::visa_22), 22);
  EXPECT_EQ(arpc_method(cryptogram_version::visa_10), 1);
  EXPECT_EQ(arpc_method(cryptogram_version::visa_22), 2);
  EXPECT_EQ(arpc_method(cryptogram_version::mastercard_21), 1);
  EXPECT_EQ(arpc_method(cryptogram_version::emv_csk), 2);
  EXPECT_EQ(version_name(cryptogram_version::mastercard_17), "Mastercard CVN 17");
  EXPECT_EQ(visa_csu(true), hex("00800000"));
  EXPECT_EQ(visa_csu(false), hex("00000000"));
  tlv_tree t;
  const bytes psn = hex("5F340101");
  ASSERT_TRUE(parse(psn, t));
  EXPECT_EQ(psn_of(t), "01");
  tlv_tree none;
  EXPECT_EQ(psn_of(none, "002"), "02");
  EXPECT_EQ(psn_of(none), "00");
}

TEST(ResponseField55, Layouts) {
  issuer_response r;
  r.arc = hex("3030");
  EXPECT_EQ(to_hex(build_response_field55(hex("28993816AFAE4AEB"), 1, r).value()), "910A28993816AFAE4AEB3030");
  r.csu = hex("00800000");
  r.proprietary_auth_data = hex("1122");
  EXPECT_EQ(to_hex(build_response_field55(hex("9AF514C1"), 2, r).value()), "910A9AF514C1008000001122");
  EXPECT_EQ(build_response_field55(hex("9AF514C1"), 1, r).error().code, errc::bad_value);
  r.proprietary_auth_data = bytes(9, 0);
  EXPECT_EQ(build_response_field55(hex("9AF514C1"), 2, r).error().code, errc::bad_value);
  // The result parses and checks as a response.
  r.proprietary_auth_data.clear();
  const auto out = build_response_field55(hex("9AF514C1"), 2, r).value();
  tlv_tree t;
  ASSERT_TRUE(parse(out, t));
  EXPECT_EQ(t.size(), 1U);
}

}  // namespace
}  // namespace eft::emv
