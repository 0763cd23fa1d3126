// Field 55 checks: scheme profiles (errors name the tag) and the card data of 5A and 57 against fields
// 2 and 35, with PANs masked in every error.
#include <gtest/gtest.h>

#include "eft/emv/field55.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/iso8583/spec.hpp"
#include "test_util.hpp"

namespace eft::emv {
namespace {

using test::hex;

// A Visa request (pyemv test_cvn_hsm.py transaction) with card data: PAN 4761739001010010, expiry
// 2212, service code 201.
const char* const visa_request =
    "9F260829CCA15AE665FA2E"
    "9F270180"
    "9F100706010A03A06010"
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
    "5A084761739001010010"
    "57114761739001010010D22122011758928889";

TEST(Field55Profiles, VisaRequestPasses) {
  const bytes f55 = hex(visa_request);
  tlv_tree t;
  ASSERT_TRUE(parse(f55, t));
  EXPECT_TRUE(check_request(t, visa_request_profile()));
  EXPECT_TRUE(check_request(t, emv_request_profile()));
  // Mastercard also wants 9F33 and 9F34.
  const auto st = check_request(t, mastercard_request_profile());
  EXPECT_EQ(st.code, errc::missing_tag);
  EXPECT_EQ(st.message(), "tag 9F33: required data object missing: required by the mastercard profile");
  EXPECT_EQ(find_profile("visa"), &visa_request_profile());
  EXPECT_EQ(find_profile("amex"), nullptr);
}

TEST(Field55Profiles, ErrorsNameTheTag) {
  tlv_tree t;
  std::string h = visa_request;
  const bytes repeated = hex(h + "9F3602001D");
  ASSERT_TRUE(parse(repeated, t));
  auto st = check_request(t, visa_request_profile());
  EXPECT_EQ(st.code, errc::repeated_tag);
  EXPECT_EQ(st.tag, 0x9F36U);

  const bytes bad_amount =
      hex(std::string(visa_request).replace(h.find("9F0206000000004000"), 18, "9F020600000000400A"));
  ASSERT_TRUE(parse(bad_amount, t));
  st = check_request(t, visa_request_profile());
  EXPECT_EQ(st.code, errc::bad_value);
  EXPECT_EQ(st.message(), "tag 9F02: bad value: byte 6 is not two BCD digits (format n)");

  const bytes short_tvr = hex(std::string(visa_request).replace(h.find("95058000048000"), 14, "950480000480"));
  ASSERT_TRUE(parse(short_tvr, t));
  EXPECT_EQ(check_request(t, visa_request_profile()).message(), "tag 95: bad value: length 4, expected 5 bytes");

  // An unknown tag is fine.
  const bytes unknown = hex(h + "DF7F0101");
  ASSERT_TRUE(parse(unknown, t));
  EXPECT_TRUE(check_request(t, visa_request_profile()));
}

TEST(Field55Response, IssuerAuthenticationAndScripts) {
  tlv_tree t;
  const bytes good = hex("910A28993816AFAE4AEB3030 71129F180400000001 86098424000004AABBCCDD");
  ASSERT_TRUE(parse(good, t));
  EXPECT_TRUE(check_response(t));
  const bytes twice = hex("9108 9AF514C100000000 9108 9AF514C100000000");
  ASSERT_TRUE(parse(twice, t));
  EXPECT_EQ(check_response(t).code, errc::repeated_tag);
  const bytes short91 = hex("9104 9AF514C1");
  ASSERT_TRUE(parse(short91, t));
  EXPECT_EQ(check_response(t).message(), "tag 91: bad value: length 4, expected 8-16 bytes");
}

TEST(CardData, ConsistentWithFields2And35) {
  const bytes f55 = hex(visa_request);
  tlv_tree t;
  ASSERT_TRUE(parse(f55, t));
  EXPECT_TRUE(check_card_data(t, "4761739001010010", "4761739001010010=22122011758928889"));
  EXPECT_TRUE(check_card_data(t, "4761739001010010", ";4761739001010010D22122011758928889?"));
  EXPECT_TRUE(check_card_data(t, std::nullopt, std::nullopt));
  EXPECT_EQ(pan_of_5a(hex("476173900101001F")).value(), "476173900101001");
}

TEST(CardData, MismatchesAreNamedAndMasked) {
  const bytes f55 = hex(visa_request);
  tlv_tree t;
  ASSERT_TRUE(parse(f55, t));
  auto st = check_card_data(t, "4761739001010011", std::nullopt);
  EXPECT_EQ(st.code, errc::mismatch);
  EXPECT_EQ(st.tag, 0x5AU);
  EXPECT_EQ(st.message(), "tag 5A: value does not match: PAN 476173******0010 differs from field 2 476173******0011");
  EXPECT_EQ(st.message().find("4761739001010010"), std::string::npos);

  st = check_card_data(t, "4761739001010010", "4761739001010010=23122011758928889");
  EXPECT_EQ(st.message(), "tag 57: value does not match: expiry date differs from field 35");
  st = check_card_data(t, "4761739001010010", "4761739001010010=22121011758928889");
  EXPECT_EQ(st.message(), "tag 57: value does not match: service code differs from field 35");
  st = check_card_data(t, std::nullopt, "5413330089010434=22122011758928889");
  EXPECT_EQ(st.message(), "tag 57: value does not match: PAN 476173******0010 differs from field 35 541333******0434");
  st = check_card_data(t, std::nullopt, "not a track");
  EXPECT_EQ(st.code, errc::mismatch);

  // 5A and 57 disagreeing with each other.
  const bytes split =
      hex("5A084761739001010011"
          "57114761739001010010D22122011758928889");
  ASSERT_TRUE(parse(split, t));
  st = check_card_data(t, std::nullopt, std::nullopt);
  EXPECT_EQ(st.message(), "tag 57: value does not match: PAN 476173******0010 differs from 5A 476173******0011");

  // A 57 that is not track 2 equivalent data, and a 5A that is not cn.
  const bytes bad57 = hex("570547617390A1");
  ASSERT_TRUE(parse(bad57, t));
  EXPECT_EQ(check_card_data(t, std::nullopt, std::nullopt).code, errc::bad_value);
  const bytes bad5a = hex("5A0847617390010100A0");
  ASSERT_TRUE(parse(bad5a, t));
  st = check_card_data(t, std::nullopt, std::nullopt);
  EXPECT_EQ(st.code, errc::bad_value);
  EXPECT_EQ(st.message().find("4761739"), std::string::npos) << st.message();
}

TEST(CardData, AgainstAnIso8583Message) {
  const auto spec = iso8583::load_spec("iso87-ascii");
  iso8583::message msg(*spec);
  msg.set_mti("0100");
  ASSERT_TRUE(msg.set(2, "4761739001010010"));
  ASSERT_TRUE(msg.set(35, "4761739001010010=22122011758928889"));
  const bytes f55 = hex(visa_request);
  tlv_tree t;
  ASSERT_TRUE(parse(f55, t));
  EXPECT_TRUE(check_card_data(t, msg));
  ASSERT_TRUE(msg.set(2, "4761739001010028"));
  const auto st = check_card_data(t, msg);
  EXPECT_EQ(st.code, errc::mismatch);
  EXPECT_EQ(st.message().find("4761739001010028"), std::string::npos);
}

}  // namespace
}  // namespace eft::emv
