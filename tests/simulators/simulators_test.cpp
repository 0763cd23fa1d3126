// The simulators without sockets: termsim's requests (PIN blocks under a TPK, field 55 from the
// EMV card side) against hostsim's issuer, whose PIN values are computed here independently with
// the crypto library (PVV, IBM 3624 offset); the ARPC is checked by the card side; rules, balances
// and reversals; config errors naming file and line; histogram percentiles.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>

#include "eft/config/error.hpp"
#include "eft/crypto/card_verification.hpp"
#include "eft/crypto/dukpt.hpp"
#include "eft/crypto/mac.hpp"
#include "eft/crypto/pin_block.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/spec.hpp"
#include "eft/simulators/config.hpp"
#include "eft/simulators/histogram.hpp"
#include "eft/simulators/issuer.hpp"
#include "eft/simulators/terminal.hpp"
#include "eft/simulators/wire.hpp"

namespace eft::simulators {
namespace {

namespace fs = std::filesystem;

// Test keys. The IMK is the one of the pyemv vectors the emv tests use.
constexpr std::string_view zpk_hex = "89ABCDEF01234567FEDCBA9876543210";
constexpr std::string_view pvk_hex = "5B8CE3D0F2A16E97C41D3B8A09E6F275";
constexpr std::string_view ibm_pvk_hex = "7A3F19C6E2B4D8050C6E91A7F3B2D48E";
constexpr std::string_view imk_hex = "0123456789ABCDEFFEDCBA9876543210";

crypto::secure_bytes key(std::string_view h) {
  return crypto::secure_from_hex(h).value();
}

class Simulators : public ::testing::Test {
 protected:
  void SetUp() override {
    spec = iso8583::load_spec("iso87-binary");
    term_cfg.id = "POS00001";
    term_cfg.merchant = "TEST-SHOP-00001";
    term_cfg.pin_key = key(zpk_hex);  // no switch in between: the terminal encrypts under the host's key
    tcfg.terminals.push_back(std::move(term_cfg));
    tcfg.currency = "978";

    card_config visa;
    visa.pan = "4761739001010010";
    visa.pin = "1234";
    visa.cvn = emv::cryptogram_version::visa_18;
    visa.psn = "01";
    visa.imk = key(imk_hex);
    tcfg.cards.push_back(std::move(visa));
    card_config mc;
    mc.pan = "5413330089600010";
    mc.pin = "4321";
    mc.cvn = emv::cryptogram_version::mastercard_16;
    mc.imk = key(imk_hex);
    tcfg.cards.push_back(std::move(mc));
    card_config mag;
    mag.pan = "4000000000000002";
    mag.pin = "1111";
    mag.chip = false;
    tcfg.cards.push_back(std::move(mag));

    hcfg.zpk = key(zpk_hex);
    hcfg.pvk = key(pvk_hex);
    hcfg.pvki = 1;
    hcfg.ibm3624_pvk = key(ibm_pvk_hex);
    hcfg.imk = key(imk_hex);
    // The issuer's PIN verification values, computed here from the cardholders' PINs.
    issuer_card v;
    v.pan = "4761739001010010";
    v.pvv = crypto::generate_pvv(hcfg.pvk.view(), 1, "1234", v.pan).value();
    v.balance = 10000;
    hcfg.cards.push_back(v);
    issuer_card m;
    m.pan = "5413330089600010";
    const auto vd = crypto::ibm3624_validation_data(hcfg.validation_data, m.pan).value();
    m.offset = crypto::ibm3624_offset(hcfg.ibm3624_pvk.view(), hcfg.decimalization, vd, "4321").value();
    m.limit = 5000;
    hcfg.cards.push_back(m);
    issuer_card d;
    d.pan = "4000000000000002";
    d.pvv = crypto::generate_pvv(hcfg.pvk.view(), 1, "1111", d.pan).value();
    d.decline = "05";
    hcfg.cards.push_back(d);
    term.emplace(tcfg.terminals[0], 0, 1);
  }

  /// Builds a request at the terminal, packs and unpacks it (as the wire would), lets the issuer
  /// answer, and checks the answer at the terminal.
  answer_check round_trip(issuer& iss, std::size_t card, txn_type type, std::uint64_t amount,
                          const txn_context* original = nullptr, txn_context* ctx_out = nullptr) {
    iso8583::message req(*spec), wire(*spec), ans(*spec);
    txn_context ctx;
    const auto err = build_request(tcfg, *term, tcfg.cards[card], type, amount, original, rng, req, ctx);
    EXPECT_EQ(err, "");
    const auto packed = pack_request(tcfg.terminals[0], req);
    EXPECT_TRUE(packed);
    EXPECT_TRUE(iso8583::unpack(*packed, wire));
    const auto d = iss.handle(wire, ans, *packed);
    EXPECT_TRUE(d.answer);
    const auto answer = iss.pack_answer(ans);
    EXPECT_TRUE(answer);
    iss.note_answer_sent(d.answer_key);  // as hostsim does once the answer is written
    const std::vector<std::byte> body = answer.value_or(std::vector<std::byte>{});
    iso8583::message back(*spec);
    EXPECT_TRUE(iso8583::unpack(body, back));
    if (ctx_out != nullptr) *ctx_out = ctx;
    return check_answer(*term, ctx, back, body);
  }

  std::shared_ptr<const iso8583::spec> spec;
  terminal_config term_cfg;
  termsim_config tcfg;
  hostsim_config hcfg;
  std::optional<terminal_state> term;
  std::mt19937_64 rng{42};
};

/// A dialect with the 16-byte PIN field ISO format 4 needs.
std::shared_ptr<const iso8583::spec> spec_with_aes_pin_block() {
  std::ifstream in(EFT_SPECS_DIR "/iso87-binary.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("  52:");
  EXPECT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "  52:  {name: \"PIN data\", class: b, length: 16, sensitive: pin}");
  return std::make_shared<const iso8583::spec>(iso8583::parse_spec(text, "iso87-binary-aes-pin"));
}

/// A directory of its own for a test's files, removed at the end of the test.
struct temp_dir {
  temp_dir() : path(fs::temp_directory_path() / ("simcfg-" + std::to_string(::getpid()) + "-" + name())) {
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
  static std::string name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }
  fs::path write(const std::string& file, const std::string& text) const {
    std::ofstream(path / file) << text;
    return path / file;
  }
  fs::path path;
};

TEST_F(Simulators, ChipPurchaseWithPinIsApprovedAndTheCardAcceptsTheArpc) {
  issuer iss(hcfg);
  const auto visa = round_trip(iss, 0, txn_type::purchase, 1234);
  EXPECT_EQ(visa.rc, "00");
  EXPECT_TRUE(visa.ok()) << visa.mismatches;
  const auto mc = round_trip(iss, 1, txn_type::atm_withdrawal, 2000);
  EXPECT_EQ(mc.rc, "00");
  EXPECT_TRUE(mc.ok()) << mc.mismatches;
  const auto rec = iss.record();
  EXPECT_EQ(rec["counters"]["pin_verified"], 2);
  EXPECT_EQ(rec["counters"]["arqc_verified"], 2);
  EXPECT_EQ(rec["answered"]["0210/00"], 2);
}

TEST_F(Simulators, WrongPinIsDeclined55) {
  tcfg.cards[0].pin = "9999";
  issuer iss(hcfg);
  const auto r = round_trip(iss, 0, txn_type::purchase, 100);
  EXPECT_EQ(r.rc, "55");
  EXPECT_TRUE(r.ok()) << "a decline still carries a valid ARPC: " << r.mismatches;
  EXPECT_EQ(iss.record()["counters"]["pin_wrong"], 1);
}

TEST_F(Simulators, ForgedCryptogramIsDeclinedWithoutArpc) {
  tcfg.cards[0].imk = key("FEDCBA98765432100123456789ABCDEF");  // the card's key differs from the issuer's
  issuer iss(hcfg);
  const auto r = round_trip(iss, 0, txn_type::contactless, 500);
  EXPECT_EQ(r.rc, "05");
  EXPECT_EQ(iss.record()["counters"]["arqc_wrong"], 1);
}

TEST_F(Simulators, RulesBalancesLimitsAndReversals) {
  issuer iss(hcfg);
  EXPECT_EQ(round_trip(iss, 2, txn_type::magstripe_fallback, 100).rc, "05");  // declined by card rule
  EXPECT_EQ(round_trip(iss, 1, txn_type::purchase, 5001).rc, "61");           // over the card's limit
  txn_context first;
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 8000, nullptr, &first).rc, "00");  // balance 100.00 -> 20.00
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 3000).rc, "51");                   // not enough left
  const auto rev = round_trip(iss, 0, txn_type::reversal, 0, &first);
  EXPECT_EQ(rev.rc, "00");
  EXPECT_TRUE(rev.ok()) << rev.mismatches;
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 3000).rc, "00");  // the reversal gave the 80.00 back
  const auto rec = iss.record();
  EXPECT_EQ(rec["counters"]["reversals_applied"], 1);
  EXPECT_EQ(rec["answered"]["0410/00"], 1);
}

TEST_F(Simulators, NetworkManagementAndUnexpectedMessages) {
  issuer iss(hcfg);
  iso8583::message req(*spec), ans(*spec);
  req.set_mti("0800");
  req.set(7, "1126101010");
  req.set(11, "000777");
  req.set(70, "301");
  ASSERT_TRUE(iss.handle(req, ans).answer);
  EXPECT_EQ(ans.mti(), "0810");
  EXPECT_EQ(ans.get(39).value_or(""), "00");
  EXPECT_EQ(ans.get(11).value_or(""), "000777");
  EXPECT_EQ(ans.get(70).value_or(""), "301");
  req.clear();
  req.set_mti("0210");  // an answer sent to a host
  req.set(2, "4761739001010010");
  req.set(11, "000001");
  EXPECT_FALSE(iss.handle(req, ans).answer);
  const auto rec = iss.record();
  EXPECT_EQ(rec["malformed"]["unexpected_mti"], 1);
  ASSERT_EQ(rec["malformed_samples"].size(), 1U);
  const std::string sample = rec["malformed_samples"][0];
  EXPECT_NE(sample.find("476173******0010"), std::string::npos) << sample;  // shown decoded, masked
  EXPECT_EQ(sample.find("4761739001010010"), std::string::npos) << sample;
  EXPECT_EQ(rec["counters"]["echo"], 1);
}

// ISO 8583:1993 on both simulators: MTIs 1xxx, function codes in field 24, action codes in field 39,
// a reversal's original in field 56. The expected codes are those of the standard's tables (function
// codes 200 original financial request, 400 full reversal, 831 echo test; action codes 000 approved,
// 100 do not honour, 116 not sufficient funds, 117 incorrect PIN, 121 exceeds withdrawal amount
// limit, 400 and 800 accepted), not read back from the simulators' own table.
class Simulators1993 : public Simulators {
 protected:
  void SetUp() override {
    Simulators::SetUp();
    spec = iso8583::load_spec("iso93-ascii");
    tcfg.target.spec = "iso93-ascii";
    tcfg.target.edition = iso_edition::v1993;
  }
  iso8583::message request(std::size_t card, txn_type type, std::uint64_t amount, const txn_context* original,
                           txn_context& ctx) {
    iso8583::message m(*spec);
    EXPECT_EQ(build_request(tcfg, *term, tcfg.cards[card], type, amount, original, rng, m, ctx), "");
    return m;
  }
};

TEST_F(Simulators1993, PurchasesAreFinancialRequestsAnsweredWithActionCodes) {
  txn_context ctx;
  const auto req = request(0, txn_type::purchase, 1234, nullptr, ctx);
  EXPECT_EQ(req.mti(), "1200");
  EXPECT_EQ(req.get(24).value_or(""), "200");
  EXPECT_EQ(req.get(12).value_or("").size(), 12U);        // YYMMDDhhmmss
  EXPECT_EQ(req.get(22).value_or("").size(), 12U);        // point of service data code
  EXPECT_EQ(req.get(22).value_or("").substr(6, 1), "5");  // card data input mode: ICC
  EXPECT_FALSE(req.has(13));  // 1993's field 13 is the effective date, which termsim does not know
  EXPECT_FALSE(req.has(25));  // 1993's field 25 is a message reason code
  issuer iss(hcfg);
  const auto r = round_trip(iss, 0, txn_type::purchase, 1234);
  EXPECT_EQ(r.rc, "000");
  EXPECT_TRUE(r.ok()) << "answer MTI 1210, ARPC accepted by the card: " << r.mismatches;
  const auto rec = iss.record();
  EXPECT_EQ(rec["answered"]["1210/000"], 1);
  EXPECT_EQ(rec["counters"]["pin_verified"], 1);
  EXPECT_EQ(rec["counters"]["arqc_verified"], 1);
}

TEST_F(Simulators1993, DeclinesCarryTheStandardsActionCodes) {
  issuer iss(hcfg);
  EXPECT_EQ(round_trip(iss, 2, txn_type::magstripe_fallback, 100).rc, "100");  // card rule 05: do not honour
  EXPECT_EQ(round_trip(iss, 1, txn_type::purchase, 5001).rc, "121");           // over the card's limit
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 8000).rc, "000");
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 3000).rc, "116");  // not sufficient funds
  tcfg.cards[0].pin = "9999";
  const auto wrong = round_trip(iss, 0, txn_type::purchase, 100);
  EXPECT_EQ(wrong.rc, "117");  // incorrect PIN
  EXPECT_TRUE(wrong.ok()) << "a decline still carries a valid ARPC: " << wrong.mismatches;
}

TEST_F(Simulators1993, ReversalsAreAdvicesNamingTheirOriginalInField56) {
  issuer iss(hcfg);
  txn_context first;
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 8000, nullptr, &first).rc, "000");  // 100.00 -> 20.00
  txn_context ctx;
  const auto req = request(0, txn_type::reversal, 0, &first, ctx);
  EXPECT_EQ(req.mti(), "1420");
  EXPECT_EQ(req.get(24).value_or(""), "400");
  EXPECT_EQ(req.get(std::string_view("56.1")).value_or(""), "1200");
  EXPECT_EQ(req.get(std::string_view("56.2")).value_or(""), first.stan);
  EXPECT_EQ(req.get(std::string_view("56.3")).value_or(""), first.local_time);
  EXPECT_EQ(first.local_time.size(), 12U);
  EXPECT_FALSE(req.has(90));
  const auto rev = round_trip(iss, 0, txn_type::reversal, 0, &first);
  EXPECT_EQ(rev.rc, "400");
  EXPECT_TRUE(rev.ok()) << rev.mismatches;
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 3000).rc, "000");  // the reversal gave the 80.00 back
  const auto rec = iss.record();
  EXPECT_EQ(rec["counters"]["reversals_applied"], 1);
  EXPECT_EQ(rec["answered"]["1430/400"], 1);
}

TEST_F(Simulators1993, NetworkManagementNamesItsFunctionInField24) {
  issuer iss(hcfg);
  iso8583::message req(*spec), ans(*spec);
  req.set_mti("1804");
  req.set(7, "1126101010");
  req.set(11, "000777");
  req.set(24, "831");
  ASSERT_TRUE(iss.handle(req, ans).answer);
  EXPECT_EQ(ans.mti(), "1814");
  EXPECT_EQ(ans.get(39).value_or(""), "800");
  EXPECT_EQ(ans.get(24).value_or(""), "831");
  EXPECT_EQ(iss.record()["counters"]["echo"], 1);
}

TEST(SimulatorConfig, TheEditionMustFitTheSpec) {
  temp_dir dir;
  const std::string rest =
      "terminals:\n"
      "  - {id: POS1, pin_key: 0123456789ABCDEFFEDCBA9876543210}\n"
      "cards:\n"
      "  - {pan: \"4761739001010010\", chip: false}\n";
  const auto refusal = [](const fs::path& f) -> std::string {
    try {
      (void)load_termsim_config(f);
      return "accepted";
    } catch (const config::config_error& e) {
      return e.what();
    }
  };
  const auto v93_on_87 =
      refusal(dir.write("a.yaml", "target: {port: 5000, spec: iso87-ascii,\n  version: 1993}\n" + rest));
  EXPECT_NE(v93_on_87.find("a.yaml:2:"), std::string::npos) << v93_on_87;
  EXPECT_NE(v93_on_87.find("lacks: 12 (local date and time, n 12), 39 (action code, n 3), 56"), std::string::npos)
      << v93_on_87;
  EXPECT_NE(v93_on_87.find("use spec: iso93-ascii"), std::string::npos) << v93_on_87;
  const auto v87_on_93 = refusal(dir.write("b.yaml", "target: {port: 5000, spec: iso93-ascii}\n" + rest));
  EXPECT_NE(v87_on_93.find("b.yaml:1:"), std::string::npos) << v87_on_93;
  EXPECT_NE(v87_on_93.find("add version: 1993"), std::string::npos) << v87_on_93;
  const auto unknown = refusal(dir.write("c.yaml", "target: {port: 5000, version: 2003}\n" + rest));
  EXPECT_NE(unknown.find("target.version '2003' is unknown"), std::string::npos) << unknown;
  EXPECT_EQ(refusal(dir.write("d.yaml", "target: {port: 5000, spec: iso93-ascii, version: 1993}\n" + rest)),
            "accepted");
  EXPECT_EQ(load_termsim_config(dir.path / "d.yaml").target.edition, iso_edition::v1993);
  // A host answering in ISO 8583:1993 needs an action code for every response code its rules name.
  const auto host = dir.write("h.yaml",
                              "listeners:\n  - {port: 7000, spec: iso93-ascii}\n"
                              "cards:\n  - {pan: \"4761739001010010\", decline: \"06\"}\n");
  try {
    (void)load_hostsim_config(host);
    FAIL() << "accepted a decline code without an action code";
  } catch (const config::config_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("h.yaml:4:"), std::string::npos) << m;
    EXPECT_NE(m.find("'06' has no ISO 8583:1993 action code"), std::string::npos) << m;
  }
}

TEST_F(Simulators, FaultRulesApplyToMatchingRequests) {
  fault_rule f;
  f.action = fault_action::no_answer;
  f.amount = 6666;
  hcfg.faults.push_back(f);
  issuer iss(hcfg);
  iso8583::message req(*spec), ans(*spec);
  txn_context ctx;
  ASSERT_EQ(build_request(tcfg, *term, tcfg.cards[0], txn_type::purchase, 6666, nullptr, rng, req, ctx), "");
  const auto d = iss.handle(req, ans);
  EXPECT_FALSE(d.answer);
  EXPECT_EQ(d.fault, fault_action::no_answer);
  ASSERT_EQ(build_request(tcfg, *term, tcfg.cards[0], txn_type::purchase, 6667, nullptr, rng, req, ctx), "");
  EXPECT_TRUE(iss.handle(req, ans).answer);
  EXPECT_EQ(iss.record()["faults"]["no_answer"], 1);
}

TEST_F(Simulators, MacIsComputedAndChecked) {
  tcfg.terminals[0].mac_key = key("0123456789ABCDEF0123456789ABCDEF");
  iso8583::message req(*spec), back(*spec);
  txn_context ctx;
  ASSERT_EQ(build_request(tcfg, *term, tcfg.cards[2], txn_type::refund, 100, nullptr, rng, req, ctx), "");
  auto packed = pack_request(tcfg.terminals[0], req);
  ASSERT_TRUE(packed);
  // The request's own MAC verifies with the same rule the answer check uses: make an "answer" of it.
  req.set_mti("0210");
  req.set(39, "00");
  const auto answer = pack_request(tcfg.terminals[0], req);
  ASSERT_TRUE(answer);
  ASSERT_TRUE(iso8583::unpack(*answer, back));
  EXPECT_TRUE(check_answer(*term, ctx, back, *answer).ok());
  auto tampered = *answer;
  tampered[20] = static_cast<std::byte>(static_cast<unsigned>(tampered[20]) ^ 1U);
  EXPECT_FALSE(check_answer(*term, ctx, back, tampered).ok());
}

TEST_F(Simulators, DukptTdesPinBlockMatchesX924VectorAndTheHostVerifiesIt) {
  // ANSI X9.24-1:2009 A.4 test data: BDK 0123456789ABCDEFFEDCBA9876543210, first KSN
  // FFFF9876543210E00001, PIN 1234, PAN 4012345678909 -> encrypted PIN block 1B9C1845EB993A7A.
  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_tdes;
  t.pin_key = key("0123456789ABCDEFFEDCBA9876543210");
  t.ksn = crypto::from_hex("FFFF9876543210E00000").value();
  t.ksn_field = 62;
  term.emplace(t, 0, 1);
  card_config c;
  c.pan = "4012345678909";
  c.pin = "1234";
  c.chip = false;
  tcfg.cards.push_back(std::move(c));
  iso8583::message req(*spec);
  txn_context ctx;
  ASSERT_EQ(build_request(tcfg, *term, tcfg.cards.back(), txn_type::magstripe_fallback, 100, nullptr, rng, req, ctx),
            "");
  const auto block = req.get(52).value_or("");
  EXPECT_EQ(crypto::to_hex({reinterpret_cast<const std::uint8_t*>(block.data()), block.size()}), "1B9C1845EB993A7A");
  EXPECT_EQ(req.get(62).value_or(""), "FFFF9876543210E00001");

  hcfg.bdk = key("0123456789ABCDEFFEDCBA9876543210");
  hcfg.ksn_field = 62;
  issuer_card ic;
  ic.pan = "4012345678909";
  ic.pvv = crypto::generate_pvv(hcfg.pvk.view(), 1, "1234", ic.pan).value();
  hcfg.cards.push_back(ic);
  issuer iss(hcfg);
  EXPECT_EQ(round_trip(iss, tcfg.cards.size() - 1, txn_type::purchase, 100).rc, "00");  // next KSN ...E00002
  tcfg.cards.back().pin = "4321";
  EXPECT_EQ(round_trip(iss, tcfg.cards.size() - 1, txn_type::purchase, 100).rc, "55");
  EXPECT_EQ(iss.record()["counters"]["pin_verified"], 1);
}

TEST_F(Simulators, DukptAesFormat4PinBlockIsVerifiedByTheHost) {
  spec = spec_with_aes_pin_block();
  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_aes;
  t.pin_format = crypto::pin_block_format::iso4;
  t.pin_key = key("FEDCBA9876543210F1F1F1F1F1F1F1F1");
  t.ksn = crypto::from_hex("123456789012345600000000").value();
  t.ksn_field = 62;
  term.emplace(t, 0, 1);
  hcfg.aes_bdk = key("FEDCBA9876543210F1F1F1F1F1F1F1F1");
  hcfg.ksn_field = 62;
  issuer iss(hcfg);
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 700).rc, "00");
  EXPECT_EQ(round_trip(iss, 0, txn_type::atm_withdrawal, 800).rc, "00");
  tcfg.cards[0].pin = "1235";
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 100).rc, "55");
  EXPECT_EQ(iss.record()["counters"]["pin_verified"], 2);
}

TEST_F(Simulators, DukptTdesConnectionsAreDevicesOfTheirOwnAndTheHostVerifiesEach) {
  // Connections 0 and 1 of one template: connection 0 keeps the X9.24-1 A.4 test KSN (and its known
  // PIN block), connection 1 is device 0x19087 + 1 = 0x19088 of the same key set: the 19 device-id
  // bits left of the 21-bit counter, 3210E|00000 -> 32110|00000.
  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_tdes;
  t.pin_key = key("0123456789ABCDEFFEDCBA9876543210");
  t.ksn = crypto::from_hex("FFFF9876543210E00000").value();
  t.ksn_field = 62;
  card_config c;
  c.pan = "4012345678909";
  c.pin = "1234";
  c.chip = false;
  tcfg.cards.push_back(std::move(c));
  hcfg.bdk = key("0123456789ABCDEFFEDCBA9876543210");
  hcfg.ksn_field = 62;
  issuer_card ic;
  ic.pan = "4012345678909";
  ic.pvv = crypto::generate_pvv(hcfg.pvk.view(), 1, "1234", ic.pan).value();
  hcfg.cards.push_back(ic);
  issuer iss(hcfg);

  std::vector<std::string> ksns;
  for (const std::size_t index : {0U, 1U}) {
    term.emplace(t, index, 1);
    txn_context ctx;
    EXPECT_EQ(round_trip(iss, tcfg.cards.size() - 1, txn_type::magstripe_fallback, 100, nullptr, &ctx).rc, "00");
    iso8583::message req(*spec);
    ASSERT_EQ(build_request(tcfg, *term, tcfg.cards.back(), txn_type::magstripe_fallback, 100, nullptr, rng, req, ctx),
              "");
    ksns.emplace_back(req.get(62).value_or(""));
    // The PIN block decrypts under the PIN key the host derives from the BDK and this KSN alone.
    const auto ksn = crypto::from_hex(ksns.back()).value();
    const auto k = crypto::dukpt_tdes_key(hcfg.bdk.view(), ksn, crypto::dukpt_tdes_usage::pin).value();
    const auto block = req.get(52).value_or("");
    const auto pin =
        crypto::decrypt_pin(crypto::pin_block_format::iso0, crypto::cipher::tdes, k.view(),
                            {reinterpret_cast<const std::uint8_t*>(block.data()), block.size()}, "4012345678909");
    ASSERT_TRUE(pin);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(pin->view().data()), pin->view().size()), "1234");
  }
  EXPECT_EQ(ksns, (std::vector<std::string>{"FFFF9876543210E00002", "FFFF9876543211000002"}));
  EXPECT_EQ(iss.record()["counters"]["pin_verified"], 2);

  // A later start of the counter: the first transaction uses counter 1000 (0x3E8).
  term.emplace(t, 0, 1, 1000);
  EXPECT_EQ(crypto::to_hex(term->next_ksn().value()), "FFFF9876543210E003E8");
  term.emplace(t, 1, 1, 1000);
  EXPECT_EQ(crypto::to_hex(term->next_ksn().value()), "FFFF98765432110003E8");
  EXPECT_EQ(ksn_counter_start_problem(tcfg, 1000), "");
  EXPECT_NE(ksn_counter_start_problem(tcfg, crypto::dukpt_tdes_last_counter + 1), "");
}

TEST_F(Simulators, DukptAesConnectionsHaveTheirOwnDeviceIdAndTheHostVerifiesEach) {
  std::ifstream in(EFT_SPECS_DIR "/iso87-binary.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("  52:");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "  52:  {name: \"PIN data\", class: b, length: 16, sensitive: pin}");
  spec = std::make_shared<const iso8583::spec>(iso8583::parse_spec(text, "iso87-binary-aes-pin"));
  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_aes;
  t.pin_format = crypto::pin_block_format::iso4;
  t.pin_key = key("FEDCBA9876543210F1F1F1F1F1F1F1F1");
  t.ksn = crypto::from_hex("123456789012345600000000").value();
  t.ksn_field = 62;
  hcfg.aes_bdk = key("FEDCBA9876543210F1F1F1F1F1F1F1F1");
  hcfg.ksn_field = 62;
  issuer iss(hcfg);
  std::vector<std::string> ksns;
  for (const std::size_t index : {0U, 3U}) {
    term.emplace(t, index, 1);
    EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 700).rc, "00");
    iso8583::message req(*spec);
    txn_context ctx;
    ASSERT_EQ(build_request(tcfg, *term, tcfg.cards[0], txn_type::purchase, 100, nullptr, rng, req, ctx), "");
    ksns.emplace_back(req.get(62).value_or(""));
  }
  // BDK id 12345678 kept; derivation (device) id 90123456 + the copy number; counter 2.
  EXPECT_EQ(ksns, (std::vector<std::string>{"123456789012345600000002", "123456789012345900000002"}));
  EXPECT_EQ(iss.record()["counters"]["pin_verified"], 2);
}

TEST_F(Simulators, DukptDevicesThatWouldCollideInARunAreFound) {
  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_tdes;
  t.pin_key = key("0123456789ABCDEFFEDCBA9876543210");
  t.ksn = crypto::from_hex("FFFF9876543210E00000").value();
  EXPECT_EQ(ksn_collision(tcfg, 5000), "");
  // 2^19 device ids: copy 2^19 is copy 0 again.
  EXPECT_NE(ksn_collision(tcfg, (1U << 19) + 1), "");
  // A second template one device id further: connection 2 (copy 1 of the first) is its device.
  terminal_config second;
  second.pin = pin_protection::dukpt_tdes;
  second.pin_key = key("0123456789ABCDEFFEDCBA9876543210");
  second.ksn = crypto::from_hex("FFFF9876543211000000").value();
  tcfg.terminals.push_back(std::move(second));
  EXPECT_EQ(ksn_collision(tcfg, 2), "");
  const auto why = ksn_collision(tcfg, 3);
  EXPECT_NE(why.find("connections 1 (terminals[1]) and 2 (terminals[0])"), std::string::npos) << why;
}

TEST_F(Simulators, TerminalIdsThatWouldCollideInARunAreFound) {
  tcfg.terminals.resize(1);
  auto& t = tcfg.terminals[0];
  // Trailing digits count up per copy: POS00001, POS00002, ..., POS99999, POS00000; five digits
  // number 100,000 copies, and copy 100,000 would be POS00001 again.
  t.id = "POS00001";
  EXPECT_EQ(terminal_id_collision(tcfg, 100000), "");
  EXPECT_NE(terminal_id_collision(tcfg, 100001), "");
  // An 8-character id without digits has nothing to count up with.
  t.id = "TERMINAL";
  EXPECT_EQ(terminal_id_collision(tcfg, 1), "");
  const auto why = terminal_id_collision(tcfg, 2);
  EXPECT_NE(why.find("connections 0 (terminals[0]) and 1 (terminals[0]) would both be terminal 'TERMINAL'"),
            std::string::npos)
      << why;
  // A shorter id gets digits appended: T, T1, T2, ...
  t.id = "T";
  EXPECT_EQ(terminal_id_collision(tcfg, 1000), "");
  // Two templates one apart meet at the second copy of the first.
  t.id = "POS00001";
  terminal_config second;
  second.id = "POS00002";
  tcfg.terminals.push_back(std::move(second));
  EXPECT_EQ(terminal_id_collision(tcfg, 2), "");
  EXPECT_NE(terminal_id_collision(tcfg, 3).find("would both be terminal 'POS00002'"), std::string::npos);
}

TEST_F(Simulators, MacsAreVerifiedByTheHostAndTheAnswerMacByTheTerminal) {
  tcfg.terminals[0].mac_key = key("0123456789ABCDEF0123456789ABCDEF");
  hcfg.mac_key = key("0123456789ABCDEF0123456789ABCDEF");
  issuer iss(hcfg);
  const auto ok = round_trip(iss, 0, txn_type::purchase, 100);
  EXPECT_EQ(ok.rc, "00");
  EXPECT_TRUE(ok.ok()) << ok.mismatches;
  tcfg.terminals[0].mac_key = key("FEDCBA9876543210FEDCBA9876543210");  // the terminal's key differs
  const auto bad = round_trip(iss, 0, txn_type::purchase, 100);
  EXPECT_EQ(bad.rc, "63");
  EXPECT_TRUE((bad.mismatches >> static_cast<unsigned>(mismatch::mac)) & 1U) << "the answer's MAC fails too";
  EXPECT_EQ(iss.record()["counters"]["mac_verified"], 1);
  EXPECT_EQ(iss.record()["counters"]["mac_wrong"], 1);
}

// A reversal has field 90, so a secondary bitmap: its MAC is the last field, 128 (ISO 8583:1987),
// as the switch's MAC stage expects; a MAC in field 64 would sit in the middle of the message.
TEST_F(Simulators, MessagesWithASecondaryBitmapCarryTheirMacInField128) {
  constexpr std::string_view mac_key = "0123456789ABCDEF0123456789ABCDEF";
  tcfg.terminals[0].mac_key = key(mac_key);
  hcfg.mac_key = key(mac_key);
  issuer iss(hcfg);
  txn_context first;
  ASSERT_EQ(round_trip(iss, 0, txn_type::purchase, 1000, nullptr, &first).rc, "00");

  iso8583::message req(*spec), wire(*spec);
  txn_context ctx;
  ASSERT_EQ(build_request(tcfg, *term, tcfg.cards[0], txn_type::reversal, 0, &first, rng, req, ctx), "");
  const auto packed = pack_request(tcfg.terminals[0], req);
  ASSERT_TRUE(packed);
  ASSERT_TRUE(iso8583::unpack(*packed, wire));
  EXPECT_FALSE(wire.has(64));
  ASSERT_TRUE(wire.has(128));
  EXPECT_EQ(wire.get(90), req.get(90)) << "the original data element is intact";
  const crypto::byte_view covered{reinterpret_cast<const std::uint8_t*>(packed->data()), packed->size() - 8};
  const auto expected = crypto::compute_mac(crypto::mac_options{}, key(mac_key).view(), covered);
  ASSERT_TRUE(expected);
  const auto mac = wire.get(128).value_or("");
  EXPECT_EQ(crypto::to_hex({reinterpret_cast<const std::uint8_t*>(mac.data()), mac.size()}), crypto::to_hex(*expected));
  EXPECT_TRUE(mac_matches(key(mac_key), wire, *packed));
  auto tampered = *packed;
  tampered[30] = static_cast<std::byte>(static_cast<unsigned>(tampered[30]) ^ 1U);
  EXPECT_FALSE(mac_matches(key(mac_key), wire, tampered));

  // The host's 0410 echoes field 90: its MAC is in field 128 too, and the terminal accepts it.
  const auto rev = round_trip(iss, 0, txn_type::reversal, 0, &first);
  EXPECT_EQ(rev.rc, "00");
  EXPECT_TRUE(rev.ok()) << rev.mismatches;
}

TEST_F(Simulators, ReversalsAndAdvicesWithAWrongMacAreDeclined63AndChangeNoBalance) {
  constexpr std::string_view mac_key = "0123456789ABCDEF0123456789ABCDEF";
  constexpr std::string_view other_key = "FEDCBA9876543210FEDCBA9876543210";
  tcfg.terminals[0].mac_key = key(mac_key);
  hcfg.mac_key = key(mac_key);
  issuer iss(hcfg);
  // Card 0 holds 100.00.
  txn_context first;
  ASSERT_EQ(round_trip(iss, 0, txn_type::purchase, 8000, nullptr, &first).rc, "00");  // 20.00 left

  tcfg.terminals[0].mac_key = key(other_key);  // a reversal whose MAC the host cannot verify
  const auto forged = round_trip(iss, 0, txn_type::reversal, 0, &first);
  EXPECT_EQ(forged.rc, "63");
  tcfg.terminals[0].mac_key = key(mac_key);
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 3000).rc, "51") << "the forged reversal gave the money back";
  const auto genuine = round_trip(iss, 0, txn_type::reversal, 0, &first);
  EXPECT_EQ(genuine.rc, "00");
  EXPECT_TRUE(genuine.ok()) << genuine.mismatches;
  ASSERT_EQ(round_trip(iss, 0, txn_type::purchase, 3000).rc, "00");  // 70.00 left

  // Advices (0220): a stand-in approval the host must book, unless its MAC is wrong.
  const auto advice = [&](std::uint64_t amount, std::string_view mac) {
    iso8583::message req(*spec), wire(*spec), ans(*spec);
    txn_context ctx;
    EXPECT_EQ(build_request(tcfg, *term, tcfg.cards[0], txn_type::purchase, amount, nullptr, rng, req, ctx), "");
    req.set_mti("0220");
    const auto packed = pack_with_mac(key(mac), req);
    EXPECT_TRUE(packed);
    EXPECT_TRUE(iso8583::unpack(*packed, wire));
    EXPECT_TRUE(iss.handle(wire, ans, *packed).answer);
    EXPECT_EQ(ans.mti(), "0230");
    return std::string(ans.get(39).value_or(""));
  };
  EXPECT_EQ(advice(6000, other_key), "63");
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 5000).rc, "00") << "the forged advice was booked";  // 20.00
  EXPECT_EQ(advice(1500, mac_key), "00");                                                              // 5.00
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 1000).rc, "51");

  const auto rec = iss.record();
  EXPECT_EQ(rec["counters"]["mac_wrong"], 2);
  EXPECT_EQ(rec["counters"]["reversals_applied"], 1);
  EXPECT_EQ(rec["answered"]["0410/63"], 1);
  EXPECT_EQ(rec["answered"]["0410/00"], 1);
}

TEST_F(Simulators, FaultsApplyOnlyToRequestsTheHostAnswersAndWithheldAnswersAreNotAnswered) {
  fault_rule f;
  f.action = fault_action::no_answer;  // any request
  hcfg.faults.push_back(f);
  issuer iss(hcfg);
  iso8583::message req(*spec), ans(*spec);
  req.set_mti("0210");  // an answer sent to a host: not answered, so no fault either
  req.set(11, "000001");
  const auto unexpected = iss.handle(req, ans);
  EXPECT_FALSE(unexpected.answer);
  EXPECT_FALSE(unexpected.fault);
  req.clear();
  req.set_mti("0800");
  req.set(7, "1126101010");
  req.set(11, "000002");
  req.set(70, "301");
  const auto echo = iss.handle(req, ans);
  EXPECT_FALSE(echo.answer);
  EXPECT_EQ(echo.fault, fault_action::no_answer);
  const auto rec = iss.record();
  EXPECT_EQ(rec["received_total"], 2);
  EXPECT_EQ(rec["faults"], nlohmann::ordered_json({{"no_answer", 1}})) << rec.dump();
  EXPECT_EQ(rec["withheld"], nlohmann::ordered_json({{"no_answer", 1}})) << rec.dump();
  EXPECT_EQ(rec["withheld_total"], 1);
  EXPECT_EQ(rec["answered_total"], 0) << rec.dump();
  EXPECT_TRUE(rec["answered"].empty()) << rec.dump();
}

// The keys hostsim's documentation lists, read by the loader (not set in the struct): a DUKPT
// terminal's PIN and its MAC verified by the host with the loaded config.
TEST_F(Simulators, LoadedConfigVerifiesDukptPinsAndMacs) {
  const temp_dir dir;
  const std::string bdk = "0123456789ABCDEFFEDCBA9876543210";  // X9.24-1 A.4 test BDK
  const std::string mac = "0123456789ABCDEF0123456789ABCDEF";
  const std::string pan = "4012345678909";
  const std::string pvv = crypto::generate_pvv(key(pvk_hex).view(), 1, "1234", pan).value();
  const auto file = dir.write("hostsim.yaml",
                              "listeners:\n  - {port: 0, framing: len2+tpdu, spec: iso87-binary}\n"
                              "keys:\n  pvk: " +
                                  std::string(pvk_hex) + "\n  bdk: " + bdk + "\n  ksn_field: 62\n  mac_key: " + mac +
                                  "\ncards:\n  - {pan: \"" + pan + "\", pvv: \"" + pvv + "\"}\n");
  hcfg = load_hostsim_config(file);

  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_tdes;
  t.pin_key = key(bdk);
  t.ksn = crypto::from_hex("FFFF9876543210E00000").value();
  t.ksn_field = 62;
  t.mac_key = key(mac);
  term.emplace(t, 0, 1);
  card_config c;
  c.pan = pan;
  c.pin = "1234";
  c.chip = false;
  tcfg.cards.push_back(std::move(c));
  const std::size_t card = tcfg.cards.size() - 1;

  issuer iss(hcfg);
  const auto ok = round_trip(iss, card, txn_type::purchase, 100);
  EXPECT_EQ(ok.rc, "00");
  EXPECT_TRUE(ok.ok()) << "the answer's MAC under the loaded key: " << ok.mismatches;
  tcfg.cards[card].pin = "4321";
  EXPECT_EQ(round_trip(iss, card, txn_type::purchase, 100).rc, "55");
  tcfg.cards[card].pin = "1234";
  t.mac_key = key("FEDCBA9876543210FEDCBA9876543210");
  EXPECT_EQ(round_trip(iss, card, txn_type::purchase, 100).rc, "63");
  const auto rec = iss.record();
  EXPECT_EQ(rec["counters"]["pin_verified"], 1);
  EXPECT_EQ(rec["counters"]["pin_wrong"], 1);
  EXPECT_EQ(rec["counters"]["mac_verified"], 2);
  EXPECT_EQ(rec["counters"]["mac_wrong"], 1);
}

TEST_F(Simulators, LoadedConfigVerifiesAesDukptPins) {
  const temp_dir dir;
  const std::string bdk = "FEDCBA9876543210F1F1F1F1F1F1F1F1";
  const auto file = dir.write("hostsim.yaml", "listeners:\n  - {port: 0}\nkeys:\n  pvk: " + std::string(pvk_hex) +
                                                  "\n  aes_bdk: " + bdk + "\n  ksn_field: 62\ncards:\n  - {pan: \"" +
                                                  hcfg.cards[0].pan + "\", pvv: \"" + hcfg.cards[0].pvv + "\"}\n");
  hcfg = load_hostsim_config(file);
  spec = spec_with_aes_pin_block();
  auto& t = tcfg.terminals[0];
  t.pin = pin_protection::dukpt_aes;
  t.pin_format = crypto::pin_block_format::iso4;
  t.pin_key = key(bdk);
  t.ksn = crypto::from_hex("123456789012345600000000").value();
  t.ksn_field = 62;
  term.emplace(t, 0, 1);
  tcfg.cards[0].chip = false;  // no IMK in this config
  issuer iss(hcfg);
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 700).rc, "00");
  tcfg.cards[0].pin = "1235";
  EXPECT_EQ(round_trip(iss, 0, txn_type::purchase, 100).rc, "55");
  EXPECT_EQ(iss.record()["counters"]["pin_verified"], 1);
}

// Which requests a fault with a rate hits is drawn from a generator seeded by hostsim.fault_seed:
// the same seed repeats a run's faults, another seed gives others, no seed the documented default.
TEST_F(Simulators, FaultSeedDecidesWhichRequestsAFaultHits) {
  const temp_dir dir;
  const auto pattern = [&](const std::string& hostsim_section) {
    const hostsim_config cfg =
        load_hostsim_config(dir.write("h.yaml", hostsim_section + "listeners:\n  - {port: 0}\n"
                                                                  "faults:\n  - {action: no_answer, rate: 0.5}\n"));
    issuer iss(cfg);
    iso8583::message req(*spec), ans(*spec);
    std::string hits;
    for (int i = 0; i < 64; ++i) {
      req.clear();
      req.set_mti("0800");
      req.set(11, std::to_string(100000 + i));
      req.set(70, "301");
      hits += iss.handle(req, ans).fault ? 'x' : '.';
    }
    return hits;
  };
  const std::string seven = pattern("hostsim: {fault_seed: 7}\n");
  EXPECT_EQ(pattern("hostsim: {fault_seed: 7}\n"), seven);
  EXPECT_NE(pattern("hostsim: {fault_seed: 8}\n"), seven);
  EXPECT_NE(seven.find('x'), std::string::npos) << seven;
  EXPECT_NE(seven.find('.'), std::string::npos) << seven;
  EXPECT_EQ(pattern(""), pattern("hostsim: {fault_seed: 20261126}\n")) << "the default seed";
}

// Statistics of many waits drawn for one fault rule from one seed.
struct delay_sample {
  std::vector<std::uint32_t> ms;  // sorted
  double mean = 0;
  double sd = 0;
  double quantile(double p) const { return ms[static_cast<std::size_t>(p * static_cast<double>(ms.size() - 1))]; }
  std::size_t count(std::uint32_t v) const {
    return static_cast<std::size_t>(std::upper_bound(ms.begin(), ms.end(), v) -
                                    std::lower_bound(ms.begin(), ms.end(), v));
  }
};

delay_sample draw_many(const fault_rule& f, std::uint64_t seed, std::size_t n) {
  std::mt19937_64 rng(seed);
  delay_sample s;
  for (std::size_t i = 0; i < n; ++i) s.ms.push_back(draw_fault_delay(f, rng));
  double sum = 0;
  for (const auto v : s.ms) sum += v;
  s.mean = sum / static_cast<double>(n);
  double sq = 0;
  for (const auto v : s.ms) sq += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(sq / static_cast<double>(n - 1));
  std::sort(s.ms.begin(), s.ms.end());
  return s;
}

fault_rule delay_rule(delay_distribution d, std::uint32_t delay_ms, std::uint32_t jitter_ms, double sigma = 0) {
  fault_rule f;
  f.action = fault_action::delay;
  f.distribution = d;
  f.delay_ms = delay_ms;
  f.jitter_ms = jitter_ms;
  f.sigma = sigma;
  return f;
}

// The standard normal CDF and its 0.99 quantile, for the expectations below.
double phi(double x) {
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}
constexpr double z99 = 2.3263478740408408;

// Each distribution's sample statistics against its theoretical values (not against the code's own
// formulas). With n draws a statistic's standard error is known: the mean's sd / sqrt(n), a
// quantile q's sqrt(p (1 - p) / n) / density(q), the standard deviation's sd * sqrt((kurtosis - 1) /
// 4n); each is allowed five standard errors, plus half a ms for the rounding to whole ms. The seed
// is fixed, so the test is deterministic, and a wrong parameterisation (sigma as a variance, the
// median taken for the mean, a mean of 1 / delay_ms) is off by far more.
TEST(FaultDelays, SamplesMatchTheDistributionsTheoreticalValues) {
  constexpr std::size_t n = 200000;
  const double root_n = std::sqrt(static_cast<double>(n));
  const auto quantile_tolerance = [&](double p, double density) {
    return 5 * std::sqrt(p * (1 - p)) / density / root_n + 0.5;
  };

  {  // uniform (the default): delay_ms + a whole number of ms in [0, jitter_ms]
    const auto s = draw_many(delay_rule(delay_distribution::uniform, 100, 50), 1, n);
    EXPECT_EQ(s.ms.front(), 100U);
    EXPECT_EQ(s.ms.back(), 150U);
    const double sd = std::sqrt((51.0 * 51.0 - 1) / 12);  // discrete uniform on 51 values
    EXPECT_NEAR(s.mean, 125.0, 5 * sd / root_n);
    EXPECT_NEAR(s.sd, sd, 5 * sd * std::sqrt(0.8 / (4.0 * n)));  // kurtosis 1.8
    for (std::uint32_t v = 100; v <= 150; ++v) {
      EXPECT_NEAR(static_cast<double>(s.count(v)), n / 51.0, 5 * std::sqrt(n / 51.0)) << v;
    }
  }
  {  // exponential of mean 200: sd 200, median 200 ln 2, p99 200 ln 100
    const double mu = 200;
    const auto s = draw_many(delay_rule(delay_distribution::exponential, 200, 0), 2, n);
    EXPECT_NEAR(s.mean, mu, 5 * mu / root_n);
    EXPECT_NEAR(s.sd, mu, 5 * mu * std::sqrt(8.0 / (4.0 * n)));  // kurtosis 9
    EXPECT_NEAR(s.quantile(0.5), mu * std::log(2.0), quantile_tolerance(0.5, 0.5 / mu));
    EXPECT_NEAR(s.quantile(0.99), mu * std::log(100.0), quantile_tolerance(0.99, 0.01 / mu));
    EXPECT_LE(s.ms.front(), 1U);
  }
  {  // normal of mean 300 and standard deviation 40: median 300, p99 300 + 2.326 x 40
    const double mu = 300, sd = 40;
    const double density_at_median = 1 / (sd * std::sqrt(2 * std::numbers::pi));
    const auto s = draw_many(delay_rule(delay_distribution::normal, 300, 40), 3, n);
    EXPECT_NEAR(s.mean, mu, 5 * sd / root_n);
    EXPECT_NEAR(s.sd, sd, 5 * sd * std::sqrt(2.0 / (4.0 * n)));  // kurtosis 3
    EXPECT_NEAR(s.quantile(0.5), mu, quantile_tolerance(0.5, density_at_median));
    EXPECT_NEAR(s.quantile(0.99), mu + z99 * sd,
                quantile_tolerance(0.99, density_at_median * std::exp(-z99 * z99 / 2)));
  }
  {  // lognormal of median 100, sigma 0.5: mean 100 e^(sigma^2 / 2), sd mean sqrt(e^(sigma^2) - 1)
    const double m = 100, sigma = 0.5;
    const double mean = m * std::exp(sigma * sigma / 2);
    const double sd = mean * std::sqrt(std::exp(sigma * sigma) - 1);
    const double w = std::exp(sigma * sigma);
    const double kurtosis = w * w * w * w + 2 * w * w * w + 3 * w * w - 3;
    const auto density = [&](double x) {
      return std::exp(-std::pow(std::log(x / m), 2) / (2 * sigma * sigma)) /
             (x * sigma * std::sqrt(2 * std::numbers::pi));
    };
    const auto s = draw_many(delay_rule(delay_distribution::lognormal, 100, 0, 0.5), 4, n);
    EXPECT_NEAR(s.mean, mean, 5 * sd / root_n);
    EXPECT_NEAR(s.sd, sd, 5 * sd * std::sqrt((kurtosis - 1) / (4.0 * n)));
    EXPECT_NEAR(s.quantile(0.5), m, quantile_tolerance(0.5, density(m)));
    const double p99 = m * std::exp(z99 * sigma);
    EXPECT_NEAR(s.quantile(0.99), p99, quantile_tolerance(0.99, density(p99)));
    EXPECT_GT(s.mean, s.quantile(0.5) * 1.1) << "the long tail pulls the mean above the median";
  }
}

// A normal draw below 0 waits 0 ms; every draw is capped at max_fault_delay_ms.
TEST(FaultDelays, NormalIsClampedAtZeroAndEveryDrawIsCapped) {
  constexpr std::size_t n = 200000;
  {  // mean 20, sd 50: a draw below 0.5 ms rounds to (or is clamped at) 0
    const auto s = draw_many(delay_rule(delay_distribution::normal, 20, 50), 5, n);
    const double p = phi((0.5 - 20) / 50);
    EXPECT_NEAR(static_cast<double>(s.count(0)) / n, p, 5 * std::sqrt(p * (1 - p) / n));
    EXPECT_EQ(s.ms.front(), 0U);
  }
  {  // lognormal of median 400000 s, sigma 1: a draw is above 600000 with probability 1 - phi(ln 1.5)
    const auto s = draw_many(delay_rule(delay_distribution::lognormal, 400000, 0, 1.0), 6, n);
    const double p = 1 - phi(std::log(1.5));
    EXPECT_EQ(s.ms.back(), max_fault_delay_ms);
    EXPECT_NEAR(static_cast<double>(s.count(max_fault_delay_ms)) / n, p, 5 * std::sqrt(p * (1 - p) / n));
  }
  for (const auto& f :
       {delay_rule(delay_distribution::uniform, 600000, 600000), delay_rule(delay_distribution::exponential, 600000, 0),
        delay_rule(delay_distribution::normal, 600000, 600000)}) {
    EXPECT_EQ(draw_many(f, 7, 1000).ms.back(), max_fault_delay_ms) << to_string(f.distribution);
  }
  EXPECT_EQ(draw_many(delay_rule(delay_distribution::uniform, 600000, 600000), 7, 1000).ms.front(), max_fault_delay_ms);
}

// The waits come from hostsim.fault_seed through the issuer: a seed repeats them, another seed
// gives others; a rule without distribution: draws what hostsim always drew (delay_ms + the
// generator's output mod jitter_ms + 1), so an old config and seed still give the same run.
TEST_F(Simulators, DelayFaultsDrawTheirWaitsFromTheFaultSeed) {
  const temp_dir dir;
  const auto waits = [&](const std::string& yaml) {
    const hostsim_config cfg = load_hostsim_config(dir.write("h.yaml", yaml));
    issuer iss(cfg);
    iso8583::message req(*spec), ans(*spec);
    std::vector<std::uint32_t> ms;
    for (int i = 0; i < 2001; ++i) {
      req.clear();
      req.set_mti("0800");
      req.set(11, std::to_string(100000 + i));
      req.set(70, "301");
      const auto d = iss.handle(req, ans);
      EXPECT_EQ(d.fault, fault_action::delay);
      EXPECT_TRUE(d.answer);
      ms.push_back(d.delay_ms);
    }
    EXPECT_EQ(iss.record()["faults"]["delay"], 2001);
    return ms;
  };
  const std::string listener = "listeners:\n  - {port: 0}\n";
  const auto lognormal = [&](int seed) {
    return waits("hostsim: {fault_seed: " + std::to_string(seed) + "}\n" + listener +
                 "faults:\n  - {action: delay, distribution: lognormal, delay_ms: 80, sigma: 0.5}\n");
  };
  const auto seven = lognormal(7);
  EXPECT_EQ(lognormal(7), seven);
  EXPECT_NE(lognormal(8), seven);
  auto sorted = seven;
  std::sort(sorted.begin(), sorted.end());
  // The sample median of 2001 draws: standard error 1 / (2 density(80) sqrt(2001)) = 1.1 ms.
  EXPECT_NEAR(sorted[1000], 80.0, 5 * 1.1 + 0.5);

  const auto uniform =
      waits("hostsim: {fault_seed: 7}\n" + listener + "faults:\n  - {action: delay, delay_ms: 100, jitter_ms: 30}\n");
  std::mt19937_64 earlier(7);
  for (std::size_t i = 0; i < uniform.size(); ++i) ASSERT_EQ(uniform[i], 100 + earlier() % 31) << i;
}

// A rule's distribution and its parameters are checked when the config loads: an unknown name, a
// parameter the distribution does not read, a missing one.
TEST(SimulatorConfig, FaultDistributionErrorsNameFileLineAndHint) {
  const temp_dir dir;
  const auto refusal = [&](const std::string& rule) -> std::string {
    try {
      (void)load_hostsim_config(dir.write("h.yaml", "listeners:\n  - {port: 0}\nfaults:\n" + rule));
    } catch (const config::config_error& e) {
      return e.what();
    }
    return "accepted";
  };
  struct bad_rule {
    std::string yaml;
    std::string error;  // after the file name
  };
  const std::vector<bad_rule> cases = {
      {"  - action: delay\n    delay_ms: 100\n    distribution: gamma\n",
       ":6: faults[0].distribution 'gamma' is unknown (use uniform, exponential, normal or lognormal)"},
      {"  - action: delay\n    delay_ms: 100\n    sigma: 0.5\n",
       ":6: faults[0].sigma is the shape of a lognormal distribution, but faults[0] has a uniform distribution (add "
       "distribution: lognormal, or remove sigma)"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: normal\n    jitter_ms: 10\n    sigma: 0.5\n",
       ":8: faults[0].sigma is the shape of a lognormal distribution, but faults[0] has a normal distribution"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: exponential\n    jitter_ms: 20\n",
       ":7: faults[0].jitter_ms has no part in an exponential distribution (its mean delay_ms also sets its spread: "
       "remove jitter_ms, or use distribution: normal)"},
      {"  - action: delay\n    distribution: exponential\n",
       ":4: faults[0] has an exponential distribution of mean 0 (set delay_ms above 0: the mean wait)"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: normal\n",
       ":4: faults[0] has a normal distribution without a standard deviation (set jitter_ms above 0"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: lognormal\n",
       ":6: faults[0] has a lognormal distribution without sigma (add sigma: the standard deviation of ln(delay)"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: lognormal\n    sigma: 0\n",
       ":7: faults[0].sigma '0' is not a shape above 0 and at most 10 (the standard deviation of ln(delay), e.g. 0.5)"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: lognormal\n    sigma: wide\n",
       ":7: faults[0].sigma 'wide' is not a shape above 0 and at most 10"},
      {"  - action: delay\n    delay_ms: 100\n    distribution: lognormal\n    sigma: 0.5\n    jitter_ms: 30\n",
       ":8: faults[0].jitter_ms has no part in a lognormal distribution (its spread is sigma: remove jitter_ms)"},
      {"  - action: delay\n    delay_ms: 0\n    distribution: lognormal\n    sigma: 0.5\n",
       ":5: faults[0] has a lognormal distribution of median 0 (set delay_ms above 0: the median wait)"},
      {"  - action: no_answer\n    distribution: exponential\n",
       ":5: faults[0].distribution applies to delay and late faults, not to no_answer (remove it, or use action: "
       "delay)"},
      {"  - action: disconnect\n    sigma: 0.5\n", ":5: faults[0].sigma applies to delay and late faults"},
      {"  - {action: no_answer, jitter_ms: 50}\n",
       ":4: faults[0].jitter_ms applies to delay and late faults, not to no_answer (remove it, or use action: delay)"},
      {"  - {action: duplicate, delay_ms: 50}\n",
       ":4: faults[0].delay_ms applies to delay and late faults, not to "
       "duplicate"},
      {"  - {action: delay, delay_ms: 600001}\n", ":4: faults[0].delay_ms '600001' is not a number from 0 to 600000"},
      // Not a probability, and not a rule that would then apply to every request.
      {"  - {action: no_answer, rate: nan}\n", ":4: faults[0].rate 'nan' is not a probability (a number from 0 to 1)"},
      {"  - {action: no_answer, rate: 1.5}\n", ":4: faults[0].rate '1.5' is not a probability"},
  };
  for (const auto& c : cases) {
    const std::string m = refusal(c.yaml);
    EXPECT_NE(m.find("h.yaml" + c.error), std::string::npos) << c.yaml << "-> " << m;
  }
  // Accepted: each distribution with what it reads; late with an exponential wait of 30 s mean (its
  // default delay_ms).
  const auto cfg = load_hostsim_config(
      dir.write("ok.yaml",
                "listeners:\n  - {port: 0}\nfaults:\n"
                "  - {action: delay, amount: 1.00, delay_ms: 100, jitter_ms: 20, distribution: uniform}\n"
                "  - {action: delay, amount: 2.00, delay_ms: 100, distribution: exponential}\n"
                "  - {action: delay, amount: 3.00, delay_ms: 100, jitter_ms: 20, distribution: normal}\n"
                "  - {action: delay, amount: 4.00, delay_ms: 100, distribution: lognormal, sigma: 0.5}\n"
                "  - {action: late, amount: 5.00, distribution: exponential}\n"
                "  - {action: delay, amount: 6.00, delay_ms: 100}\n"));
  ASSERT_EQ(cfg.faults.size(), 6U);
  EXPECT_EQ(cfg.faults[0].distribution, delay_distribution::uniform);
  EXPECT_EQ(cfg.faults[1].distribution, delay_distribution::exponential);
  EXPECT_EQ(cfg.faults[2].distribution, delay_distribution::normal);
  EXPECT_EQ(cfg.faults[2].jitter_ms, 20U);
  EXPECT_EQ(cfg.faults[3].distribution, delay_distribution::lognormal);
  EXPECT_DOUBLE_EQ(cfg.faults[3].sigma, 0.5);
  EXPECT_EQ(cfg.faults[4].distribution, delay_distribution::exponential);
  EXPECT_EQ(cfg.faults[4].delay_ms, 30000U);
  EXPECT_EQ(cfg.faults[5].distribution, delay_distribution::uniform) << "the default";
}

// garbage: framing sends the answer behind the other framing's length header. The switch's own
// framing code (which termsim and hostsim read with) refuses it on every framing at the default
// max_frame; with the largest max_frame a 2-byte-length reader waits for more bytes than follow
// (hostsim closes the link after them). The same body well framed is a whole frame: the header
// alone is wrong.
TEST(HostsimGarbage, FramingGarbageHasALengthHeaderEveryFramingRefuses) {
  const std::vector<std::byte> body(187, std::byte{0x30});
  using switch_core::frame_status;
  using switch_core::framing_kind;
  // "0187" read as a 2-byte big-endian length: '0' << 8 | '1'.
  constexpr std::size_t declared2 = (0x30U << 8) | 0x31U;
  const std::vector<std::pair<framing_kind, std::size_t>> kinds = {{framing_kind::len2, 2 + declared2},
                                                                   {framing_kind::len2_tpdu, 2 + declared2},
                                                                   {framing_kind::len2_inclusive, declared2},
                                                                   {framing_kind::ascii4, 0},
                                                                   {framing_kind::len4, 0}};
  for (const auto& [kind, waits_for] : kinds) {
    const switch_core::framing f{kind, 8192};
    const auto frame = frame_with_wrong_length(f, body);
    ASSERT_EQ(frame.size(), 4 + body.size()) << to_string(kind);
    const auto fr = switch_core::inspect_frame(f, frame);
    EXPECT_EQ(fr.status, frame_status::bad_length) << to_string(kind);
    EXPECT_EQ(fr.reason, kind == framing_kind::ascii4 ? "the 4-digit ASCII length holds a non-digit"
                                                      : "a frame longer than the link's maximum")
        << to_string(kind);
    const auto good = frame_message(f, body, switch_core::tpdu{{0x60, 0, 1, 0, 2}});
    const auto gr = switch_core::inspect_frame(f, good);
    EXPECT_EQ(gr.status, frame_status::complete) << to_string(kind);
    EXPECT_EQ(gr.body_size, body.size()) << to_string(kind);

    const switch_core::framing widest{kind, 65535};
    const auto wr = switch_core::inspect_frame(widest, frame);
    if (waits_for == 0) {
      EXPECT_EQ(wr.status, frame_status::bad_length) << to_string(kind);
    } else {
      EXPECT_EQ(wr.status, frame_status::need_more) << to_string(kind);
      EXPECT_EQ(wr.needed, waits_for) << to_string(kind);
      EXPECT_GT(wr.needed, frame.size()) << to_string(kind);
    }
  }
  EXPECT_TRUE(frame_with_wrong_length({framing_kind::len2, 65535}, std::vector<std::byte>(10000)).empty())
      << "4 ASCII digits hold at most 9999";
}

// The issuer counts a garbage: framing answer apart from a garbage: body one, under faults and
// withheld alike, so that received = answered + withheld still holds.
TEST_F(Simulators, FramingGarbageIsCountedApartAndWithheld) {
  const temp_dir dir;
  const hostsim_config cfg = load_hostsim_config(
      dir.write("h.yaml",
                "hostsim: {record_transactions: true}\nlisteners:\n  - {port: 0}\nfaults:\n"
                "  - {action: garbage, garbage: framing, mti: \"0800\"}\n  - {action: garbage, mti: \"0200\"}\n"));
  ASSERT_EQ(cfg.faults.size(), 2U);
  EXPECT_EQ(cfg.faults[0].garbage, garbage_kind::framing);
  EXPECT_EQ(cfg.faults[1].garbage, garbage_kind::body) << "the default";
  issuer iss(cfg);
  iso8583::message req(*spec), ans(*spec);
  req.set_mti("0800");
  req.set(11, "000001");
  req.set(70, "301");
  const auto d = iss.handle(req, ans);
  EXPECT_EQ(d.fault, fault_action::garbage);
  EXPECT_EQ(d.garbage, garbage_kind::framing);
  EXPECT_FALSE(d.answer) << "the answer is withheld: it never reaches the terminal framed";
  EXPECT_EQ(ans.mti(), "0810") << "the answer is made: hostsim sends it behind the wrong header";
  txn_context ctx;
  ASSERT_EQ(build_request(tcfg, *term, tcfg.cards[0], txn_type::purchase, 1234, nullptr, rng, req, ctx), "");
  const auto b = iss.handle(req, ans);
  EXPECT_EQ(b.fault, fault_action::garbage);
  EXPECT_EQ(b.garbage, garbage_kind::body);
  const auto rec = iss.record();
  EXPECT_EQ(rec["faults"], nlohmann::ordered_json({{"garbage", 1}, {"garbage_framing", 1}})) << rec.dump();
  EXPECT_EQ(rec["withheld"], nlohmann::ordered_json({{"garbage", 1}, {"garbage_framing", 1}})) << rec.dump();
  EXPECT_EQ(rec["received_total"], 2);
  EXPECT_EQ(rec["withheld_total"], 2);
  EXPECT_EQ(rec["answered_total"], 0);
  EXPECT_EQ(rec["transactions"][0]["fault"], "garbage") << "network management is not listed: the 0200 is";

  for (const auto& [yaml, error] : std::vector<std::pair<std::string, std::string>>{
           {"  - action: garbage\n    garbage: lengthy\n",
            "h.yaml:5: faults[0].garbage 'lengthy' is unknown (use body (a junk message in a good frame) or framing (a "
            "bad length header, then the link closes))"},
           {"  - action: no_answer\n    garbage: framing\n",
            "h.yaml:5: faults[0].garbage applies to garbage faults, not to no_answer (remove it, or use action: "
            "garbage)"}}) {
    try {
      (void)load_hostsim_config(dir.write("h.yaml", "listeners:\n  - {port: 0}\nfaults:\n" + yaml));
      ADD_FAILURE() << "accepted " << yaml;
    } catch (const config::config_error& e) {
      EXPECT_NE(std::string(e.what()).find(error), std::string::npos) << e.what();
    }
  }
}

TEST(SimulatorConfig, ErrorsOnSecretValuesNameTheKeyButNotTheValue) {
  const temp_dir dir;
  const std::string listener = "listeners:\n  - {port: 7000}\n";
  const std::string keys =
      "keys:\n  pvk: 5B8CE3D0F2A16E97C41D3B8A09E6F275\n  ibm3624_pvk: 7A3F19C6E2B4D8050C6E91A7F3B2D48E\n";
  struct bad_value {
    const char* secret;
    std::string yaml;
    const char* where;  // file:line and key
    const char* rule;
  };
  const std::vector<bad_value> host_cases = {
      {"98765", listener + keys + "cards:\n  - {pan: \"4761739001010010\", pvv: \"98765\"}\n", "h.yaml:7: cards[0].pvv",
       "4-4 digits"},
      {"9876543210987", listener + keys + "cards:\n  - {pan: \"4761739001010010\", offset: \"9876543210987\"}\n",
       "h.yaml:7: cards[0].offset", "4-12 digits"},
      {"01234567890123", listener + keys + "  decimalization: \"01234567890123\"\n", "h.yaml:6: keys.decimalization",
       "16-16 digits"},
      {"0123456789ABCDEF0123", listener + "keys:\n  mac_key: 0123456789ABCDEF0123\n", "h.yaml:4: keys.mac_key",
       "32 hex digits"},
      {"47617390010100101234", listener + "cards:\n  - {pan: \"47617390010100101234\"}\n", "h.yaml:4: cards[0].pan",
       "12-19 digits"},
  };
  for (const auto& c : host_cases) {
    try {
      (void)load_hostsim_config(dir.write("h.yaml", c.yaml));
      ADD_FAILURE() << "accepted " << c.where;
    } catch (const config::config_error& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find(c.where), std::string::npos) << m;
      EXPECT_NE(m.find(c.rule), std::string::npos) << m;
      EXPECT_EQ(m.find(c.secret), std::string::npos) << "a secret in an error: " << m;
    }
  }
  try {
    (void)load_termsim_config(dir.write("t.yaml",
                                        "target: {address: 127.0.0.1, port: 5000}\n"
                                        "terminals:\n  - {id: POS1}\n"
                                        "cards:\n  - {pan: \"4761739001010010\", chip: false,\n"
                                        "     pin: \"98765432109876\"}\n"));
    ADD_FAILURE() << "accepted a 14-digit PIN";
  } catch (const config::config_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("t.yaml:6: cards[0].pin"), std::string::npos) << m;
    EXPECT_NE(m.find("4-12 digits"), std::string::npos) << m;
    EXPECT_NE(m.find("(quote it"), std::string::npos) << "the hint is kept: " << m;
    EXPECT_EQ(m.find("98765432109876"), std::string::npos) << "a PIN in an error: " << m;
  }
}

TEST(SimulatorConfig, ErrorsNameFileLineAndHint) {
  const fs::path dir = fs::temp_directory_path() / ("simcfg-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto file = dir / "t.yaml";
  std::ofstream(file) << "target: {address: 127.0.0.1, port: 5000}\n"
                         "terminals:\n"
                         "  - {id: POS1, pin_key: 0123}\n"
                         "cards:\n"
                         "  - {pan: \"4761739001010010\", chip: false}\n";
  try {
    (void)load_termsim_config(file);
    FAIL() << "accepted a short key";
  } catch (const config::config_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("t.yaml:3:"), std::string::npos) << m;
    EXPECT_NE(m.find("pin_key"), std::string::npos) << m;
    EXPECT_NE(m.find("hex"), std::string::npos) << m;
    EXPECT_EQ(m.find("0123"), std::string::npos) << "key material in an error: " << m;
  }
  const auto h = dir / "h.yaml";
  std::ofstream(h) << "listeners:\n  - {port: 7000, framing: len3}\n";
  try {
    (void)load_hostsim_config(h);
    FAIL() << "accepted framing len3";
  } catch (const config::config_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("h.yaml:2:"), std::string::npos) << m;
    EXPECT_NE(m.find("len2+tpdu"), std::string::npos) << m;
  }
  fs::remove_all(dir);
  // The shipped examples load.
  EXPECT_NO_THROW((void)load_termsim_config(EFT_SIM_EXAMPLES_DIR "/termsim.yaml"));
  EXPECT_NO_THROW((void)load_termsim_config(EFT_SIM_EXAMPLES_DIR "/termsim-direct.yaml"));
  EXPECT_EQ(load_termsim_config(EFT_SIM_EXAMPLES_DIR "/termsim-iso93.yaml").target.edition, iso_edition::v1993);
  EXPECT_NO_THROW((void)load_hostsim_config(EFT_SIM_EXAMPLES_DIR "/hostsim.yaml"));
}

// A terminal whose KSN or PIN block the target spec cannot carry is refused when the config loads
// (every PIN transaction of a run would fail), naming file, line, field, its definition and a fix.
TEST(SimulatorConfig, KsnAndPinBlockMustFitTheTargetSpec) {
  const fs::path dir = fs::temp_directory_path() / ("simcfg-fit-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& spec, const std::string& terminal) {
    const auto file = dir / name;
    std::ofstream(file) << "target: {address: 127.0.0.1, port: 5000, spec: " << spec
                        << (spec.rfind("iso93", 0) == 0 ? ", version: 1993" : "")
                        << "}\n"
                           "terminals:\n"
                           "  - id: POS00001\n"
                        << terminal
                        << "cards:\n"
                           "  - {pan: \"4761739001010010\", chip: false}\n";
    return file;
  };
  const auto refusal = [](const fs::path& file) -> std::string {
    try {
      (void)load_termsim_config(file);
    } catch (const config::config_error& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string tdes =
      "    bdk: 0123456789ABCDEFFEDCBA9876543210\n"
      "    ksn: FFFF9876543210E00000\n";
  // TDES DUKPT on iso87-binary: field 53 is n 16, which holds neither 20 digits nor hex.
  const auto m = refusal(write("tdes53.yaml", "iso87-binary", tdes));
  EXPECT_NE(
      m.find("tdes53.yaml:5: terminals[0]: its 20-digit KSN does not fit ksn_field 53 of spec iso87-binary, n 16"),
      std::string::npos)
      << m;
  EXPECT_NE(m.find("set ksn_field to a field that holds 20 hex digits or 10 bytes, e.g. field 62, ans ..999 (LLL)"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find("0123456789ABCDEFFEDCBA9876543210"), std::string::npos) << "key material in an error: " << m;
  const auto m2 = refusal(write("tdes53b.yaml", "iso87-binary", tdes + "    ksn_field: 53\n"));
  EXPECT_NE(m2.find("tdes53b.yaml:6: terminals[0]: its 20-digit KSN does not fit ksn_field 53"), std::string::npos)
      << m2;
  // A field the requests use for something else.
  const auto m3 = refusal(write("tdes41.yaml", "iso87-binary", tdes + "    ksn_field: 41\n"));
  EXPECT_NE(m3.find("termsim's requests use field 41"), std::string::npos) << m3;
  // Where it fits: iso87-ascii's field 53 (b 48), or field 62 of iso87-binary.
  EXPECT_EQ(refusal(write("tdes-ascii.yaml", "iso87-ascii", tdes)), "accepted");
  EXPECT_EQ(refusal(write("tdes62.yaml", "iso87-binary", tdes + "    ksn_field: 62\n")), "accepted");

  // AES DUKPT: format 4 PIN blocks are 16 bytes; field 52 of every built-in dialect is b 8.
  const std::string aes =
      "    bdk: FEDCBA9876543210F1F1F1F1F1F1F1F1\n"
      "    ksn: \"123456789012345600000000\"\n"
      "    ksn_field: 62\n";
  for (const char* builtin : {"iso87-binary", "iso87-ascii", "iso87-ebcdic", "iso93-ascii"}) {
    const auto a = refusal(write("aes.yaml", builtin, aes));
    EXPECT_NE(a.find("aes.yaml:4: terminals[0]: format 4 (AES) PIN blocks are 16 bytes, but field 52 of spec " +
                     std::string(builtin) + " is b 8"),
              std::string::npos)
        << a;
    EXPECT_NE(a.find("use a spec file whose field 52 holds 16 bytes, e.g. b 16"), std::string::npos) << a;
  }
  // A spec file with a 16-byte field 52 carries them.
  std::ifstream in(EFT_SPECS_DIR "/iso87-binary.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto at = text.find("  52:");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find('\n', at) - at, "  52:  {name: \"PIN data\", class: b, length: 16, sensitive: pin}");
  std::ofstream(dir / "aes-pin.yaml") << text;
  EXPECT_EQ(refusal(write("aes16.yaml", "aes-pin.yaml", aes)), "accepted");
  fs::remove_all(dir);
}

TEST(LatencyHistogram, PercentilesWithinOnePercent) {
  latency_histogram h;
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v);
  EXPECT_EQ(h.count(), 100000U);
  EXPECT_EQ(h.max(), 100000U);
  for (const double p : {50.0, 90.0, 99.0, 99.9}) {
    const double expected = p * 1000.0;
    EXPECT_NEAR(static_cast<double>(h.percentile(p)), expected, expected * 0.016) << p;
  }
  for (std::uint64_t v : {0ULL, 1ULL, 127ULL, 128ULL, 1000ULL, 123456789ULL}) {
    EXPECT_GE(latency_histogram::bucket_upper(latency_histogram::bucket_of(v)), v);
  }
}

}  // namespace
}  // namespace eft::simulators
