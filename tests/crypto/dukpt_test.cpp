// DUKPT (TDES per ANSI X9.24-1:2009, AES per ANSI X9.24-3-2017) against published vectors.
//
// Sources of the vectors (every value below is copied from one of them, none computed here):
//  [A42]  X9.24-1:2009 A.4.2 "initial sequence" and [A43] A.4.3 "rollover sequence": BDK, KSNs,
//         transaction keys and encrypted PIN blocks, as carried by openemv/dukpt
//         test/dukpt_tdes_test.c and ../shared/vectors/payment-crypto.yaml (dukpt_tdes, lines 6-27,
//         which adds the PIN and MAC variant keys).
//  [SHENYAN] shenyan1206/dukpt test/test_dukpt.js: PIN, MAC request and data request keys of the
//         A.4.2 counters 1-5.
//  [MOOV] moov-io/dukpt pkg/des/des_test.go (TDES data encryption and MACs of "4012345678909D987")
//         and pkg/aes/aes_test.go (AES CMAC, HMAC and data encryption of the same text).
//  [B1]   X9.24-3-2017 supplement test vectors (AES-128 and AES-256 BDK: initial keys and
//         intermediate derivation keys), as carried by openemv/dukpt test/dukpt_aes128_test.c,
//         test/dukpt_aes256_test.c and payment-crypto.yaml (dukpt_aes128, lines 29-41).
//  [PAYSEC] paysec-dukpt (Rust) working-key tests: every usage at counter 1, PIN/MAC/data keys for
//         more counters, AES-128 keys from an AES-256 BDK; AES-192 vectors there are marked
//         "generated using the ASC X9 X9.24-3 reference algorithm".
//  [CSCRIPT] CryptoScript DukptAesWorkingKeyTests.cs: every usage at counter 1, 2TDEA and 3TDEA PIN
//         keys.
//  [FORAGE] joinforage Android SDK PinBlockIso4Test.kt: format 4 PIN blocks under the AES-128 PIN
//         keys of counters 1-3 (counter 1 also payment-crypto.yaml pin_blocks, lines 48-55).
//  [CEX]  CEX library DUKPTTest.cpp: derivation data, AES-128 and AES-256 PIN keys at counters
//         1-3, FFFE4000, FFFE8000, FFFF0000.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {
namespace {

bytes hex(std::string_view h) {
  return from_hex(h).value();
}
bytes ascii(std::string_view s) {
  return {s.begin(), s.end()};
}
std::string hex_of(const outcome<secure_bytes>& k) {
  return k ? to_hex(k->view()) : "error: " + k.error().message();
}

// Zero-pads to whole blocks (the padding [MOOV] applies to its sample data).
bytes zero_padded(bytes b, std::size_t block) {
  b.resize((b.size() + block - 1) / block * block, 0);
  return b;
}

// ISO 9797-1 MAC algorithm 3 (retail MAC), padding method 1: single-DES CBC under the left half,
// then decrypt under the right half and encrypt under the left. Test-only; the MAC family has its own.
std::string retail_mac(byte_view key, byte_view data) {
  const bytes padded = zero_padded(bytes(data.begin(), data.end()), 8);
  const auto left = key.first(8);
  const auto right = key.subspan(8, 8);
  const bytes chain = cbc_encrypt(cipher::des, left, {}, padded).value();
  const bytes last(chain.end() - 8, chain.end());
  const bytes d = ecb_decrypt(cipher::des, right, last).value();
  return to_hex(ecb_encrypt(cipher::des, left, d).value());
}

// ----------------------------------------------------------------------------------------------
// TDES DUKPT
// ----------------------------------------------------------------------------------------------

constexpr std::string_view tdes_bdk = "0123456789ABCDEFFEDCBA9876543210";  // [A42]
constexpr std::string_view tdes_initial_ksn = "FFFF9876543210E00000";
constexpr std::string_view tdes_ipek = "6AC292FAA1315B4D858AB3A3D7D5933A";
constexpr std::string_view tdes_clear_pin_block = "041274EDCBA9876F";  // PIN 1234, PAN 4012345678909, format 0

struct tdes_step {
  std::string_view ksn;
  std::string_view key;        // transaction (future) key
  std::string_view pin_block;  // clear PIN block encrypted under the PIN variant
};

// [A42] X9.24-1:2009 A.4.2, the initial sequence: counters 1 to 0x15.
const std::vector<tdes_step> initial_sequence = {
    {"FFFF9876543210E00001", "042666B49184CFA368DE9628D0397BC9", "1B9C1845EB993A7A"},
    {"FFFF9876543210E00002", "C46551CEF9FD24B0AA9AD834130D3BC7", "10A01C8D02C69107"},
    {"FFFF9876543210E00003", "0DF3D9422ACA56E547676D07AD6BADFA", "18DC07B94797B466"},
    {"FFFF9876543210E00004", "279C0F6AEED0BE652B2C733E1383AE91", "0BC79509D5645DF7"},
    {"FFFF9876543210E00005", "5F8DC6D2C845C125508DDC048093B83F", "5BC0AF22AD87B327"},
    {"FFFF9876543210E00006", "5E415CB0BAF9F03CD0C14B63FB62FF43", "A16DF70AE36158D8"},
    {"FFFF9876543210E00007", "0C8F780B7C8B49D0AE84A9EB2A6CE660", "27711C16CB257F8E"},
    {"FFFF9876543210E00008", "27F66D5244FF62E1AA6F6120EDEB4280", "50E55547A5027551"},
    {"FFFF9876543210E00009", "27E31064FDC565698900E2057F658E7E", "536CF7F678ACFC8D"},
    {"FFFF9876543210E0000A", "6CF2500A22507C7CC776CEADC1E33014", "EDABBA23221833FE"},
    {"FFFF9876543210E0000B", "3E8260BA04B2D620C01482B3819A18B7", "2328981C57B4BDBA"},
    {"FFFF9876543210E0000C", "B716E1E11CF53D80726CAEE75C3A624F", "038D03CC926CF286"},
    {"FFFF9876543210E0000D", "E072EDF95340535FB6C581C58FBF2533", "6C8AA97088B62C68"},
    {"FFFF9876543210E0000E", "A80046087F5B8F245AAD95E18429084F", "F17C9E1D72CD4950"},
    {"FFFF9876543210E0000F", "93DD5B956C4878472E453AAEFD32A5AA", "B170F6E7F7F2F64A"},
    {"FFFF9876543210E00010", "59598DCBD9BD94C094165CE453585F57", "D5D9638559EF53D6"},
    {"FFFF9876543210E00011", "2B5F01F4F0CC05EA639D523231BF1BA2", "D544F8CDD292C863"},
    {"FFFF9876543210E00012", "9CF640F279C2AEE615F725EEEAC2CBAF", "7A21BD10F36DC41D"},
    {"FFFF9876543210E00013", "C3DF489FDF1153B4F03DE97C27DC4C2F", "78649BD17D0DFA60"},
    {"FFFF9876543210E00014", "658488507721B3F14737FA93F923CBD2", "7E7E16EA0C31AD56"},
    {"FFFF9876543210E00015", "E161D1956A61F6D2F37AFD7F9CC3699A", "72105C22EBC791E6"},
};

// [A43] X9.24-1:2009 A.4.3, the rollover sequence: counters around a carry into bit 20, with the
// skipped counters (more than 10 one-bits) left out as a device leaves them out.
const std::vector<tdes_step> rollover_sequence = {
    {"FFFF9876543210EFF800", "F9CDFEBF4F5B1D9EB3EC12454527E176", "33365F5CC6F23C35"},
    {"FFFF9876543210EFF801", "5BEE92627E97825C911BF619DF72CA3B", "3A86BF003F835C9D"},
    {"FFFF9876543210EFF802", "64CA2F8AB93F61B01620B00BF77C7301", "3DB977D05C36DF3F"},
    {"FFFF9876543210EFF804", "35A168695B3BA83307E871C42021DD37", "BA83243305712099"},
    {"FFFF9876543210EFF808", "12C380FCB72ED3C26FC6079AF63F4787", "B0DA04AC90A36D85"},
    {"FFFF9876543210EFF810", "D8007C833A1E3C49C6889B97A68C54FF", "2CF02BD9C309EEDA"},
    {"FFFF9876543210EFF820", "A9C9FF9B735FDD49591F296B0BF0FD70", "9D1E2F77AEEE81C6"},
    {"FFFF9876543210EFF840", "0E3E221062CB5E03A384602783A004FA", "40870B0F8BA2011C"},
    {"FFFF9876543210EFF880", "CA8225C587124DFBB87F279C0BE29727", "22E340D6ABB40981"},
    {"FFFF9876543210EFF900", "906AAC1751D4971A144D52C76C6E1F97", "1A4C10AFBA03A430"},
    {"FFFF9876543210EFFA00", "2B9E2CE7C2750337E10B54D2989EA6AF", "849763B43E5F9CFF"},
    {"FFFF9876543210EFFC00", "F9430DF975082491C77BE4EF4FDB91EE", "DEFC6F09F8927B71"},
    {"FFFF9876543210F00000", "AA4D58DB653EC74A48C75F2F047DD2B5", "73EC88AD0AC5830E"},
};

TEST(DukptTdes, IpekFromBdkAndKsn) {
  // [A42] X9.24-1:2009 A.6 with the A.4 BDK and initial KSN.
  EXPECT_EQ(hex_of(dukpt_tdes_ipek(hex(tdes_bdk), hex(tdes_initial_ksn))), tdes_ipek);
  // The counter bits do not matter: any KSN of the device gives its IPEK.
  EXPECT_EQ(hex_of(dukpt_tdes_ipek(hex(tdes_bdk), hex("FFFF9876543210E00015"))), tdes_ipek);
  EXPECT_EQ(hex_of(dukpt_tdes_key(hex(tdes_bdk), hex("FFFF9876543210E00003"), dukpt_tdes_usage::ipek)), tdes_ipek);
}

void check_sequence(const std::vector<tdes_step>& steps) {
  const bytes ipek = hex(tdes_ipek);
  for (const auto& s : steps) {
    SCOPED_TRACE(std::string(s.ksn));
    const bytes ksn = hex(s.ksn);
    EXPECT_EQ(hex_of(dukpt_tdes_transaction_key(ipek, ksn)), s.key);
    EXPECT_EQ(hex_of(dukpt_tdes_key(hex(tdes_bdk), ksn, dukpt_tdes_usage::transaction)), s.key);
    const auto pin_key = dukpt_tdes_key(hex(tdes_bdk), ksn, dukpt_tdes_usage::pin);
    ASSERT_TRUE(pin_key) << pin_key.error().message();
    EXPECT_EQ(to_hex(ecb_encrypt(cipher::tdes, *pin_key, hex(tdes_clear_pin_block)).value()), s.pin_block);
  }
}

TEST(DukptTdes, InitialSequenceKeysAndPinBlocks) {
  check_sequence(initial_sequence);
}

TEST(DukptTdes, RolloverSequenceKeysAndPinBlocks) {
  check_sequence(rollover_sequence);
}

TEST(DukptTdes, NextKsnFollowsThePublishedSequences) {
  // The published KSN lists are what a device produces: consecutive at first, then skipping every
  // counter with more than 10 one-bits.
  auto ksn = dukpt_tdes_next_ksn(hex(tdes_initial_ksn));
  for (const auto& s : initial_sequence) {
    ASSERT_TRUE(ksn) << ksn.error().message();
    EXPECT_EQ(to_hex(*ksn), s.ksn);
    ksn = dukpt_tdes_next_ksn(*ksn);
  }
  ksn = hex(rollover_sequence.front().ksn);
  for (const auto& s : rollover_sequence) {
    ASSERT_TRUE(ksn) << ksn.error().message();
    EXPECT_EQ(to_hex(*ksn), s.ksn);
    ksn = dukpt_tdes_next_ksn(*ksn);
  }
}

TEST(DukptTdes, PinBlocksThroughThePinBlockApi) {
  // [A42]: PIN 1234 and PAN 4012345678909 in format 0 under the PIN keys of the first counters,
  // and back.
  for (const auto& s : {initial_sequence[0], initial_sequence[1], initial_sequence[20], rollover_sequence[12]}) {
    SCOPED_TRACE(std::string(s.ksn));
    const auto pin_key = dukpt_tdes_key(hex(tdes_bdk), hex(s.ksn), dukpt_tdes_usage::pin);
    ASSERT_TRUE(pin_key);
    const auto block = encrypt_pin(pin_block_format::iso0, cipher::tdes, *pin_key, "1234", "4012345678909");
    ASSERT_TRUE(block) << block.error().message();
    EXPECT_EQ(to_hex(*block), s.pin_block);
    const auto pin = decrypt_pin(pin_block_format::iso0, cipher::tdes, *pin_key, *block, "4012345678909");
    ASSERT_TRUE(pin) << pin.error().message();
    EXPECT_EQ(std::string(pin->begin(), pin->end()), "1234");
  }
}

TEST(DukptTdes, PinAndMacVariants) {
  // payment-crypto.yaml dukpt_tdes (lines 14-27): Table A-1 variants of the A.4.2 keys.
  const bytes bdk = hex(tdes_bdk);
  const bytes ksn1 = hex("FFFF9876543210E00001");
  EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, ksn1, dukpt_tdes_usage::pin)), "042666B49184CF5C68DE9628D0397B36");
  EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, ksn1, dukpt_tdes_usage::mac_request)), "042666B4918430A368DE9628D03984C9");
  EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, ksn1, dukpt_tdes_usage::mac_response)), "042666B46E84CFA368DE96282F397BC9");
  EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, hex("FFFF9876543210E00002"), dukpt_tdes_usage::pin)),
            "C46551CEF9FD244FAA9AD834130D3B38");
  EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, hex("FFFF9876543210E00003"), dukpt_tdes_usage::pin)),
            "0DF3D9422ACA561A47676D07AD6BAD05");
  // The same from the IPEK and from the transaction key (the device's view).
  EXPECT_EQ(hex_of(dukpt_tdes_key_from_ipek(hex(tdes_ipek), ksn1, dukpt_tdes_usage::pin)),
            "042666B49184CF5C68DE9628D0397B36");
  EXPECT_EQ(hex_of(dukpt_tdes_variant(hex("042666B49184CFA368DE9628D0397BC9"), dukpt_tdes_usage::mac_request)),
            "042666B4918430A368DE9628D03984C9");
}

TEST(DukptTdes, VariantAndDataKeysOfTheFirstCounters) {
  // [SHENYAN]: transaction, PIN, MAC request and data request (variant then self-encryption) keys.
  struct row {
    std::string_view ksn, pin, mac_request, data_request;
  };
  const std::vector<row> rows = {
      {"FFFF9876543210E00001", "042666B49184CF5C68DE9628D0397B36", "042666B4918430A368DE9628D03984C9",
       "448D3F076D8304036A55A3D7E0055A78"},
      {"FFFF9876543210E00002", "C46551CEF9FD244FAA9AD834130D3B38", "C46551CEF9FDDBB0AA9AD834130DC4C7",
       "F1BE73B36135C5C26CF937D50ABBE5AF"},
      {"FFFF9876543210E00003", "0DF3D9422ACA561A47676D07AD6BAD05", "0DF3D9422ACAA9E547676D07AD6B52FA",
       "EEEEF522C67239E4A2A65FEBF4C511F4"},
      {"FFFF9876543210E00004", "279C0F6AEED0BE9A2B2C733E1383AE6E", "279C0F6AEED041652B2C733E13835191",
       "BCF2610997C3AC3C5F13AE965A1B773B"},
      {"FFFF9876543210E00005", "5F8DC6D2C845C1DA508DDC048093B8C0", "5F8DC6D2C8453E25508DDC048093473F",
       "F3054D8B7471284BDB4EE18AFC3B091B"},
  };
  const bytes bdk = hex(tdes_bdk);
  for (const auto& r : rows) {
    SCOPED_TRACE(std::string(r.ksn));
    const bytes ksn = hex(r.ksn);
    EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, ksn, dukpt_tdes_usage::pin)), r.pin);
    EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, ksn, dukpt_tdes_usage::mac_request)), r.mac_request);
    EXPECT_EQ(hex_of(dukpt_tdes_key(bdk, ksn, dukpt_tdes_usage::data_request)), r.data_request);
    EXPECT_EQ(hex_of(dukpt_tdes_key_from_ipek(hex(tdes_ipek), ksn, dukpt_tdes_usage::data_request)), r.data_request);
  }
}

struct tdes_data_step {
  std::string_view ksn;
  std::string_view request_data;   // TDES-CBC, zero IV, under the data request key
  std::string_view response_data;  // ... under the data response key
  std::string_view request_mac;    // ISO 9797-1 alg 3, padding 1, under the MAC request key
  std::string_view response_mac;
};

TEST(DukptTdes, DataKeysAndMacKeysEncryptPublishedSamples) {
  // [MOOV] pkg/des/des_test.go InitialSequence: "4012345678909D987" zero-padded, encrypted and
  // MACed under the A.4.2 keys. Checks the data key's variant-then-self-encryption (A.4.1).
  const std::vector<tdes_data_step> steps = {
      {"FFFF9876543210E00001", "FC0D53B7EA1FDA9EE68AAF2E70D9B9506229BE2AA993F04F",
       "1FCC89AF66222F27B903898BB2BC8589CDBFDE5EC6AFCC25", "9CCC78173FC4FB64", "20364223C1FF00FA"},
      {"FFFF9876543210E00002", "A2B4E70F846E63D68775B7215EB4563DFD3037244C61CC13",
       "5B692A6B1FDD5E25B0DEFAFDE1672E402F8011360CFF3508", "F608A9BCA6FFC311", "D1FCA6BEF05D24D2"},
      {"FFFF9876543210E00003", "BD751E65F10E75B6C1D5B1D283496A36C2DE21D993C387A7",
       "345992D4163E4926C927BFD8ABD5D76F087A9CE81D5A27B8", "20B59A4FEAC937E3", "BAD4CC9CC2AE326C"},
      {"FFFF9876543210E00004", "1118F50947441BBDA3C8C70220021A12EC31CC473F7215F4",
       "418C7413576C0D1819E785D3807AF32334231FDEC23414DB", "C7BFA6CC44161828", "1EB08AEECE6FF0C2"},
      {"FFFF9876543210E00005", "9FD7BD1EC28845ACA93367A9DA9317BD555C6B33AE22D365",
       "7D4C109E49E83355A556AE949EED359F4404E7A2F0167C00", "0202B96339022058", "5CBE3E81D1D2A0FB"},
  };
  const bytes data = ascii("4012345678909D987");
  const bytes padded = zero_padded(data, 8);
  for (const auto& s : steps) {
    SCOPED_TRACE(std::string(s.ksn));
    const bytes ksn = hex(s.ksn);
    const auto req = dukpt_tdes_key(hex(tdes_bdk), ksn, dukpt_tdes_usage::data_request);
    const auto rsp = dukpt_tdes_key(hex(tdes_bdk), ksn, dukpt_tdes_usage::data_response);
    const auto mreq = dukpt_tdes_key(hex(tdes_bdk), ksn, dukpt_tdes_usage::mac_request);
    const auto mrsp = dukpt_tdes_key(hex(tdes_bdk), ksn, dukpt_tdes_usage::mac_response);
    ASSERT_TRUE(req && rsp && mreq && mrsp);
    EXPECT_EQ(to_hex(cbc_encrypt(cipher::tdes, *req, {}, padded).value()), s.request_data);
    EXPECT_EQ(to_hex(cbc_encrypt(cipher::tdes, *rsp, {}, padded).value()), s.response_data);
    EXPECT_EQ(retail_mac(*mreq, data), s.request_mac);
    EXPECT_EQ(retail_mac(*mrsp, data), s.response_mac);
  }
}

TEST(DukptTdes, CounterRules) {
  EXPECT_TRUE(dukpt_tdes_check_counter(1));
  EXPECT_TRUE(dukpt_tdes_check_counter(0x0FF801));  // 10 one-bits
  EXPECT_TRUE(dukpt_tdes_check_counter(0x1FF800));  // the last counter
  const auto zero = dukpt_tdes_check_counter(0);
  EXPECT_EQ(zero.error().code, errc::bad_ksn);
  const auto eleven = dukpt_tdes_check_counter(0x0FF803);  // 11 one-bits: never used
  ASSERT_FALSE(eleven);
  EXPECT_EQ(eleven.error().code, errc::bad_ksn);
  EXPECT_NE(eleven.error().detail.find("more than 10"), std::string::npos);
  EXPECT_EQ(dukpt_tdes_check_counter(0x1FF801).error().code, errc::ksn_exhausted);
  EXPECT_EQ(dukpt_tdes_check_counter(0x1FFFFF).error().code, errc::ksn_exhausted);

  EXPECT_EQ(*dukpt_tdes_next_counter(0), 1U);
  EXPECT_EQ(*dukpt_tdes_next_counter(0x0FF802), 0x0FF804U);
  EXPECT_EQ(*dukpt_tdes_next_counter(0x0FFC00), 0x100000U);
  EXPECT_EQ(*dukpt_tdes_next_counter(0x0FF803), 0x0FF804U);  // from a counter a device would not use
  EXPECT_EQ(*dukpt_tdes_next_counter(0x1FF000), 0x1FF001U);
  EXPECT_EQ(*dukpt_tdes_next_counter(0x1FF400), 0x1FF800U);  // 10 one-bits: the next is the last
  EXPECT_EQ(dukpt_tdes_next_counter(0x1FF800).error().code, errc::ksn_exhausted);
  EXPECT_EQ(dukpt_tdes_next_counter(0x200000).error().code, errc::bad_input);
  EXPECT_EQ(*dukpt_tdes_counter(hex("FFFF9876543210EFF801")), 0x0FF801U);
  EXPECT_EQ(dukpt_tdes_next_ksn(hex("FFFF9876543210FFF800")).error().code, errc::ksn_exhausted);
}

TEST(DukptTdes, KeysForUnusableCountersAreRefused) {
  const bytes bdk = hex(tdes_bdk);
  const auto skipped = dukpt_tdes_key(bdk, hex("FFFF9876543210EFF803"), dukpt_tdes_usage::pin);
  ASSERT_FALSE(skipped);
  EXPECT_EQ(skipped.error().code, errc::bad_ksn);
  EXPECT_EQ(skipped.error().message(),
            "bad key serial number: counter 0FF803 has 11 one-bits; devices skip counters with more than 10 "
            "(X9.24-1:2009 A.2)");
  EXPECT_EQ(dukpt_tdes_key(bdk, hex("FFFF9876543210FFF801"), dukpt_tdes_usage::pin).error().code, errc::ksn_exhausted);
  EXPECT_EQ(dukpt_tdes_key(bdk, hex(tdes_initial_ksn), dukpt_tdes_usage::pin).error().code, errc::bad_ksn);
  // The last counter still keys a transaction.
  EXPECT_TRUE(dukpt_tdes_key(bdk, hex("FFFF9876543210FFF800"), dukpt_tdes_usage::pin));
}

TEST(DukptTdes, RejectsBadLengths) {
  const bytes bdk = hex(tdes_bdk);
  EXPECT_EQ(dukpt_tdes_ipek(hex("0123456789ABCDEF"), hex(tdes_initial_ksn)).error().code, errc::bad_key_length);
  EXPECT_EQ(
      dukpt_tdes_ipek(hex("0123456789ABCDEFFEDCBA98765432100123456789ABCDEF"), hex(tdes_initial_ksn)).error().code,
      errc::bad_key_length);
  EXPECT_EQ(dukpt_tdes_ipek(bdk, hex("9876543210E00001")).error().code, errc::bad_ksn);
  EXPECT_EQ(dukpt_tdes_key(bdk, hex("FFFF9876543210E0000100"), dukpt_tdes_usage::pin).error().code, errc::bad_ksn);
  EXPECT_EQ(dukpt_tdes_transaction_key(hex("6AC292FAA1315B4D"), hex("FFFF9876543210E00001")).error().code,
            errc::bad_key_length);
  EXPECT_EQ(dukpt_tdes_variant(hex(tdes_ipek), dukpt_tdes_usage::ipek).error().code, errc::bad_format);
  EXPECT_EQ(dukpt_tdes_counter(hex("FFFF")).error().code, errc::bad_ksn);
}

TEST(DukptTdes, UsageNames) {
  EXPECT_EQ(to_string(dukpt_tdes_usage::mac_request), "mac-request");
  EXPECT_EQ(to_string(dukpt_tdes_usage::data_response), "data-response");
}

// ----------------------------------------------------------------------------------------------
// AES DUKPT
// ----------------------------------------------------------------------------------------------

constexpr std::string_view aes128_bdk = "FEDCBA9876543210F1F1F1F1F1F1F1F1";  // [B1]
constexpr std::string_view aes256_bdk = "FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210F1F1F1F1F1F1F1F1";
constexpr std::string_view initial_key_id = "1234567890123456";
constexpr std::string_view aes128_ik = "1273671EA26AC29AFA4D1084127652A1";
constexpr std::string_view aes256_ik = "CE9CE0C101D1138F97FB6CAD4DF045A7083D4EAE2D35A31789D01CCF0949550F";

bytes aes_ksn(std::uint32_t counter) {
  bytes k = hex(initial_key_id);
  for (int s = 24; s >= 0; s -= 8) k.push_back(static_cast<std::uint8_t>(counter >> s));
  return k;
}

TEST(DukptAes, InitialKeys) {
  // [B1] initial keys of the AES-128 and AES-256 BDKs.
  EXPECT_EQ(hex_of(dukpt_aes_initial_key(hex(aes128_bdk), hex(initial_key_id))), aes128_ik);
  EXPECT_EQ(hex_of(dukpt_aes_initial_key(hex(aes256_bdk), hex(initial_key_id))), aes256_ik);
  // The 12-byte KSN is accepted in place of the initial key ID.
  EXPECT_EQ(hex_of(dukpt_aes_initial_key(hex(aes128_bdk), aes_ksn(5))), aes128_ik);
}

TEST(DukptAes, DerivationDataLayout) {
  // [CEX] derivation data of the AES-128 and AES-256 PIN keys at counter 1, and at FFFF0000.
  const std::array<std::uint8_t, 8> c1 = {0x90, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x01};
  const std::array<std::uint8_t, 8> last = {0x90, 0x12, 0x34, 0x56, 0xFF, 0xFF, 0x00, 0x00};
  EXPECT_EQ(to_hex(dukpt_aes_derivation_data(dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes128, c1)),
            "01011000000200809012345600000001");
  EXPECT_EQ(to_hex(dukpt_aes_derivation_data(dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes256, c1)),
            "01011000000401009012345600000001");  // block 1 of 2; [CEX] lists block 2:
  EXPECT_EQ(to_hex(dukpt_aes_derivation_data(dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes256, c1, 2)),
            "01021000000401009012345600000001");
  EXPECT_EQ(to_hex(dukpt_aes_derivation_data(dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes128, last)),
            "010110000002008090123456FFFF0000");
}

struct aes_derivation_step {
  std::uint32_t counter;
  std::string_view key;
};

TEST(DukptAes, Aes128IntermediateDerivationKeys) {
  // [B1] AES-128 BDK: first eight counters, around the first skipped counter 1FFFF, and the last four.
  const std::vector<aes_derivation_step> steps = {
      {0x00000001, "4F21B565BAD9835E112B6465635EAE44"}, {0x00000002, "2F34D68DE10F68D38091A73B9E7C437C"},
      {0x00000003, "031504E530365CF81264238540518318"}, {0x00000004, "0EEFC7ADA628BA68878DA9165A8A1887"},
      {0x00000005, "C2A7AC328A5DA2D6002D62465BFC028B"}, {0x00000006, "D30F7D9351DA58448A2F5E92B4EE3B7D"},
      {0x00000007, "A8253CEED9AC042C54F75D35C8352278"}, {0x00000008, "718EE6CF0B27E53D5F7AF99C4D8146A2"},
      {0x0001FFFE, "E21E8C8D347F8561A2BE752DAA85A111"}, {0x00020000, "F7AE9025468A25D37B7249CFFED224C8"},
      {0x00020001, "692C8EA4013645135B36497131DF9D2C"}, {0xFFFE2000, "48E585B694EB0B18D5C35443E163C0BA"},
      {0xFFFE4000, "396C2C7CA1EA701C03B86B7D41F0C562"}, {0xFFFE8000, "0387625F189B58AE03EF0E8CCA41105E"},
      {0xFFFF0000, "F6BA59389BD14A9855BE9727E7C52E3C"},
  };
  for (const auto& s : steps) {
    SCOPED_TRACE(s.counter);
    EXPECT_EQ(hex_of(dukpt_aes_derivation_key(hex(aes128_ik), aes_ksn(s.counter))), s.key);
  }
}

TEST(DukptAes, Aes256IntermediateDerivationKeys) {
  // [B1] AES-256 BDK, same counters.
  const std::vector<aes_derivation_step> steps = {
      {0x00000001, "54AC2B32B145EA4A554CB8BC44B17467063A799856B1CCC2A138D36E8DBF78B3"},
      {0x00000002, "5DD5A0253842BBBE1D7C0DA27021412C6F1FAB53FB928DEAE56DA06090A9DE97"},
      {0x00000003, "8EEEF7C464AE415BB1D73FAED21993CD669F7999092A579EC6DD3CC680C65171"},
      {0x00000004, "C18CBED570B3B89ECADA7CEC9C224CD5A86ECF3DE377D3EFAB720F8C4D76B9D0"},
      {0x00000005, "6B3C3C93307151C25DC2309456F01C5C3108DAD571C321899A9B7E0C009FD2EB"},
      {0x00000006, "B8BB61AE3E2D5CD8C699E0C578FB2C7B89B0C0CF02DBAB60864D8049C986C844"},
      {0x00000007, "88D0ACA287B3066F5DE0C93396337D4C2DA8D92C1F720A576D62CEB4C979E01E"},
      {0x00000008, "20A796D5077D51B8E7613893A4F095B134E02917DC84BD391F3661D0873FF308"},
      {0x0001FFFE, "A289508CBF1228452CD86AB77B15CB35577AC828C18BB66681E5A16D6C9CCED3"},
      {0x00020000, "D62DDA94A47D7DA5D763443B4ECB15EA8DD62E0E4F915958BA459591F8312E37"},
      {0x00020001, "44110A1102748D4A3AC326F53D8CAC650212590CA7126D54546DDE0F20E89CEE"},
      {0xFFFE2000, "4625EB06E4886D4AFCC9AE37ED4F4E4E1653C9E60E3F24742A87A26AA96AB7A6"},
      {0xFFFE4000, "FF20E1BB575539ACCB44E3111BE8757F83AE8549A2DD71B441A4A424F7FFD4B1"},
      {0xFFFE8000, "630535C9C53E1EC6524016930B56F6728909C45403536B419AEBCB25B7351C07"},
      {0xFFFF0000, "6D6DB7AAAE8B3EA90E57A39E4BBA71E173B21B446B30A78D64BFC6A8806C55EE"},
  };
  for (const auto& s : steps) {
    SCOPED_TRACE(s.counter);
    EXPECT_EQ(hex_of(dukpt_aes_derivation_key(hex(aes256_ik), aes_ksn(s.counter))), s.key);
  }
}

struct aes_working_case {
  std::string_view bdk;
  std::uint32_t counter;
  dukpt_aes_usage usage;
  dukpt_aes_key_type type;
  std::string_view key;
};

TEST(DukptAes, WorkingKeys) {
  using u = dukpt_aes_usage;
  using t = dukpt_aes_key_type;
  constexpr std::string_view aes192_bdk = "FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210";
  const std::vector<aes_working_case> cases = {
      // AES-128 BDK, counter 1, every usage: [PAYSEC] and [CSCRIPT]; PIN, MAC generation and data
      // encrypt also in payment-crypto.yaml dukpt_aes128 (lines 34-38).
      {aes128_bdk, 1, u::key_encryption, t::aes128, "36A724B7BEFA5A25F5E7B5782A4554A2"},
      {aes128_bdk, 1, u::pin_encryption, t::aes128, "AF8CB133A78F8DC2D1359F18527593FB"},
      {aes128_bdk, 1, u::mac_generation, t::aes128, "A2DC23DE6FDE0824A2BC321E08E4B8B7"},
      {aes128_bdk, 1, u::mac_verification, t::aes128, "DBB463945B286C07CD3AD82EE96FD9C9"},
      {aes128_bdk, 1, u::mac_both, t::aes128, "85675439D18D7F1158BD8E3EAA3D502B"},
      {aes128_bdk, 1, u::data_encrypt, t::aes128, "A35C412EFD41FDB98B69797C02DCD08F"},
      {aes128_bdk, 1, u::data_decrypt, t::aes128, "16292C6EA8F64C5420A0584BFBC577BE"},
      {aes128_bdk, 1, u::data_both, t::aes128, "A308E080DD15A1B741F1721BF67DE11C"},
      // AES-128 BDK, more counters: [PAYSEC] (PIN, MAC generation, data encrypt); counter 2 PIN key
      // also payment-crypto.yaml line 41.
      {aes128_bdk, 2, u::pin_encryption, t::aes128, "D30BDC73EC9714B000BEC66BDB7B6D09"},
      {aes128_bdk, 2, u::mac_generation, t::aes128, "484C3B06E8562704528CD5B46FB12FB6"},
      {aes128_bdk, 2, u::data_encrypt, t::aes128, "D639514AA33AC43AD9229E433D6D4E5B"},
      {aes128_bdk, 3, u::pin_encryption, t::aes128, "7D69F01F3B45449F62C7816ECE723268"},
      {aes128_bdk, 3, u::mac_generation, t::aes128, "A5DF7D9D800CA769766F0C77CA4E6E6C"},
      {aes128_bdk, 3, u::data_encrypt, t::aes128, "EF17F6AB45B4820C93A3DCB21BC491AD"},
      {aes128_bdk, 4, u::pin_encryption, t::aes128, "91A0588318EC2673214271F70137896E"},
      {aes128_bdk, 4, u::mac_generation, t::aes128, "E6E4679647D8A9057C1FC15537CB4C4E"},
      {aes128_bdk, 4, u::data_encrypt, t::aes128, "B3BD44C08BB6BA27C3BB4711D7D70387"},
      {aes128_bdk, 5, u::pin_encryption, t::aes128, "35A43BC9EFEB09C756204B57E3FB7D4D"},
      {aes128_bdk, 5, u::mac_generation, t::aes128, "0588185FE1FF8C7E22FAD78C1C61F065"},
      {aes128_bdk, 5, u::data_encrypt, t::aes128, "CA02DF6F30B39E14BD0B4A30E460920F"},
      {aes128_bdk, 0x1FFFE, u::pin_encryption, t::aes128, "DDF7E08A84B5478C498D007C743BF762"},
      {aes128_bdk, 0x1FFFE, u::mac_generation, t::aes128, "6D7623AD652734B8FAE1B6E093EACE3D"},
      {aes128_bdk, 0x1FFFE, u::data_encrypt, t::aes128, "8E4E5D5E0F01C54F01F4ACA1C8F8EDCE"},
      {aes128_bdk, 0x20000, u::pin_encryption, t::aes128, "AB828BE7B58C7EC5D5ED0D5D320A0C9D"},
      {aes128_bdk, 0x20000, u::mac_generation, t::aes128, "0B59D3D7D93028D97135FB895CACE24E"},
      {aes128_bdk, 0x20000, u::data_encrypt, t::aes128, "13361208975755318FE7AE28C9616014"},
      // AES-128 BDK, PIN keys at the last counters: [CEX].
      {aes128_bdk, 0xFFFE4000, u::pin_encryption, t::aes128, "6239A27F572DEDB17BCA1AC413EF9FE9"},
      {aes128_bdk, 0xFFFE8000, u::pin_encryption, t::aes128, "F10C1404137A80718FCCE8BD90FF9F67"},
      {aes128_bdk, 0xFFFF0000, u::pin_encryption, t::aes128, "27EFAC1D158632588F4AC69E45C247C4"},
      // 2TDEA and 3TDEA working keys from the AES-128 BDK: [CSCRIPT].
      {aes128_bdk, 1, u::pin_encryption, t::tdes2, "630C706D9546E47D4449313F61C4D4AB"},
      {aes128_bdk, 1, u::pin_encryption, t::tdes3, "EA8B3F37EB9B15831167EF2977FD8762D9B5913F35766F6A"},
      // AES-256 BDK, AES-256 working keys: [CEX] (PIN) and [PAYSEC] (MAC generation, data encrypt).
      {aes256_bdk, 1, u::pin_encryption, t::aes256, "8C1AB7BEE973829E30242E0BBBDD4946D540C98FC1B5BDCF94790001A23FD502"},
      {aes256_bdk, 2, u::pin_encryption, t::aes256, "3583D6CD02FC38822CC71A8D7678E04F4A8556335E6CC66863D3DADC5AEE2C62"},
      {aes256_bdk, 3, u::pin_encryption, t::aes256, "96A1AB5D37CB7CF81DDE64F66C46E0389B833E7AD5F4E44C791F04FAFDA6DA0E"},
      {aes256_bdk, 0xFFFE4000, u::pin_encryption, t::aes256,
       "F388FF9FB1D66E8812BC67CA5B85CE5554063E09A2440EC1AF4EB433CCFBAF35"},
      {aes256_bdk, 0xFFFE8000, u::pin_encryption, t::aes256,
       "FAC4E05A67AB1522505CF0E94E5977B99D0E5B116D76ABB6B8A64F0D785FF6DF"},
      {aes256_bdk, 0xFFFF0000, u::pin_encryption, t::aes256,
       "88B82556AEF4A681E0687F443A4C4F305AF9203B114470DFC77C7F08BC43F9DA"},
      {aes256_bdk, 1, u::mac_generation, t::aes256, "61DABDF4B340CF461EE860B1D1AB55357142BD2D6977306859CF49AEFE8F1549"},
      {aes256_bdk, 1, u::data_encrypt, t::aes256, "71EB36C9A6B7F801D1D1700C29741FC5A5C4E9B45D742DA7AF6992B8AA29AF58"},
      // AES-256 BDK, AES-128 working keys: [PAYSEC] ("ASC X9 supplemental X9.24-3 test vectors").
      {aes256_bdk, 1, u::pin_encryption, t::aes128, "09C9C432966811D6B2C3336BAC1B1202"},
      {aes256_bdk, 1, u::mac_generation, t::aes128, "F04A1FABD4176E15490CEC82E217A96D"},
      {aes256_bdk, 1, u::data_encrypt, t::aes128, "616D59AE91F8CC7016F89FDA29605FA4"},
      // AES-192 BDK: [PAYSEC], generated there with the ASC X9 reference code (not in the supplement).
      {aes192_bdk, 1, u::pin_encryption, t::aes128, "3C318CDBF08322279557201E98DBB3F3"},
      {aes192_bdk, 3, u::mac_generation, t::aes128, "D2D13AF44E71EB6E8539FFDA3C37A5D6"},
      {aes192_bdk, 1, u::pin_encryption, t::aes192, "C5043EDC7F2C001097974D40FF82A050B64A1AB27879F3DB"},
      {aes192_bdk, 3, u::data_encrypt, t::aes192, "A5DDCE36A4ECC8781C466C2270BA499EC4654AA166392EFC"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(to_string(c.usage)) + " " + std::string(to_string(c.type)) + " counter " +
                 std::to_string(c.counter));
    EXPECT_EQ(hex_of(dukpt_aes_key(hex(c.bdk), aes_ksn(c.counter), c.usage, c.type)), c.key);
  }
}

struct aes_message_step {
  std::uint32_t counter;
  std::string_view cmac_request, cmac_response, hmac_request, hmac_response, data_request, data_response;
};

TEST(DukptAes, WorkingKeysMacAndEncryptPublishedSamples) {
  // [MOOV] pkg/aes/aes_test.go InitialSequence: "4012345678909D987" under the AES-128 BDK's
  // MAC generation key (request) and MAC verification key (response), as AES-CMAC and, with HMAC-128
  // keys, HMAC-SHA256; and AES-CBC (zero IV, zero padding) under the data encrypt (request) and data
  // decrypt (response) keys.
  const std::vector<aes_message_step> steps = {
      {1, "A2EB5C1C35809E58404E873C3C411E31", "DD4E1895FD9BF53D8DAF25568ABF551D",
       "B6F8B3159CD4E140159DA87A68C0FB7AF2F123D222662E98988C76386E8E8A02",
       "DDE7CB7BDE05AC9A934919B5D94C37954F2376BAF5D45031A56FE74D94C4B64D",
       "E5AFA5B408A3310E3D779C8A9A2AE29448BD5B4232582090DB703AF647205A79",
       "84904DFC6B5201A4F1FE2EAA49E70B8C01838EF53030790FF785D630AB3916B4"},
      {2, "4D104704C53491A60944193DCAF6B411", "008CEAAE2B913BEEE76209EE9406DAC1",
       "A884FD458692820E8458AD9FF4FCE58D6B809AB3AE617AE1FC6B70E9E9C12B08",
       "32C4EEBF5FB820C4E90A580C0769E5BF8188007191AFAEF53F7C585B03285314",
       "A17A9658EE0F451D6CA11B65B592EF9C5F90BB175D926F1457B63B3273042476",
       "699ED7BC85994F1C11DE1C40177A629530E85262EA0B02FB80771255DC1F65B6"},
      {3, "6A18904AA8E966A03505F5EEBDAEBD82", "40CB2F0C2E043D060063FAA916A849E1",
       "5CCB50FB8001C07C51191502BFC7586E165219F59D87938C8A7A84D41AF44F18",
       "255E08E91BB5AFFD26C695110FAB5167AB36C9A3C61C78BD2401292A8EFE7C0A",
       "E289C32A084A39419A6C147DE40B53A67BABE2BD22DC3D5EE09B002E83B93ACE",
       "0F440D9321C1ABBEF9CA7008B40CF18B3045A84D5435D6CF9A4955E3451C49E9"},
      {4, "77BBD3FB827158B9B12880B0794D1C74", "51FDE192BC484F769AA0A86F8BC5CB30",
       "5E3C734C41496A10130BE415CBDB8E4F9027250997803DC742D4988123C2963F",
       "6493E4DB82E4ACFB3AA3830EBEF7365A31B0D7E3B463304FB3EBBC372A866292",
       "D074C0F81866781B92D008C8EA6A3947319B94361C7ECD3C1736020E0D57E629",
       "08A3D4FB24E9CA4864F63E1AB518C69327D87A6A709B9336E3E60FA7F312759A"},
      {5, "C0CE6DA1F4434AD16EEEBF486C9616CD", "4B508F51104D184A9190061ED854200E",
       "E49D95FD38DF4E39371FD6FD0789E1A2E9A663E20764BF935B457ECEEAE46CBD",
       "401CBB584E48C3E08A212A3117E087520D38E4EC054749747D1435B421C9DCE6",
       "8F222D79AE7F942BF74D3EA9E364C0000D0C94AD7EA0A8CCF23330FCA4B1D0D0",
       "400E67A22795467C145D7A5D2475DFD8041C233C6E2D004CEDBEBA25AE5CE1A7"},
      {6, "05222AE91471C590B3A9471523324C14", "ED90BD8AE4571C75CF08EA3EA195ABF8",
       "D5B61390352342D2027DFD120F32E77831B32BF34700FBA8232D80780D492766",
       "6644594E7C867C2BF0FBA7F00CAF2E184823AE0D9C40FCAA6F48A3605737094D",
       "19C254B0498CBD32E597D882B7D993513994EE913836E65711EA41F8D4B34728",
       "1524F027685DCDA7197E0DE3CB87EF83C6D61D2E483D47678C4914DEC2320B08"},
      {7, "37FA54258AAF805A44AA1273C0DF928C", "52D6C1D3A95B1D21761E20870D9A7E8C",
       "E0A41D52B44C96D5D730BB0DC2F747E7FE5970CE58C0043C42CD3769F6CA3925",
       "55F096E89E56A27438F6D01A6DCBF9D396E29EA076C3CC9823B2BB5996ED17EE",
       "0710C8F0EB136629E30ADFB148562F6F80B786EC1074428B7C7511B7301EAAF0",
       "8CA084F21F599C7361C8F2B1565D993779C62EC3496F0113DF17B5C29EA4E404"},
      {8, "85C7CA68F55F51E7DCAC969B8C111130", "B45399DB90C0BA75DB4B86605758695A",
       "D7CAB17596E6D193B83E0E13CAB35A179B7296DC04A42D8145B9DF6E60A2A47F",
       "32403C170DD07A7C823247DF37649D49FDE905482D1B1C6A62E03E735FA2E384",
       "304EC254A7B528D9892E47F7C1315D498C0D88EA8CD71CA52D38F362721AEA67",
       "8CD1A54538B9DC79A5DF4544ADE8D1F1A085AC1F89AA59BFF49351A68957DE1B"},
  };
  using u = dukpt_aes_usage;
  using t = dukpt_aes_key_type;
  const bytes bdk = hex(aes128_bdk);
  const bytes data = ascii("4012345678909D987");
  const bytes padded = zero_padded(data, 16);
  for (const auto& s : steps) {
    SCOPED_TRACE(s.counter);
    const bytes ksn = aes_ksn(s.counter);
    const auto key = [&](u usage, t type) { return dukpt_aes_key(bdk, ksn, usage, type).value().clone(); };
    EXPECT_EQ(to_hex(cmac(cipher::aes, key(u::mac_generation, t::aes128), data).value()), s.cmac_request);
    EXPECT_EQ(to_hex(cmac(cipher::aes, key(u::mac_verification, t::aes128), data).value()), s.cmac_response);
    EXPECT_EQ(to_hex(hmac_sha256(key(u::mac_generation, t::hmac128), data).value()), s.hmac_request);
    EXPECT_EQ(to_hex(hmac_sha256(key(u::mac_verification, t::hmac128), data).value()), s.hmac_response);
    EXPECT_EQ(to_hex(cbc_encrypt(cipher::aes, key(u::data_encrypt, t::aes128), {}, padded).value()), s.data_request);
    EXPECT_EQ(to_hex(cbc_encrypt(cipher::aes, key(u::data_decrypt, t::aes128), {}, padded).value()), s.data_response);
  }
}

TEST(DukptAes, Format4PinBlocksUnderDukptPinKeys) {
  // [FORAGE]: PIN 1234, PAN 4111111111111111, random fill 2F69ADDE2E9E7ACE, AES-128 BDK.
  const bytes fill = hex("2F69ADDE2E9E7ACE");
  const std::vector<std::pair<std::uint32_t, std::string_view>> cases = {
      {1, "A912150391AB65A67E52883D81CE2D15"},
      {2, "52A00503BD34BA1383F6A7EE9FE2547F"},
      {3, "A5A27E82B43A9A866A93D7ABE89CEF93"},
  };
  for (const auto& [counter, expected] : cases) {
    SCOPED_TRACE(counter);
    const auto pin_key =
        dukpt_aes_key(hex(aes128_bdk), aes_ksn(counter), dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes128);
    ASSERT_TRUE(pin_key);
    const auto block = encrypt_pin(pin_block_format::iso4, cipher::aes, *pin_key, "1234", "4111111111111111", fill);
    ASSERT_TRUE(block) << block.error().message();
    EXPECT_EQ(to_hex(*block), expected);
    const auto pin = decrypt_pin(pin_block_format::iso4, cipher::aes, *pin_key, *block, "4111111111111111");
    ASSERT_TRUE(pin) << pin.error().message();
    EXPECT_EQ(std::string(pin->begin(), pin->end()), "1234");
  }
}

TEST(DukptAes, NextKsnSkipsCountersWithMoreThan16Bits) {
  // [B1]: the supplement's KSN lists: 1..8 consecutive; 1FFFE then 20000 (1FFFF has 17 one-bits);
  // FFFE2000, FFFE4000, FFFE8000, FFFF0000 and then nothing.
  auto ksn = dukpt_aes_next_ksn(aes_ksn(0));
  for (std::uint32_t c = 1; c <= 8; ++c) {
    ASSERT_TRUE(ksn);
    EXPECT_EQ(*ksn, aes_ksn(c));
    ksn = dukpt_aes_next_ksn(*ksn);
  }
  EXPECT_EQ(*dukpt_aes_next_ksn(aes_ksn(0x1FFFE)), aes_ksn(0x20000));
  EXPECT_EQ(*dukpt_aes_next_ksn(aes_ksn(0x20000)), aes_ksn(0x20001));
  EXPECT_EQ(*dukpt_aes_next_ksn(aes_ksn(0xFFFE2000)), aes_ksn(0xFFFE4000));
  EXPECT_EQ(*dukpt_aes_next_ksn(aes_ksn(0xFFFE4000)), aes_ksn(0xFFFE8000));
  EXPECT_EQ(*dukpt_aes_next_ksn(aes_ksn(0xFFFE8000)), aes_ksn(0xFFFF0000));
  EXPECT_EQ(dukpt_aes_next_ksn(aes_ksn(0xFFFF0000)).error().code, errc::ksn_exhausted);
  EXPECT_EQ(*dukpt_aes_next_counter(0xFFFE2000), 0xFFFE4000U);
}

TEST(DukptAes, CounterRules) {
  EXPECT_TRUE(dukpt_aes_check_counter(1));
  EXPECT_TRUE(dukpt_aes_check_counter(0xFFFF0000));
  EXPECT_EQ(dukpt_aes_check_counter(0).error().code, errc::bad_ksn);
  const auto seventeen = dukpt_aes_check_counter(0x1FFFF);
  ASSERT_FALSE(seventeen);
  EXPECT_EQ(seventeen.error().code, errc::bad_ksn);
  EXPECT_NE(seventeen.error().detail.find("more than 16"), std::string::npos);
  EXPECT_EQ(dukpt_aes_check_counter(0xFFFF0001).error().code, errc::ksn_exhausted);
  EXPECT_EQ(dukpt_aes_check_counter(0xFFFFFFFF).error().code, errc::ksn_exhausted);
  // A KSN with a skipped counter gets no key (the supplement lists 1FFFF only to show the skip).
  EXPECT_EQ(
      dukpt_aes_key(hex(aes128_bdk), aes_ksn(0x1FFFF), dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes128)
          .error()
          .code,
      errc::bad_ksn);
  EXPECT_EQ(
      dukpt_aes_key(hex(aes128_bdk), aes_ksn(0xFFFF8000), dukpt_aes_usage::pin_encryption, dukpt_aes_key_type::aes128)
          .error()
          .code,
      errc::ksn_exhausted);
}

TEST(DukptAes, RejectsBadInput) {
  using u = dukpt_aes_usage;
  using t = dukpt_aes_key_type;
  const bytes bdk = hex(aes128_bdk);
  EXPECT_EQ(dukpt_aes_key(hex("FEDCBA9876543210"), aes_ksn(1), u::pin_encryption, t::aes128).error().code,
            errc::bad_key_length);
  EXPECT_EQ(dukpt_aes_key(bdk, hex("123456789012345600000001FF"), u::pin_encryption, t::aes128).error().code,
            errc::bad_ksn);
  EXPECT_EQ(dukpt_aes_key(bdk, hex("FFFF9876543210E00001"), u::pin_encryption, t::aes128).error().code, errc::bad_ksn);
  EXPECT_EQ(dukpt_aes_initial_key(bdk, hex("12345678")).error().code, errc::bad_ksn);
  // A working key is never stronger than its BDK.
  for (const t strong : {t::aes192, t::aes256, t::hmac192, t::hmac256}) {
    const auto r = dukpt_aes_key(bdk, aes_ksn(1), u::pin_encryption, strong);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_format);
  }
  EXPECT_EQ(
      dukpt_aes_key(hex("FEDCBA9876543210F1F1F1F1F1F1F1F1FEDCBA9876543210"), aes_ksn(1), u::pin_encryption, t::aes256)
          .error()
          .code,
      errc::bad_format);
  EXPECT_EQ(dukpt_aes_key(bdk, aes_ksn(1), u::key_derivation, t::aes128).error().code, errc::bad_format);
  EXPECT_EQ(dukpt_aes_key(bdk, aes_ksn(1), u::initial_key, t::aes128).error().code, errc::bad_format);
}

TEST(DukptAes, NamesAndSizes) {
  EXPECT_EQ(to_string(dukpt_aes_usage::mac_verification), "mac-verification");
  EXPECT_EQ(to_string(dukpt_aes_key_type::hmac256), "hmac256");
  EXPECT_EQ(key_size(dukpt_aes_key_type::tdes3), 24U);
  EXPECT_EQ(*dukpt_aes_key_type_for(32), dukpt_aes_key_type::aes256);
  EXPECT_EQ(dukpt_aes_key_type_for(20).error().code, errc::bad_key_length);
}

}  // namespace
}  // namespace eft::crypto
