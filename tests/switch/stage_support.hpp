#pragma once
// Shared by the stage tests (in-process and against the eftswitch process): published keys and
// vectors, the terminal's side of MACs computed with the crypto library, and a software HSM holding
// the keys under their names.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eft/crypto/mac.hpp"
#include "eft/crypto/software_hsm.hpp"
#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/iso8583/spec.hpp"

namespace eft::test::stage {

// X9.24-1:2009 annex A (shared vectors, dukpt_tdes): BDK, KSN of the first transaction, the PIN block
// of PIN 1234 for PAN 4012345678909 under its PIN key, and its request and response MAC keys.
constexpr std::string_view x924_bdk = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view x924_ksn = "FFFF9876543210E00001";
constexpr std::string_view x924_pan = "4012345678909";
constexpr std::string_view x924_pin_block = "1B9C1845EB993A7A";
constexpr std::string_view x924_mac_request_key = "042666B4918430A368DE9628D03984C9";
constexpr std::string_view x924_mac_response_key = "042666B46E84CFA368DE96282F397BC9";
// ISO/IEC 9797-1 B.4 key (shared vectors, mac.iso9797_1_alg3_padding1), the terminal MAC key here.
constexpr std::string_view tak_hex = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view zpk_hex = "89ABCDEF0123456776543210FEDCBA98";
constexpr std::string_view imk_hex = "0123456789ABCDEFFEDCBA9876543210";  // pyemv issuer master key
constexpr const char* pan = "4761739001010010";

inline eft::crypto::bytes hex(std::string_view h) {
  return eft::crypto::from_hex(h).value();
}
inline std::string_view chars(const eft::crypto::bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline eft::crypto::bytes bytes_of(std::string_view s) {
  return eft::crypto::bytes(s.begin(), s.end());
}

inline const iso8583::spec& binary_spec() {
  static const auto s = iso8583::load_spec("iso87-binary");
  return *s;
}
inline const iso8583::spec& ascii_spec() {
  static const auto s = iso8583::load_spec("iso87-ascii");
  return *s;
}

inline iso8583::message purchase(const iso8583::spec& spec, std::string stan, std::string card = pan) {
  iso8583::message m(spec);
  m.set_mti("0200");
  (void)m.set(2U, card);
  (void)m.set(3U, "000000");
  (void)m.set(4U, "000000001000");
  (void)m.set(7U, "0301120000");
  (void)m.set(11U, stan);
  (void)m.set(22U, "051");
  (void)m.set(41U, "TERM0001");
  (void)m.set(42U, "MERCHANT0000001");
  (void)m.set(49U, "840");
  return m;
}

// The packed message without its last 8 bytes (the MAC field, binary, last), by the rule of
// docs/switch.md; the MAC input of a message packed with a placeholder MAC.
inline eft::crypto::bytes mac_input(const iso8583::message& m) {
  std::vector<std::byte> packed;
  if (!iso8583::pack(m, packed)) return {};
  eft::crypto::bytes out;
  for (std::size_t i = 0; i + 8 < packed.size(); ++i) out.push_back(static_cast<std::uint8_t>(packed[i]));
  return out;
}

// Sets field 64 to the retail MAC (ISO 9797-1 alg 3, padding 1) of the message under `key`.
inline void add_mac(iso8583::message& m, std::string_view key_hex) {
  (void)m.set(64U, std::string(8, '\0'));
  const auto mac = eft::crypto::mac_iso9797_1_alg3(hex(key_hex), mac_input(m), eft::crypto::mac_padding::method1);
  if (mac) (void)m.set(64U, chars(*mac));
}

inline bool mac_valid(const iso8583::message& m, std::string_view key_hex) {
  const auto got = m.get(64U);
  if (!got || got->size() != 8) return false;
  const auto mac = eft::crypto::mac_iso9797_1_alg3(hex(key_hex), mac_input(m), eft::crypto::mac_padding::method1);
  return mac && chars(*mac) == *got;
}

// X9.24-3-2017 supplement (shared vectors, dukpt_aes128): AES-128 BDK, the KSN of counter 1 (initial key
// id 1234567890123456) and its MAC generation key (the key a terminal MACs requests with).
constexpr std::string_view aes_bdk = "FEDCBA9876543210F1F1F1F1F1F1F1F1";
constexpr std::string_view aes_ksn = "123456789012345600000001";
constexpr std::string_view aes_mac_generation_key = "A2DC23DE6FDE0824A2BC321E08E4B8B7";

/// The LMK of the test HSMs (64 hex digits), also written to lmk files for eftswitch.
constexpr std::string_view test_lmk_hex = "4C4D4B2D746573742D6B65792D6E6F742D666F722D70726F64756374696F6E21";

// The terminal PIN key, and the host simulator's PIN verification keys (simulators/examples/hostsim.yaml):
// the Visa PVV key pair and the IBM 3624 PIN verification key.
constexpr std::string_view tpk_hex = "0123456789ABCDEFFEDCBA9876543210";
constexpr std::string_view pvk_visa_hex = "5B8CE3D0F2A16E97C41D3B8A09E6F275";
constexpr std::string_view pvk_3624_hex = "7A3F19C6E2B4D8050C6E91A7F3B2D48E";

/// A software HSM at `key_file` holding tak.pos (M3), bdk.pos (B0, the X9.24-1 BDK), zpk.acq1 (P0),
/// imk.visa (E0), bdk.aes (B0, the X9.24-3 AES BDK), tpk.pos (P0), pvk.visa (V2) and pvk.3624 (V1);
/// null when it cannot be made.
inline std::shared_ptr<eft::crypto::hsm> make_test_hsm(const std::filesystem::path& key_file) {
  auto lmk = eft::crypto::secure_from_hex(test_lmk_hex);
  auto opened = eft::crypto::software_hsm::open(key_file, std::move(*lmk));
  if (!opened) return nullptr;
  const auto import = [&](const char* name, const char* usage, char mode, std::string_view key, char alg = 'T') {
    eft::crypto::tr31_header h;
    h.usage = usage;
    h.mode_of_use = mode;
    h.algorithm = alg;
    std::vector<eft::crypto::secure_bytes> parts;
    parts.emplace_back(eft::crypto::byte_view(hex(key)));
    return static_cast<bool>((*opened)->import_components(name, h, parts, ""));
  };
  if (!import("tak.pos", "M3", 'C', tak_hex) || !import("bdk.pos", "B0", 'X', x924_bdk) ||
      !import("zpk.acq1", "P0", 'B', zpk_hex) || !import("imk.visa", "E0", 'X', imk_hex) ||
      !import("bdk.aes", "B0", 'X', aes_bdk, 'A') || !import("tpk.pos", "P0", 'B', tpk_hex) ||
      !import("pvk.visa", "V2", 'V', pvk_visa_hex) || !import("pvk.3624", "V1", 'V', pvk_3624_hex)) {
    return nullptr;
  }
  return *opened;
}

}  // namespace eft::test::stage
