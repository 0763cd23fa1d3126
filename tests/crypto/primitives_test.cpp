// Block-cipher building blocks against published vectors.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "eft/crypto/primitives.hpp"

namespace eft::crypto {
namespace {

bytes hex(std::string_view h) {
  return from_hex(h).value();
}

TEST(Primitives, SingleDesFips81Example) {
  // FIPS 81 (DES modes of operation), ECB example: key 0123456789ABCDEF, "Now is t" -> 3FA40E8A984D4815.
  EXPECT_EQ(to_hex(ecb_encrypt(cipher::des, hex("0123456789ABCDEF"), hex("4E6F772069732074")).value()),
            "3FA40E8A984D4815");
}

TEST(Primitives, SingleDesCbcFips81Example) {
  // FIPS 81 appendix C, table C1 (CBC): key 0123456789ABCDEF, IV 1234567890ABCDEF,
  // "Now is the time for all ".
  const auto key = hex("0123456789ABCDEF");
  const auto iv = hex("1234567890ABCDEF");
  const auto plain = hex("4E6F77206973207468652074696D6520666F7220616C6C20");
  const auto cipher_text = cbc_encrypt(cipher::des, key, iv, plain).value();
  EXPECT_EQ(to_hex(cipher_text), "E5C7CDDE872BF27C43E934008C389C0F683788499A7C05F6");
  EXPECT_EQ(cbc_decrypt(cipher::des, key, iv, cipher_text).value(), plain);
}

// DES and TDES in ECB and CBC against OpenSSL's EVP implementation of DES-EDE3 (a second
// implementation; DES as K K K, 2-key TDES as K1 K2 K1): random keys of each length, IVs (or none:
// zeros) and lengths, both directions, and in place (output over the input).
TEST(Primitives, DesAndTdesMatchEvpDesEde3InEcbAndCbc) {
  struct ctx_free {
    void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
  };
  const auto evp = [](bool cbc, bool encrypt, const bytes& key, const bytes& iv, const bytes& in) {
    bytes k3(24);
    for (std::size_t i = 0; i < 24; ++i) k3[i] = key[key.size() == 8 ? i % 8 : key.size() == 16 ? i % 16 : i];
    const bytes zero(8, 0);
    std::unique_ptr<EVP_CIPHER_CTX, ctx_free> ctx(EVP_CIPHER_CTX_new());
    EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, cbc ? "DES-EDE3-CBC" : "DES-EDE3-ECB", nullptr);
    bytes out(in.size());
    int len = 0;
    const bool done =
        c != nullptr &&
        EVP_CipherInit_ex2(ctx.get(), c, k3.data(), cbc ? (iv.empty() ? zero.data() : iv.data()) : nullptr,
                           encrypt ? 1 : 0, nullptr) == 1 &&
        EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
        EVP_CipherUpdate(ctx.get(), out.data(), &len, in.data(), static_cast<int>(in.size())) == 1;
    EVP_CIPHER_free(c);
    EXPECT_TRUE(done);
    EXPECT_EQ(static_cast<std::size_t>(len), in.size());
    return out;
  };
  std::mt19937 rng(20261129);
  const auto random = [&](std::size_t n) {
    bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(rng());
    return b;
  };
  for (int round = 0; round < 300; ++round) {
    const std::size_t key_len = round % 3 == 0 ? 8 : round % 3 == 1 ? 16 : 24;
    const cipher c = key_len == 8 ? cipher::des : cipher::tdes;
    const bytes key = random(key_len);
    const bytes iv = round % 4 == 0 ? bytes{} : random(8);
    const bytes in = random(8 * (1 + rng() % 9));
    SCOPED_TRACE("round " + std::to_string(round) + ", key length " + std::to_string(key_len));
    for (const bool encrypt : {true, false}) {
      const bytes ecb_expected = evp(false, encrypt, key, {}, in);
      const bytes cbc_expected = evp(true, encrypt, key, iv, in);
      EXPECT_EQ((encrypt ? ecb_encrypt(c, key, in) : ecb_decrypt(c, key, in)).value(), ecb_expected);
      EXPECT_EQ((encrypt ? cbc_encrypt(c, key, iv, in) : cbc_decrypt(c, key, iv, in)).value(), cbc_expected);
      bytes same = in;
      ASSERT_TRUE(encrypt ? ecb_encrypt(c, key, same, same.data()) : ecb_decrypt(c, key, same, same.data()));
      EXPECT_EQ(same, ecb_expected);
      same = in;
      ASSERT_TRUE(encrypt ? cbc_encrypt(c, key, iv, same, same.data()) : cbc_decrypt(c, key, iv, same, same.data()));
      EXPECT_EQ(same, cbc_expected);
    }
  }
}

TEST(Primitives, PreparedKeySchedulesMatchTheKeyAndRefuseWhatIsNotDesOrTdes) {
  // FIPS 81's ECB example and the TDES check value, then random keys of each length both ways.
  const auto fips = des_key_schedule::make(cipher::des, hex("0123456789ABCDEF")).value();
  EXPECT_EQ(fips->algorithm(), cipher::des);
  std::uint8_t block[8];
  ASSERT_TRUE(ecb_encrypt(*fips, hex("4E6F772069732074"), block));
  EXPECT_EQ(to_hex(byte_view(block, 8)), "3FA40E8A984D4815");
  const auto tdes = des_key_schedule::make(cipher::tdes, hex("0123456789ABCDEFFEDCBA9876543210")).value();
  ASSERT_TRUE(ecb_encrypt(*tdes, hex("0000000000000000"), block));
  EXPECT_EQ(to_hex(byte_view(block, 3)), "08D7B4");
  std::mt19937 rng(11292026);
  for (int round = 0; round < 60; ++round) {
    const std::size_t key_len = round % 3 == 0 ? 8 : round % 3 == 1 ? 16 : 24;
    const cipher c = key_len == 8 ? cipher::des : cipher::tdes;
    bytes key(key_len);
    bytes in(8 * (1 + rng() % 4));
    for (auto& x : key) x = static_cast<std::uint8_t>(rng());
    for (auto& x : in) x = static_cast<std::uint8_t>(rng());
    const auto k = des_key_schedule::make(c, key).value();
    bytes out(in.size());
    ASSERT_TRUE(ecb_encrypt(*k, in, out.data()));
    EXPECT_EQ(out, ecb_encrypt(c, key, in).value());
    ASSERT_TRUE(ecb_decrypt(*k, in, out.data()));
    EXPECT_EQ(out, ecb_decrypt(c, key, in).value());
    ASSERT_TRUE(ecb_encrypt(*k, out, out.data()));  // in place: back to the input
    EXPECT_EQ(out, in);
  }
  EXPECT_EQ(des_key_schedule::make(cipher::tdes, hex("0123456789ABCDEF")).error().code, errc::bad_key_length);
  EXPECT_EQ(des_key_schedule::make(cipher::des, hex("0123456789ABCDEFFEDCBA9876543210")).error().code,
            errc::bad_key_length);
  EXPECT_EQ(des_key_schedule::make(cipher::aes, hex("000102030405060708090A0B0C0D0E0F")).error().code,
            errc::bad_format);
  EXPECT_EQ(ecb_encrypt(*fips, hex("0001020304"), block).error().code, errc::bad_data_length);
}

TEST(Primitives, TdesEncryptsZeroBlockToKnownCheckValue) {
  // X9.24 key check value of the classic test key: first 3 bytes of E(0) = 08D7B4.
  const auto e = ecb_encrypt(cipher::tdes, hex("0123456789ABCDEFFEDCBA9876543210"), hex("0000000000000000")).value();
  EXPECT_EQ(to_hex(e).substr(0, 6), "08D7B4");
  EXPECT_EQ(to_hex(ecb_decrypt(cipher::tdes, hex("0123456789ABCDEFFEDCBA9876543210"), e).value()), "0000000000000000");
}

TEST(Primitives, AesFips197AppendixC1) {
  EXPECT_EQ(
      to_hex(ecb_encrypt(cipher::aes, hex("000102030405060708090A0B0C0D0E0F"), hex("00112233445566778899AABBCCDDEEFF"))
                 .value()),
      "69C4E0D86A7B0430D8CDB78070B4C55A");
}

TEST(Primitives, AesCbcSp80038aF21) {
  // NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
  EXPECT_EQ(to_hex(cbc_encrypt(cipher::aes, hex("2B7E151628AED2A6ABF7158809CF4F3C"),
                               hex("000102030405060708090A0B0C0D0E0F"), hex("6BC1BEE22E409F96E93D7E117393172A"))
                       .value()),
            "7649ABAC8119B246CEE98E9B12E9197D");
}

TEST(Primitives, AesCmacRfc4493) {
  const auto key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  EXPECT_EQ(to_hex(cmac(cipher::aes, key, {}).value()), "BB1D6929E95937287FA37D129B756746");
  EXPECT_EQ(to_hex(cmac(cipher::aes, key, hex("6BC1BEE22E409F96E93D7E117393172A")).value()),
            "070A16B46B4D4144F79BDD9DD04A287C");
}

TEST(Primitives, HmacSha256Rfc4231Case1) {
  EXPECT_EQ(to_hex(hmac_sha256(hex("0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B"), hex("4869205468657265")).value()),
            "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
}

TEST(Primitives, KeyedHmacSha256MatchesRfc4231AndStaysReusable) {
  // RFC 4231 section 4, test cases 1, 2 and 6 (a key longer than the block, hashed first).
  const hmac_sha256_key k1(hex("0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B"));
  const hmac_sha256_key k2(hex("4A656665"));
  const hmac_sha256_key k6(bytes(131, 0xAA));
  for (int round = 0; round < 3; ++round) {  // the keyed state is copied, never consumed
    EXPECT_EQ(to_hex(k1.mac(hex("4869205468657265")).value()),
              "B0344C61D8DB38535CA8AFCEAF0BF12B881DC200C9833DA726E9376C2E32CFF7");
    EXPECT_EQ(to_hex(k2.mac(hex("7768617420646F2079612077616E7420666F72206E6F7468696E673F")).value()),
              "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843");
    EXPECT_EQ(to_hex(k6.mac(hex("54657374205573696E67204C6172676572205468616E20426C6F636B2D53697A65204B6579202D20"
                                "48617368204B6579204669727374"))
                         .value()),
              "60E431591EE0B67F0D8A26AACBF5B77F8E0BC6213728C5140546040F0EE37F54");
  }
  const hmac_sha256_key copy = k1;  // copies share the keyed state
  EXPECT_EQ(copy.mac(hex("00")).value(),
            hmac_sha256(hex("0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B"), hex("00")).value());
}

// Reused working contexts restart under the key each time, from any thread: every tag equals the
// one-shot HMAC of the same input, whatever ran on the context before.
TEST(Primitives, KeyedHmacSha256FromSeveralThreadsMatchesOneShot) {
  const bytes key = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
  const hmac_sha256_key k(key);
  std::vector<bytes> expected;
  for (int i = 0; i < 64; ++i) expected.push_back(hmac_sha256(key, bytes(static_cast<std::size_t>(i), 0x5A)).value());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 200; ++round) {
        const int i = (round * 7 + t * 13) % 64;
        auto tag = k.mac(bytes(static_cast<std::size_t>(i), 0x5A));
        if (!tag || *tag != expected[static_cast<std::size_t>(i)]) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Primitives, Sha1Fips180Abc) {
  // FIPS 180-2 Appendix A.1: SHA-1("abc").
  EXPECT_EQ(to_hex(sha1(hex("616263")).value()), "A9993E364706816ABA3E25717850C26C9CD0D89D");
}

TEST(Primitives, RejectsBadKeyAndDataLengths) {
  EXPECT_EQ(ecb_encrypt(cipher::tdes, hex("0011"), hex("0000000000000000")).error().code, errc::bad_key_length);
  EXPECT_EQ(ecb_encrypt(cipher::aes, hex("000102030405060708090A0B0C0D0E0F"), hex("00")).error().code,
            errc::bad_data_length);
  EXPECT_EQ(from_hex("0G").error().code, errc::bad_input);
  EXPECT_EQ(from_hex("000").error().code, errc::bad_input);
}

TEST(Primitives, OddParity) {
  bytes k = hex("0123456789ABCDEF");
  set_odd_parity(k);
  EXPECT_EQ(to_hex(k), "0123456789ABCDEF");  // already odd parity
  bytes z = hex("0000");
  set_odd_parity(z);
  EXPECT_EQ(to_hex(z), "0101");
}

TEST(Primitives, SecureBytesWipeOnClear) {
  secure_bytes s{1, 2, 3};
  s.clear();
  EXPECT_TRUE(s.empty());
  EXPECT_TRUE(equal_ct(hex("0102"), hex("0102")));
  EXPECT_FALSE(equal_ct(hex("0102"), hex("0103")));
}

}  // namespace
}  // namespace eft::crypto
