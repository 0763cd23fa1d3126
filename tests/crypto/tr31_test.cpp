// TR-31 / X9.143 key blocks against published blocks.
//
// Sources of the vectors (each noted again where it is used):
//  [T31]  ASC X9 TR 31-2018 Annex A examples A.7.2.1 (version A), A.7.2.2 (B), A.7.3.2 (B with a KS
//         optional block), A.7.4 (D, with its random padding), as quoted in ../shared/vectors/
//         payment-crypto.yaml, knovichikhin/psec tests/test_tr31.py and openemv/tr31
//         test/tr31_decrypt_test.c and test/tr31_export_test.c.
//  [X143] ANSI X9.143:2021/2022 8.1 (D, with its random padding) and 8.4.2 (B), as quoted in
//         openemv/tr31 test/tr31_decrypt_test.c and a public Rust keyblock test suite.
//  [PS10] Blocks made by a Thales payShield 10k HSM, published in openemv/tr31
//         test/tr31_decrypt_test.c.
//  [BPT]  Blocks made by the EFTlab BP-Tools cryptographic calculator with zero padding, published
//         in chhil/TR31Keyblock src/test/java/org/keyblock/tr31/TR31KeyBlockTest.java (the padded
//         clear key field is printed there, so the padding is known).
//  [PSEC] Third-party blocks in knovichikhin/psec tests/test_tr31.py (test_kb_known_values,
//         test_kb_unwrap_exceptions; KBPK "E"*16 = 45..45).
#include <gtest/gtest.h>

#include <string>

#include "eft/crypto/primitives.hpp"
#include "eft/crypto/tr31.hpp"

namespace eft::crypto {
namespace {

bytes hex(std::string_view h) {
  return from_hex(h).value();
}

struct known_block {
  const char* source;
  const char* kbpk;
  const char* key;
  const char* block;
};

// Every one of these must unwrap to its key.
const known_block published[] = {
    // [T31] A.7.2.1, version A, 2-key TDES KBPK.
    {"TR-31:2018 A.7.2.1", "89E88CF7931444F334BD7547FC3F380C", "F039121BEC83D26B169BDCD5B22AAF8F",
     "A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24192FDB3193C730301CEE8701"},
    // [T31] A.7.2.2, version B (the shared vector in payment-crypto.yaml).
    {"TR-31:2018 A.7.2.2", "DD7515F2BFC17F85CE48F3CA25CB21F6", "3F419E1CB7079442AA37474C2EFBF8B8",
     "B0080P0TE00E000094B420079CC80BA3461F86FE26EFC4A3B8E4FA4C5F5341176EED7B727B8A248E"},
    // [T31] A.7.3.2, version B, BDK with key version 12, sensitive, optional block KS.
    {"TR-31:2018 A.7.3.2", "1D22BF32387C600AD97F9B97A51311AC", "E8BC63E5479455E26577F715D587FE68",
     "B0104B0TX12S0100KS1800604B120F9292800000BB68BE8680A400D9191AD4ECE45B6E6C0D21C4738A52190E248719E24B433627"},
    // [T31] A.7.4, version D, AES-256 KBPK, AES-128 key.
    {"TR-31:2018 A.7.4", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC3"
     "4"},
    // [X143] 8.1, version D, key length hidden by 30 bytes of padding.
    {"X9.143 8.1", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0144P0AE00E00002C77FA3F4A553BED6E88AE5C172A4166E3D4ACA8E2AC71C158A476FAC12C13C3829DE55D3AB54C48F4C4FEF7AC75E90F"
     "C47F1B77E7B19A73ED46E64410082557"},
    // [X143] 8.4.2, version B with KS, padded past the key length.
    {"X9.143 8.4.2", "1D22BF32387C600AD97F9B97A51311AC", "E8BC63E5479455E26577F715D587FE68",
     "B0120B0TX12S0100KS1800604B120F929280000015CEB14B76D551F21EC43A75390FA118A98C6CB049E3B9E864A5F4A8B9A5108A6DB563"
     "5C95B042D7"},
    // [PS10] payShield 10k: K0 with mode N, versions A and B.
    {"payShield 10k A", "EFE0853B256B583D868F251CE99EA1D9", "5DB50B454F8389ADCE573BE50861F2BF",
     "A0072K0TN00N0000F40D5672C6D0EC86F860BA88D44D00F0CA9A8CE8CD2F640287A9A9EB"},
    {"payShield 10k B", "EFE0853B256B583D868F251CE99EA1D9", "5DB50B454F8389ADCE573BE50861F2BF",
     "B0080K0TN00N00001C414014375212C24995E405B5EE052CB92B67F455EA2680F6751088F9F1C228"},
    // [PS10] payShield 10k: version D wrapping a TDES BDK, and an AES-256 data key, KBPK "A"*32.
    {"payShield 10k D TDES", "4141414141414141414141414141414141414141414141414141414141414141",
     "1FA1F7CEC798D91545DA8AE0C7796BD9",
     "D0112B0TN00N000037DB9B046B7B0048785690759580ABC3B9842AB4BB7717B49E92528E575785D8123559376A2553B27BE94F054F4E971"
     "C"},
    {"payShield 10k D AES", "4141414141414141414141414141414141414141414141414141414141414141",
     "BE19E6A07A760F10EF8E83A226B63AAD141F463FDDD4F47DB244B4023EC3CACC",
     "D0144D0AN00N0000127862F945C2DED04530FAF7CDBC8B0BA10C7AA79BD5E0C2C5D6AC173BF588E4B19ACF1357178D50EA0AB193228E1395"
     "8304FC6149632DFDCADF3A5B3D57E814"},
    // [PSEC] third-party blocks: 2- and 3-key KBPKs, key length hidden, optional and pad blocks.
    {"psec A 2-key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
     "A0088M3TC00E0000BE8AE894906D0B8F6FF555573A3907DC37FF13B12CE1CB8A97A97C8414AE1A8FF9183122"},
    {"psec B 2-key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
     "B0096M3TC00E0000D578DACC2286C7D10F20DEA88799CA8A2F44E0CC21226A2158D5DC8FD5C78E621327DA956C678808"},
    {"psec A 3-key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC", "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
     "A0088M3TC00E000022BD7EC46BBE2A6A73389D1BA6DB63120B386F912839F4679C0523399E4D8D0F1D9A356E"},
    {"psec B 3-key", "AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCC", "CCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD",
     "B0096M3TC00E0000C7C6FE86A5DE769C20DCA238C52341378B484D544A9764D43963C3B2824AE56C2D07A565DD3AB342"},
    {"psec A masked", "89E88CF7931444F334BD7547FC3F380C", "F039121BEC83D26B169BDCD5B22AAF8F",
     "A0088P0TE00E00007DD4DD9566DC0E2F956DCAC0FDE9153159539373E9D82D3CD4AFD305A7EF1BA67FE03712"},
    {"psec B KS", "89E88CF7931444F334BD7547FC3F380C", "F039121BEC83D26B169BDCD5B22AAF8F",
     "B0120P0TE12E0100KS1800604B120F9292800000E6E28F097CB0350B2EB2DF520947F779FA34D9759CEE7E0DEEACF8353DB778D47FA4EC20"
     "DA3A9754"},
    {"psec A KS PB", "B8ED59E0A279A295E9F5ED7944FD06B9", "F039121BEC83D26B169BDCD5B22AAF8F",
     "A0112P0TE12E0200KS1400604B120F929280PB047A1BB737854CD7AF58A8A1E4506A942277EDA76EBA6BA228AF62ADDA3AD8799E8B2C8CD"
     "7"},
    // [BPT] BP-Tools, zero padding.
    {"BP-Tools A", "89E88CF7931444F334BD7547FC3F380C", "F039121BEC83D26B169BDCD5B22AAF8F",
     "A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24D52C8D44AAEDA6D81752022B"},
    {"BP-Tools B 2-key", "DD7515F2BFC17F85CE48F3CA25CB21F6", "3F419E1CB7079442AA37474C2EFBF8B8",
     "B0080P0TE00E0000A2C7F59BE6B748A73A56D613E9DAFCAB38FD56EB5496120F0E16D23DF31E7CD8"},
    {"BP-Tools B 3-key, 3-key key", "F039121BEC83D26B169BDCD5B22AAF8FF039121BEC83D26B",
     "260892192061C8760BDF235E1619B057B334FED0EFA74F32",
     "B0096P0TB00E0000362D6B7B5D73969D3560CB6EE142206A34C9A0D5736619868843D35054F36B11C1BFFAA30E1EFB5D"},
    {"BP-Tools B 3-key", "260892192061C8760BDF235E1619B057B334FED0EFA74F32", "F039121BEC83D26B169BDCD5B22AAF8F",
     "B0080P0TE00E00009AFD3EC2FB89B35F6CAE8889D7777611DFE04DA850A298BFD07667601FC01825"},
    {"BP-Tools D AES-128", "F45185EADC5B799819DC8F4C3B58EC73", "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0TE00E000013B674A99811C18AB8BCFB26D347F8449E68FC074858D85DC452E43910CDC2A5E9BFE75DC94415EC0A82072217D04E3"
     "5"},
    {"BP-Tools D AES-192", "6BF89E64F80DBC70E9D6AEB03454E6544A67F725436E3BD3", "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0TE00E00004101636D69EDAA41ACA5596D662C3AAC23A14B4305C5D0A434476F50DD68BFDA0A4EB63DC27DB6DAEA0E6AC684BABDB"
     "E"},
    {"BP-Tools D AES-256", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8",
     "D0112P0TE00E000058742769AD697DEF9FE0EAA32B222D622C0F469170702F5BE63E6DD3F50BF78859FBF437FD5CBE4508B19DAEE31A0EA"
     "B"},
};

TEST(Tr31, UnwrapsPublishedBlocks) {
  for (const auto& v : published) {
    SCOPED_TRACE(v.source);
    auto r = tr31_unwrap(hex(v.kbpk), v.block);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(to_hex(r->key), v.key);
  }
}

TEST(Tr31, UnwrapReturnsTheHeaderFields) {
  // [T31] A.7.3.2.
  auto r = tr31_unwrap(hex("1D22BF32387C600AD97F9B97A51311AC"),
                       "B0104B0TX12S0100KS1800604B120F9292800000BB68BE8680A400D9191AD4ECE45B6E6C0D21C4738A52190E24"
                       "8719E24B433627");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->header.version, 'B');
  EXPECT_EQ(r->header.usage, "B0");
  EXPECT_EQ(r->header.algorithm, 'T');
  EXPECT_EQ(r->header.mode_of_use, 'X');
  EXPECT_EQ(r->header.key_version, "12");
  EXPECT_EQ(r->header.exportability, 'S');
  ASSERT_EQ(r->header.optional_blocks.size(), 1U);
  EXPECT_EQ(r->header.optional_blocks[0].first, "KS");
  EXPECT_EQ(r->header.optional_blocks[0].second, "00604B120F9292800000");
}

struct known_wrap {
  const char* source;
  const char* kbpk;
  const char* key;
  const char* pad;
  const char* block;
};

// Blocks whose padding is published: wrapping with it must give the same characters.
const known_wrap published_wraps[] = {
    // [T31] A.7.4: padding 1C2965473CE206BB855B01533782.
    {"TR-31:2018 A.7.4", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8", "1C2965473CE206BB855B01533782",
     "D0112P0AE00E0000B82679114F470F540165EDFBF7E250FCEA43F810D215F8D207E2E417C07156A27E8E31DA05F7425509593D03A457DC3"
     "4"},
    // [X143] 8.1: padding 1A87BBFA2CFE78D383E5F4C6AA83473C 1C2965473CE206BB855B01533782.
    {"X9.143 8.1", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8", "1A87BBFA2CFE78D383E5F4C6AA83473C1C2965473CE206BB855B01533782",
     "D0144P0AE00E00002C77FA3F4A553BED6E88AE5C172A4166E3D4ACA8E2AC71C158A476FAC12C13C3829DE55D3AB54C48F4C4FEF7AC75E90F"
     "C47F1B77E7B19A73ED46E64410082557"},
    // [BPT] zero padding, versions A, B (2- and 3-key) and D (AES-128/192/256).
    {"BP-Tools A", "89E88CF7931444F334BD7547FC3F380C", "F039121BEC83D26B169BDCD5B22AAF8F", "000000000000",
     "A0072P0TE00E0000F5161ED902807AF26F1D62263644BD24D52C8D44AAEDA6D81752022B"},
    {"BP-Tools B 2-key", "DD7515F2BFC17F85CE48F3CA25CB21F6", "3F419E1CB7079442AA37474C2EFBF8B8", "000000000000",
     "B0080P0TE00E0000A2C7F59BE6B748A73A56D613E9DAFCAB38FD56EB5496120F0E16D23DF31E7CD8"},
    {"BP-Tools B 3-key, 3-key key", "F039121BEC83D26B169BDCD5B22AAF8FF039121BEC83D26B",
     "260892192061C8760BDF235E1619B057B334FED0EFA74F32", "000000000000",
     "B0096P0TB00E0000362D6B7B5D73969D3560CB6EE142206A34C9A0D5736619868843D35054F36B11C1BFFAA30E1EFB5D"},
    {"BP-Tools B 3-key", "260892192061C8760BDF235E1619B057B334FED0EFA74F32", "F039121BEC83D26B169BDCD5B22AAF8F",
     "000000000000", "B0080P0TE00E00009AFD3EC2FB89B35F6CAE8889D7777611DFE04DA850A298BFD07667601FC01825"},
    {"BP-Tools D AES-128", "F45185EADC5B799819DC8F4C3B58EC73", "3F419E1CB7079442AA37474C2EFBF8B8",
     "0000000000000000000000000000",
     "D0112P0TE00E000013B674A99811C18AB8BCFB26D347F8449E68FC074858D85DC452E43910CDC2A5E9BFE75DC94415EC0A82072217D04E3"
     "5"},
    {"BP-Tools D AES-192", "6BF89E64F80DBC70E9D6AEB03454E6544A67F725436E3BD3", "3F419E1CB7079442AA37474C2EFBF8B8",
     "0000000000000000000000000000",
     "D0112P0TE00E00004101636D69EDAA41ACA5596D662C3AAC23A14B4305C5D0A434476F50DD68BFDA0A4EB63DC27DB6DAEA0E6AC684BABDB"
     "E"},
    {"BP-Tools D AES-256", "88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6",
     "3F419E1CB7079442AA37474C2EFBF8B8", "0000000000000000000000000000",
     "D0112P0TE00E000058742769AD697DEF9FE0EAA32B222D622C0F469170702F5BE63E6DD3F50BF78859FBF437FD5CBE4508B19DAEE31A0EA"
     "B"},
};

TEST(Tr31, WrapWithPublishedPaddingReproducesPublishedBlock) {
  for (const auto& v : published_wraps) {
    SCOPED_TRACE(v.source);
    auto header = tr31_parse_header(v.block);
    ASSERT_TRUE(header.has_value()) << header.error().message();
    auto r = tr31_wrap(hex(v.kbpk), *header, hex(v.key), hex(v.pad));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, v.block);
  }
}

TEST(Tr31, WrapBuildsHeaderWithOptionalBlocksAndLength) {
  // The header of [T31] A.7.3.2 built field by field: the length digits are computed.
  tr31_header h;
  h.version = 'B';
  h.usage = "B0";
  h.algorithm = 'T';
  h.mode_of_use = 'X';
  h.key_version = "12";
  h.exportability = 'S';
  h.optional_blocks = {{"KS", "00604B120F9292800000"}};
  EXPECT_EQ(h.to_string(), "B0000B0TX12S0100KS1800604B120F9292800000");
  auto r = tr31_wrap(hex("1D22BF32387C600AD97F9B97A51311AC"), h, hex("E8BC63E5479455E26577F715D587FE68"));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->substr(0, 40), "B0104B0TX12S0100KS1800604B120F9292800000");
  EXPECT_EQ(r->size(), 104U);
}

TEST(Tr31, WrapAddsPadBlockForAes) {
  // Version D needs the header on a 16-character boundary: a 40-character header gets "PB08" +
  // 4 zeros (the form psec / moov-io tr31 write: "D0048P0TE00N0200KS1800604B120F9292800000PB080000").
  tr31_header h;
  h.version = 'D';
  h.usage = "P0";
  h.algorithm = 'T';
  h.mode_of_use = 'E';
  h.exportability = 'N';
  h.optional_blocks = {{"KS", "00604B120F9292800000"}};
  const auto kbpk = hex("88E1AB2A2E3DD38C1FA039A536500CC8A87AB9D62DC92C01058FA79F44657DE6");
  auto r = tr31_wrap(kbpk, h, hex("3F419E1CB7079442AA37474C2EFBF8B8"));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->substr(0, 48), std::string("D0144P0TE00N0200KS1800604B120F9292800000PB080000").replace(1, 4, "0144"));
  auto back = tr31_unwrap(kbpk, *r);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(to_hex(back->key), "3F419E1CB7079442AA37474C2EFBF8B8");
  ASSERT_EQ(back->header.optional_blocks.size(), 2U);
  EXPECT_EQ(back->header.optional_blocks[1].first, "PB");
}

TEST(Tr31, RoundTripsRandomKeysOfEveryVersionAndLength) {
  struct shape {
    char version;
    std::size_t kbpk;
    char algorithm;
    std::size_t key;
    const char* usage;
    char mode;
  };
  const shape shapes[] = {
      {'A', 16, 'T', 16, "P0", 'E'}, {'A', 24, 'T', 16, "M3", 'C'}, {'A', 24, 'T', 24, "K0", 'B'},
      {'B', 16, 'T', 16, "P0", 'B'}, {'B', 24, 'T', 16, "D0", 'D'}, {'B', 24, 'T', 24, "B0", 'X'},
      {'D', 16, 'T', 16, "C0", 'V'}, {'D', 16, 'T', 24, "V2", 'C'}, {'D', 16, 'A', 16, "P0", 'E'},
      {'D', 24, 'A', 24, "E0", 'X'}, {'D', 32, 'A', 16, "M6", 'G'}, {'D', 32, 'A', 32, "K1", 'B'},
      {'D', 32, 'H', 32, "M7", 'C'}, {'D', 24, 'T', 24, "B1", 'X'},
  };
  for (const auto& s : shapes) {
    for (int round = 0; round < 8; ++round) {
      SCOPED_TRACE(std::string(1, s.version) + " " + s.usage + " kbpk " + std::to_string(s.kbpk) + " key " +
                   std::to_string(s.key));
      const auto kbpk = random_bytes(s.kbpk).value();
      const auto key = random_bytes(s.key).value();
      tr31_header h;
      h.version = s.version;
      h.usage = s.usage;
      h.algorithm = s.algorithm;
      h.mode_of_use = s.mode;
      h.exportability = 'E';
      if (round % 2 == 1) h.optional_blocks = {{"KS", "FFFF9876543210E00000"}, {"T1", "x"}};
      auto block = tr31_wrap(kbpk, h, key);
      ASSERT_TRUE(block.has_value()) << block.error().message();
      auto back = tr31_unwrap(kbpk, *block);
      ASSERT_TRUE(back.has_value()) << back.error().message() << " " << *block;
      EXPECT_TRUE(equal_ct(back->key, key));
      EXPECT_EQ(back->header.usage, s.usage);
      EXPECT_EQ(back->header.mode_of_use, s.mode);
      EXPECT_EQ(back->header.algorithm, s.algorithm);
    }
  }
}

TEST(Tr31, RandomPaddingDiffersBetweenWraps) {
  const auto kbpk = hex("DD7515F2BFC17F85CE48F3CA25CB21F6");
  tr31_header h;
  h.version = 'B';
  h.mode_of_use = 'E';
  const auto a = tr31_wrap(kbpk, h, hex("3F419E1CB7079442AA37474C2EFBF8B8")).value();
  const auto b = tr31_wrap(kbpk, h, hex("3F419E1CB7079442AA37474C2EFBF8B8")).value();
  EXPECT_EQ(a.size(), 80U);
  EXPECT_NE(a, b);
}

// --- tampering: a changed character anywhere fails the MAC ---

void expect_mac_failure(std::string_view kbpk, std::string block, std::size_t at) {
  // Replace the character with another one of the same kind, so the block still parses.
  char& c = block[at];
  c = c == '0' ? '1' : (c >= '0' && c <= '9') ? '0' : (c == 'A' ? 'B' : 'A');
  auto r = tr31_unwrap(hex(kbpk), block);
  ASSERT_FALSE(r.has_value()) << "position " << at;
  EXPECT_EQ(r.error().code, errc::key_block_mac) << "position " << at << ": " << r.error().message();
}

TEST(Tr31, TamperedBlocksFailTheMac) {
  // [T31] A.7.2.1 (A), A.7.2.2 (B), A.7.4 (D).
  const known_block* cases[] = {&published[0], &published[1], &published[3]};
  for (const auto* v : cases) {
    SCOPED_TRACE(v->source);
    const std::string block = v->block;
    expect_mac_failure(v->kbpk, block, 9);                  // key version digit in the header
    expect_mac_failure(v->kbpk, block, 10);                 // the other key version digit
    expect_mac_failure(v->kbpk, block, 20);                 // a key field character
    expect_mac_failure(v->kbpk, block, block.size() - 20);  // a key field character near the end
    expect_mac_failure(v->kbpk, block, block.size() - 1);   // a MAC character
  }
}

TEST(Tr31, WrongKbpkFailsTheMac) {
  // F6 -> E6: not just the DES parity bit, which TDES ignores.
  auto r = tr31_unwrap(hex("DD7515F2BFC17F85CE48F3CA25CB21E6"), published[1].block);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::key_block_mac);
  // [PSEC] test_kb_unwrap_exceptions: MAC does not match.
  const auto kbpk = hex("45454545454545454545454545454545");
  EXPECT_EQ(tr31_unwrap(kbpk, "A0056M3TC00E0000BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB9AA5BBA6").error().code,
            errc::key_block_mac);
  EXPECT_EQ(tr31_unwrap(kbpk, "B0064M3TC00E0000BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBFFFFFFFF9AA5BBA6").error().code,
            errc::key_block_mac);
}

// --- malformed blocks ---

void expect_bad_block(std::string_view kbpk, std::string_view block, std::string_view detail_part) {
  auto r = tr31_unwrap(hex(kbpk), block);
  ASSERT_FALSE(r.has_value()) << block;
  EXPECT_EQ(r.error().code, errc::bad_key_block) << block << ": " << r.error().message();
  EXPECT_NE(r.error().detail.find(detail_part), std::string::npos) << r.error().detail;
}

TEST(Tr31, MalformedBlocksAreRefused) {
  const char* kbpk = "DD7515F2BFC17F85CE48F3CA25CB21F6";
  const std::string good = published[1].block;
  expect_bad_block(kbpk, "", "16");
  expect_bad_block(kbpk, "B0080P0TE00E", "16");
  // Length field: not digits, or not the block's length ([PSEC] test_kb_unwrap_exceptions).
  expect_bad_block(kbpk, "BX040P0TE00N0000", "length field");
  expect_bad_block(kbpk, "B0040P0TE00N0000", "length field says 40");
  expect_bad_block(kbpk, good.substr(0, good.size() - 2), "length field says 80");
  expect_bad_block(kbpk, good + "00", "length field says 80");
  // Version.
  expect_bad_block(kbpk, "X" + good.substr(1), "version 'X'");
  expect_bad_block(kbpk, "C" + good.substr(1), "version C");
  expect_bad_block(kbpk, "_0000P0TE00N0000", "version 0x5F");
  // Odd or non-hex key field / MAC.
  std::string odd = good;
  odd[30] = 'G';
  expect_bad_block(kbpk, odd, "hex");
  std::string lower = good;
  lower[17] = 'b';
  expect_bad_block(kbpk, lower, "hex");
  expect_bad_block(kbpk, "B0079" + good.substr(5, 74), "key field");
  // Key field not whole blocks ([PSEC]: "Key block length (87) must be multiple of 8").
  expect_bad_block(kbpk, "A0087M3TC00E000062C2C14D8785A01A9E8283525CA96F490D0CC6346FC7C2AC1E6FF354468910379AA5BBA",
                   "key field");
  // No key field at all ([PSEC] "Encrypted key is malformed").
  expect_bad_block(kbpk, "A0024M3TC00E00009AA5BBA6", "key field");
  expect_bad_block(kbpk, "B0032M3TC00E0000FFFFFFFF9AA5BBA6", "key field");
  // Reserved field, counts, exportability.
  expect_bad_block(kbpk, "B0080P0TE00E0001" + good.substr(16), "reserved");
  expect_bad_block(kbpk, "B0080P0TE00E0X00" + good.substr(16), "optional block count");
  expect_bad_block(kbpk, "B0080P0TE00X0000" + good.substr(16), "exportability");
}

TEST(Tr31, DecryptedKeyLengthMustFit) {
  // [PSEC] test_kb_unwrap_exceptions, KBPK "E"*16: a key length field of 0 bits, then of 128 bits
  // in a 14-byte field. Both MACs verify; the key field is refused.
  const auto kbpk = "45454545454545454545454545454545";
  expect_bad_block(kbpk, "A0056M3TC00E0000ABE3EB7813FD4031BCBAEC1FCAB750BB920E4863", "0 bits");
  expect_bad_block(kbpk, "B0064M3TC00E000013F1B06566ECAE897A6DF8C7AA651FCEF9480447EEEC9933", "0 bits");
  expect_bad_block(kbpk, "A0056M3TC00E0000EF14FD71CFCDCE0630AD5C1CDE0041DCF95CF1D0", "128 bits");
  expect_bad_block(kbpk, "B0064M3TC00E00000398DC96A5DDB0EF61E26F8935173BD478DF9484050A672A", "128 bits");
}

TEST(Tr31, SingleLengthTdesKeysAreRefused) {
  // [PSEC] test_kb_known_values: an 8-byte M3 key under a 2-key KBPK. The MAC verifies; the
  // single-length key is refused.
  expect_bad_block("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB",
                   "A0088M3TC00E000062C2C14D8785A01A9E8283525CA96F490D0CC6346FC7C2AC1E6FF354468910379AA5BBA6",
                   "16 or 24 bytes");
  expect_bad_block("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB",
                   "B0096M3TC00E0000B6CD513680EF255FC0DC590726FD0129A7CF6602E7F271631AB4EE7350642F11181AF4CC12F12FD9",
                   "16 or 24 bytes");
}

TEST(Tr31, KbpkLengthMustSuitTheVersion) {
  auto r = tr31_unwrap(hex("DD7515F2BFC17F85"), published[1].block);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::bad_key_length);
  r = tr31_unwrap(hex("DD7515F2BFC17F85CE48F3CA25CB21F6DD7515F2BFC17F85CE48F3CA25CB21F6"), published[0].block);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::bad_key_length);
  r = tr31_unwrap(hex("88E1AB2A2E3DD38C1FA039A536500C"), published[3].block);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, errc::bad_key_length);
}

// --- header parsing ---

TEST(Tr31, ParsesOptionalBlocks) {
  // [PSEC] test_header_load_optional_*: plain, padded, extended length, several blocks.
  std::size_t used = 0;
  auto h = tr31_parse_header("B0000P0TE00N0100KS1800604B120F9292800000xxxxxxxx", used);
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_EQ(used, 40U);
  ASSERT_EQ(h->optional_blocks.size(), 1U);
  EXPECT_EQ(h->optional_blocks[0].second, "00604B120F9292800000");

  h = tr31_parse_header("B0000P0TE00N0200KS00011600604B120F9292PB0A000000", used);
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_EQ(used, 48U);
  EXPECT_EQ(h->optional_blocks[0].second, "00604B120F9292");
  EXPECT_EQ(h->optional_blocks[1].first, "PB");
  EXPECT_EQ(h->optional_blocks[1].second, "000000");

  h = tr31_parse_header("B0000P0TE00N0200KS0002010A" + std::string(256, 'P') + "PB0600", used);
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_EQ(used, 288U);
  EXPECT_EQ(h->optional_blocks[0].second, std::string(256, 'P'));
  // Re-encoded, a block past 255 characters uses the extended form.
  EXPECT_EQ(h->to_string(), "B0000P0TE00N0200KS0002010A" + std::string(256, 'P') + "PB0600");

  h = tr31_parse_header("B0000P0TE00N0400KS1800604B120F9292800000T104T20600PB0600", used);
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_EQ(used, 56U);
  ASSERT_EQ(h->optional_blocks.size(), 4U);
  EXPECT_EQ(h->optional_blocks[1].first, "T1");
  EXPECT_EQ(h->optional_blocks[1].second, "");
  EXPECT_EQ(h->optional_blocks[2].second, "00");
}

TEST(Tr31, RefusesMalformedOptionalBlocks) {
  // [PSEC] test_header_block_load_exceptions (the error cases, not the messages).
  const char* bad_headers[] = {
      "B0000P0TE00N0100",
      "B0000P0TE00N0100K",
      "B0000P0TE00N0100KS",
      "B0000P0TE00N0100KS1",
      "B0000P0TE00N0100KS1Y",
      "B0000P0TE00N0100KS02",
      "B0000P0TE00N0100KS071",
      "B0000P0TE00N0100KS00",
      "B0000P0TE00N0100KS001",
      "B0000P0TE00N0100KS001S",
      "B0000P0TE00N0100KS0000",
      "B0000P0TE00N0100KS0001",
      "B0000P0TE00N0100KS00010",
      "B0000P0TE00N0100KS00010H",
      "B0000P0TE00N0100KS000101",
      "B0000P0TE00N0100KS0001FF",
      "B0000P0TE00N0200KS07000T",
      "B0000P0TE00N0200KS0600TT",
      "B0000P0TE00N0200KS050TT1",
      "B0000P0TE00N0200KS04TT1X",
      "B0000P0TE00N0200KS04TT03",
      "B0000P0TE00N0200KS04TT05",
      "B0000P0TE00N0100**04",
      "B0000P0TE00N0200KS0600??04",
      "B0000P0TE00N0100KS05\x03",
      "B0000P0TE00N0200KS04TT05\xFF",
      // A pad block that is not the last one.
      "B0000P0TE00N0200PB04KS04",
  };
  for (const char* text : bad_headers) {
    auto h = tr31_parse_header(text);
    ASSERT_FALSE(h.has_value()) << text;
    EXPECT_EQ(h.error().code, errc::bad_key_block) << text;
  }
}

TEST(Tr31, EnforcesUsageAlgorithmAndModeCombinations) {
  struct probe {
    const char* header;
    bool ok;
  };
  const probe probes[] = {
      {"B0000P0TE00N0000", true},  {"B0000P0TD00N0000", true},  {"B0000P0TB00N0000", true},
      {"B0000P0TC00N0000", false}, {"B0000P0TX00N0000", false}, {"B0000P0TN00N0000", false},
      {"B0000M0TC00N0000", true},  {"B0000M3TG00N0000", true},  {"B0000M8TV00N0000", true},
      {"B0000M1TE00N0000", false}, {"B0000M9TC00N0000", false}, {"B0000K0TE00N0000", true},
      {"B0000K0TB00N0000", true},  {"B0000K0TN00N0000", true},  {"B0000K0TX00N0000", false},
      {"B0000B0TX00N0000", true},  {"B0000B0TE00N0000", false}, {"B0000E0TX00N0000", true},
      {"B0000E6TX00N0000", true},  {"B0000E0TB00N0000", false}, {"B0000C0TC00N0000", true},
      {"B0000C0TE00N0000", false}, {"B0000V1TV00N0000", true},  {"B0000V2TG00N0000", true},
      {"B0000V1TE00N0000", false}, {"B0000D0TE00N0000", true},  {"B0000D0TC00N0000", false},
      {"D0000D0AB00N0000", true},  {"D0000M7HC00N0000", true},  {"D0000M7TC00N0000", false},
      {"D0000P0DE00N0000", false}, {"B0000P0AE00N0000", false}, {"A0000K0AE00N0000", false},
      {"D0000P0AE00N0000", true},  {"D0000ZZTE00N0000", false}, {"B0000P0TE0_N0000", false},
  };
  for (const auto& p : probes) {
    auto h = tr31_parse_header(p.header);
    EXPECT_EQ(h.has_value(), p.ok) << p.header << (h ? "" : ": " + h.error().message());
    if (!h) {
      EXPECT_EQ(h.error().code, errc::bad_key_block);
    }
  }
  // The detail names the field and what is allowed.
  EXPECT_EQ(tr31_parse_header("B0000P0TC00N0000").error().detail,
            "mode of use 'C' is not allowed for key usage P0 (PIN encryption key; allowed: E, D, B)");
}

TEST(Tr31, WrapRefusesBadHeadersKeysAndPadding) {
  const auto kbpk16 = hex("DD7515F2BFC17F85CE48F3CA25CB21F6");
  const auto key16 = hex("3F419E1CB7079442AA37474C2EFBF8B8");
  tr31_header h;
  h.version = 'B';
  h.mode_of_use = 'E';
  h.usage = "M0";  // a MAC key cannot be "encrypt only"
  EXPECT_EQ(tr31_wrap(kbpk16, h, key16).error().code, errc::bad_key_block);
  h.usage = "P0";
  h.algorithm = 'A';  // an AES key under a TDES KBPK
  EXPECT_EQ(tr31_wrap(kbpk16, h, key16).error().code, errc::bad_key_block);
  h.algorithm = 'T';
  EXPECT_EQ(tr31_wrap(kbpk16, h, hex("3F419E1CB7079442")).error().code, errc::bad_key_length);
  EXPECT_EQ(tr31_wrap(kbpk16, h, hex("3F419E1CB7079442AA37474C2EFBF8B83F419E1CB7079442")).error().code,
            errc::bad_key_length);  // a 3-key key under a 2-key KBPK
  EXPECT_EQ(tr31_wrap(hex("DD7515F2BFC17F85"), h, key16).error().code, errc::bad_key_length);
  EXPECT_EQ(tr31_wrap(kbpk16, h, key16, hex("0000")).error().code, errc::bad_input);
  h.version = 'D';
  h.algorithm = 'A';
  EXPECT_EQ(tr31_wrap(kbpk16, h, hex("3F419E1CB7079442AA37474C2EFBF8B83F419E1CB7079442AA37474C2EFBF8B8")).error().code,
            errc::bad_key_length);  // AES-256 key under an AES-128 KBPK
  h.optional_blocks = {{"KS", "bad\x01"}};
  EXPECT_EQ(tr31_wrap(kbpk16, h, key16).error().code, errc::bad_key_block);
  h.optional_blocks = {{"KS", std::string(9990, 'P')}};
  EXPECT_EQ(tr31_wrap(kbpk16, h, key16).error().code, errc::bad_key_block);  // past 9999 characters
}

// --- key use ---

TEST(Tr31, AllowsOnlyTheOperationsOfTheUsageAndMode) {
  const auto header = [](const char* text) { return tr31_parse_header(text).value(); };
  const auto pin = header("B0000P0TE00N0000");
  EXPECT_TRUE(tr31_allows(pin, key_use::pin_encrypt));
  EXPECT_FALSE(tr31_allows(pin, key_use::pin_decrypt));
  EXPECT_FALSE(tr31_allows(pin, key_use::mac_generate));
  EXPECT_TRUE(tr31_allows(header("B0000P0TB00N0000"), key_use::pin_decrypt));

  const auto mac_gen = header("B0000M3TG00N0000");
  EXPECT_TRUE(tr31_allows(mac_gen, key_use::mac_generate));
  EXPECT_FALSE(tr31_allows(mac_gen, key_use::mac_verify));
  EXPECT_TRUE(tr31_allows(header("B0000M1TC00N0000"), key_use::mac_verify));
  EXPECT_TRUE(tr31_allows(header("D0000M6AV00N0000"), key_use::mac_verify));

  EXPECT_TRUE(tr31_allows(header("B0000D0TD00N0000"), key_use::data_decrypt));
  EXPECT_FALSE(tr31_allows(header("B0000D0TD00N0000"), key_use::data_encrypt));
  EXPECT_TRUE(tr31_allows(header("D0000D0AN00N0000"), key_use::data_encrypt));
  EXPECT_TRUE(tr31_allows(header("B0000B0TX00N0000"), key_use::derive));
  EXPECT_TRUE(tr31_allows(header("B0000B0TN00N0000"), key_use::derive));
  EXPECT_FALSE(tr31_allows(header("B0000B0TX00N0000"), key_use::pin_encrypt));
  EXPECT_TRUE(tr31_allows(header("B0000C0TV00N0000"), key_use::verify_cvv));
  EXPECT_FALSE(tr31_allows(header("B0000C0TV00N0000"), key_use::generate_cvv));
  EXPECT_TRUE(tr31_allows(header("B0000V2TC00N0000"), key_use::verify_pin));
  EXPECT_TRUE(tr31_allows(header("B0000V1TG00N0000"), key_use::generate_pin_ref));
  EXPECT_FALSE(tr31_allows(header("B0000V1TG00N0000"), key_use::verify_pin));
  EXPECT_TRUE(tr31_allows(header("B0000K0TE00N0000"), key_use::wrap_key));
  EXPECT_FALSE(tr31_allows(header("B0000K0TE00N0000"), key_use::unwrap_key));
  EXPECT_TRUE(tr31_allows(header("B0000K0TN00N0000"), key_use::unwrap_key));
  EXPECT_TRUE(tr31_allows(header("B0000E0TX00N0000"), key_use::arqc));
  EXPECT_FALSE(tr31_allows(header("B0000E1TX00N0000"), key_use::arqc));

  const auto refused = tr31_require(pin, key_use::mac_generate);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, errc::key_usage);
  EXPECT_EQ(refused.error().detail,
            "a P0 key (PIN encryption key) with mode of use 'E' cannot be used for MAC generation");
  EXPECT_TRUE(tr31_require(pin, key_use::pin_encrypt).has_value());
}

}  // namespace
}  // namespace eft::crypto
