// The card side for the simulators: the field 55 a card produces carries the published ARQCs
// (pyemv tests/test_cvn_hsm.py transactions, see cryptogram_test.cpp), passes the scheme checks,
// verifies at the issuer through the software HSM, and the card accepts the issuer's ARPC and refuses
// a forged one.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <random>

#include "eft/crypto/software_hsm.hpp"
#include "eft/emv/card.hpp"
#include "eft/emv/field55.hpp"
#include "test_util.hpp"

namespace eft::emv {
namespace {

using test::hex;
using test::to_hex;

constexpr std::string_view imk_hex = "0123456789ABCDEFFEDCBA9876543210";

card_profile pyemv_card(cryptogram_version v) {
  card_profile c;
  c.pan = "1234567890123456";
  c.psn = "00";
  c.version = v;
  c.imk = crypto::secure_from_hex(imk_hex).value();
  c.atc = 0x001C;
  c.aip = hex("1800");
  return c;
}

terminal_data pyemv_visa_terminal() {
  terminal_data t;
  t.amount = 4000;
  t.other_amount = 0;
  t.country_code = 124;
  t.currency_code = 124;
  t.date = "191105";
  t.transaction_type = "01";
  t.unpredictable_number = hex("52BF4585");
  t.tvr = hex("8000048000");
  return t;
}

terminal_data pyemv_mastercard_terminal() {
  terminal_data t;
  t.amount = 9999;
  t.country_code = 124;
  t.currency_code = 124;
  t.date = "209906";
  t.transaction_type = "00";
  t.unpredictable_number = hex("ABCDEF12");
  t.tvr = hex("8000000000");
  return t;
}

std::string arqc_of(const bytes& f55) {
  tlv_tree t;
  EXPECT_TRUE(parse(f55, t));
  const auto v = t.value(0x9F26);
  return v ? to_hex(*v) : "";
}

TEST(CardSide, ProducesThePublishedVisaCryptograms) {
  auto c10 = pyemv_card(cryptogram_version::visa_10);
  c10.cvr = hex("03A06010");
  const auto f10 = generate_request_field55(c10, pyemv_visa_terminal());
  ASSERT_TRUE(f10) << f10.error().message();
  EXPECT_EQ(arqc_of(*f10), "29CCA15AE665FA2E");

  auto c18 = pyemv_card(cryptogram_version::visa_18);
  c18.cvr = hex("03A0B800");
  const auto f18 = generate_request_field55(c18, pyemv_visa_terminal());
  ASSERT_TRUE(f18) << f18.error().message();
  EXPECT_EQ(arqc_of(*f18), "7A788EA6B8A3E733");
  tlv_tree t;
  ASSERT_TRUE(parse(*f18, t));
  EXPECT_EQ(to_hex(*t.value(0x9F10)), "06011203A0B800");
  EXPECT_EQ(to_hex(*t.value(0x84)), "A0000000031010");
  EXPECT_TRUE(check_request(t, visa_request_profile())) << check_request(t, visa_request_profile()).message();
}

TEST(CardSide, ProducesThePublishedMastercardCryptograms) {
  struct {
    cryptogram_version v;
    const char* counters;
    const char* arqc;
  } const vectors[] = {
      {cryptogram_version::mastercard_16, "00000000000000FF", "24CCF3DEE3158C70"},
      {cryptogram_version::mastercard_17, "00000000000322FF", "EAE8A620A75648D8"},
      {cryptogram_version::mastercard_20, "00000000000000FF", "CD29615D6452E70E"},
      {cryptogram_version::mastercard_21, "00000000000322FF", "C30E54BE496CF5E5"},
  };
  for (const auto& v : vectors) {
    SCOPED_TRACE(version_name(v.v));
    auto card = pyemv_card(v.v);
    card.cvr = hex("A00003220000");
    card.counters = hex(v.counters);
    const auto f55 = generate_request_field55(card, pyemv_mastercard_terminal());
    ASSERT_TRUE(f55) << f55.error().message();
    EXPECT_EQ(arqc_of(*f55), v.arqc);
    tlv_tree t;
    ASSERT_TRUE(parse(*f55, t));
    EXPECT_TRUE(check_request(t, mastercard_request_profile()));
    EXPECT_EQ(detect_version(t).value(), v.v);
  }
}

class CardAndIssuer : public ::testing::TestWithParam<cryptogram_version> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("eft-emv-card-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    hsm_ = crypto::software_hsm::open(dir_ / "keys.yaml", crypto::random_bytes(32).value()).value();
    crypto::tr31_header h;
    h.version = 'D';
    h.usage = "E0";
    h.algorithm = 'T';
    h.mode_of_use = 'X';
    std::vector<crypto::secure_bytes> parts;
    parts.push_back(crypto::secure_from_hex(imk_hex).value());
    ASSERT_TRUE(hsm_->import_components("imk.ac", h, parts, ""));
  }
  void TearDown() override {
    hsm_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::shared_ptr<crypto::software_hsm> hsm_;
};

TEST_P(CardAndIssuer, RoundTripThroughTheHsm) {
  card_profile card;
  card.pan = "4761739001010010123";  // 19 digits: option B for CVN 18 and 22 and CCD
  card.psn = "01";
  card.version = GetParam();
  card.imk_name = "imk.ac";
  card.atc = 0x0102;
  card.include_card_data = true;
  const key_source keys = [](std::string_view name) -> crypto::outcome<crypto::secure_bytes> {
    if (name != "imk.ac") return crypto::failure{crypto::errc::unknown_key, "no such key"};
    return crypto::secure_from_hex(imk_hex);
  };
  terminal_data term;
  term.amount = 12345;
  term.date = "250630";
  const auto request = generate_request_field55(card, term, keys);
  ASSERT_TRUE(request) << request.error().message();

  tlv_tree t;
  ASSERT_TRUE(parse(*request, t));
  EXPECT_TRUE(check_request(t, emv_request_profile())) << check_request(t, emv_request_profile()).message();
  EXPECT_TRUE(check_card_data(t, card.pan, card.pan + "=3012201")) << check_card_data(t, card.pan, {}).message();
  EXPECT_EQ(psn_of(t), "01");

  issuer_response resp;
  resp.arc = hex("3030");
  resp.csu = visa_csu(true);
  const bytes script = hex("710F9F180400000001860684240000 0801");
  resp.issuer_scripts = script;
  const auto issuer = verify_and_respond(*hsm_, "imk.ac", *request, card.pan, psn_of(t), resp);
  ASSERT_TRUE(issuer) << issuer.error().message();
  ASSERT_TRUE(issuer->valid);
  EXPECT_EQ(issuer->version, GetParam());

  const auto seen = check_issuer_response(card, *request, issuer->response_field55, keys);
  ASSERT_TRUE(seen) << seen.error().message();
  EXPECT_TRUE(seen->valid);
  EXPECT_EQ(seen->scripts, 1U);
  if (arpc_method(GetParam()) == 1) {
    EXPECT_EQ(seen->arc, hex("3030"));
  } else {
    EXPECT_EQ(seen->csu, hex("00800000"));
  }

  // A forged ARPC, and an ARC changed in transit: the card refuses both.
  bytes forged = issuer->response_field55;
  forged[2] ^= 0x01;
  EXPECT_FALSE(check_issuer_response(card, *request, forged, keys)->valid);
  bytes changed = issuer->response_field55;
  changed[arpc_method(GetParam()) == 1 ? 11 : 7] ^= 0x01;
  EXPECT_FALSE(check_issuer_response(card, *request, changed, keys)->valid);

  // The next transaction (ATC + 1) gives another cryptogram that verifies too.
  card.atc += 1;
  const auto next = generate_request_field55(card, term, keys);
  ASSERT_TRUE(next);
  EXPECT_NE(arqc_of(*next), arqc_of(*request));
  EXPECT_TRUE(verify_and_respond(*hsm_, "imk.ac", *next, card.pan, "01", resp)->valid);
}

INSTANTIATE_TEST_SUITE_P(Versions, CardAndIssuer,
                         ::testing::Values(cryptogram_version::visa_10, cryptogram_version::visa_18,
                                           cryptogram_version::visa_22, cryptogram_version::mastercard_16,
                                           cryptogram_version::mastercard_17, cryptogram_version::mastercard_20,
                                           cryptogram_version::mastercard_21, cryptogram_version::emv_csk),
                         [](const ::testing::TestParamInfo<cryptogram_version>& p) {
                           std::string n(version_name(p.param));
                           for (auto& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

TEST(CardSide, ProfileErrors) {
  auto card = pyemv_card(cryptogram_version::visa_10);
  card.cvr = hex("A06010");
  EXPECT_EQ(generate_request_field55(card, pyemv_visa_terminal()).error().code, errc::bad_value);
  card.cvr.clear();
  card.psn = "1";
  EXPECT_EQ(generate_request_field55(card, pyemv_visa_terminal()).error().tag, 0x5F34U);
  card.psn = "00";
  terminal_data t = pyemv_visa_terminal();
  t.amount = 1000000000000ULL;  // 13 digits
  EXPECT_EQ(generate_request_field55(card, t).error().tag, 0x9F02U);
  t = pyemv_visa_terminal();
  t.date = "19110";
  EXPECT_EQ(generate_request_field55(card, t).error().tag, 0x9AU);
  card.imk = {};
  EXPECT_EQ(generate_request_field55(card, pyemv_visa_terminal()).error().code, errc::crypto);
  card.imk_name = "imk";
  EXPECT_EQ(generate_request_field55(card, pyemv_visa_terminal()).error().code, errc::crypto);  // no key source
}

TEST(CardSide, ResponseWithoutIssuerAuthenticationData) {
  auto card = pyemv_card(cryptogram_version::visa_10);
  const auto request = generate_request_field55(card, pyemv_visa_terminal()).value();
  const bytes nothing;
  EXPECT_EQ(check_issuer_response(card, request, nothing).error().code, errc::missing_tag);
  const bytes short91 = hex("9108 0102030405060708");
  EXPECT_EQ(check_issuer_response(card, request, short91).error().code, errc::bad_value);
}

}  // namespace
}  // namespace eft::emv
