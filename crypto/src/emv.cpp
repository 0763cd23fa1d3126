#include "eft/crypto/emv.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "eft/crypto/mac.hpp"
#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

namespace {

constexpr std::size_t max_cryptogram_input = 1024;

bool all_digits(std::string_view s) noexcept {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Packs decimal digits (even count) into BCD bytes.
secure_bytes pack_bcd(std::string_view digits) {
  secure_bytes out(digits.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(((digits[2 * i] - '0') << 4) | (digits[2 * i + 1] - '0'));
  }
  return out;
}

status check_key16(byte_view key, const char* what) {
  if (key.size() != 16) return failure{errc::bad_key_length, std::string(what) + " is a 16-byte TDES key"};
  return ok();
}

// Option A on the 16-digit Y (Book 2 A1.4.1).
outcome<secure_bytes> option_a(byte_view imk, std::string_view y_digits) {
  const secure_bytes y = pack_bcd(y_digits);
  secure_bytes mk(16);
  if (auto st = ecb_encrypt(cipher::tdes, imk, y.view(), mk.data()); !st) return st.error();
  secure_bytes y_inv(8);
  for (std::size_t i = 0; i < 8; ++i) y_inv[i] = static_cast<std::uint8_t>(y[i] ^ 0xFF);
  if (auto st = ecb_encrypt(cipher::tdes, imk, y_inv.view(), mk.data() + 8); !st) return st.error();
  set_odd_parity(mk.span());
  return mk;
}

mac_padding iso_padding(emv_padding p) noexcept {
  return p == emv_padding::method1 ? mac_padding::method1 : mac_padding::method2;
}

status check_psn(std::string_view psn) {
  if (!psn.empty() && (psn.size() != 2 || !all_digits(psn))) {
    return failure{errc::bad_input, "the PAN sequence number is 2 decimal digits"};
  }
  return ok();
}

status check_pan(std::string_view pan) {
  if (pan.empty() || pan.size() > 19 || !all_digits(pan)) {
    return failure{errc::bad_pan, "a PAN is 1 to 19 decimal digits"};
  }
  return ok();
}

// The ARQC or ARPC key of a CVN from its ICC master key.
outcome<secure_bytes> cvn_key(emv_session_key kind, const secure_bytes& mk, byte_view atc, byte_view un, int cvn) {
  switch (kind) {
    case emv_session_key::none:
      return mk.clone();
    case emv_session_key::common:
      return derive_emv_common_session_key(mk.view(), atc);
    case emv_session_key::mastercard:
      if (un.empty()) {
        return failure{errc::bad_input, "CVN " + std::to_string(cvn) + " needs the 4-byte unpredictable number"};
      }
      return derive_mastercard_session_key(mk.view(), atc, un);
  }
  return failure{errc::bad_format, "unknown session key derivation"};
}

// Checks the common inputs and derives the ICC master key of the CVN.
outcome<secure_bytes> card_master_key(const cvn_profile& p, byte_view imk, std::string_view pan, std::string_view psn,
                                      byte_view atc) {
  if (atc.size() != 2) return failure{errc::bad_data_length, "the ATC is 2 bytes"};
  return derive_icc_master_key(imk, pan, psn, p.master_key);
}

}  // namespace

outcome<cvn_profile> emv_cvn_profile(int cvn) {
  using k = emv_session_key;
  switch (cvn) {
    case 10:
      return cvn_profile{10, icc_key_option::a, k::none, emv_padding::method1, 1, k::none};
    case 18:
    case 22:
      return cvn_profile{cvn, icc_key_option::b, k::common, emv_padding::method2, 2, k::common};
    case 16:
    case 17:
      return cvn_profile{cvn, icc_key_option::a, k::mastercard, emv_padding::method2, 1, k::none};
    case 20:
    case 21:
      return cvn_profile{cvn, icc_key_option::a, k::common, emv_padding::method2, 1, k::common};
    default:
      return failure{errc::bad_format,
                     "CVN " + std::to_string(cvn) + " is not supported (Visa 10, 18, 22; Mastercard 16, 17, 20, 21)"};
  }
}

outcome<secure_bytes> derive_icc_master_key(byte_view imk, std::string_view pan, std::string_view psn,
                                            icc_key_option option) {
  if (auto st = check_key16(imk, "the issuer master key"); !st) return st.error();
  if (auto st = check_pan(pan); !st) return st.error();
  if (auto st = check_psn(psn); !st) return st.error();
  std::string x;
  x.reserve(21);
  x.append(pan);
  x.append(psn.empty() ? std::string_view("00") : psn);

  if (option == icc_key_option::b && pan.size() > 16) {
    // Book 2 A1.4.2: SHA-1 of PAN || PSN as BCD (a leading zero when odd), decimalised to 16 digits.
    if (x.size() % 2 != 0) x.insert(x.begin(), '0');
    const secure_bytes packed = pack_bcd(x);
    wipe(x.data(), x.size());
    auto sha = sha1(packed.view());
    if (!sha) return sha.error();
    bytes& digest = *sha;
    std::string y;
    y.reserve(16);
    for (int pass = 0; pass < 2 && y.size() < 16; ++pass) {
      for (std::size_t i = 0; i < digest.size() * 2 && y.size() < 16; ++i) {
        const int nib = (i % 2 == 0) ? (digest[i / 2] >> 4) : (digest[i / 2] & 0x0F);
        if (pass == 0 && nib < 10) y.push_back(static_cast<char>('0' + nib));
        if (pass == 1 && nib >= 10) y.push_back(static_cast<char>('0' + nib - 10));
      }
    }
    wipe(digest.data(), digest.size());
    auto mk = option_a(imk, y);
    wipe(y.data(), y.size());
    return mk;
  }

  // Book 2 A1.4.1: the rightmost 16 digits of PAN || PSN, left-filled with zeros.
  if (x.size() < 16) x.insert(x.begin(), 16 - x.size(), '0');
  auto mk = option_a(imk, std::string_view(x).substr(x.size() - 16));
  wipe(x.data(), x.size());
  return mk;
}

outcome<secure_bytes> derive_emv_session_key(byte_view icc_master_key, byte_view r) {
  if (auto st = check_key16(icc_master_key, "the ICC master key"); !st) return st.error();
  if (r.size() != 8) return failure{errc::bad_data_length, "the diversification value R is 8 bytes"};
  std::array<std::uint8_t, 16> f{};
  std::copy(r.begin(), r.end(), f.begin());
  std::copy(r.begin(), r.end(), f.begin() + 8);
  f[2] = 0xF0;
  f[10] = 0x0F;
  secure_bytes sk(16);
  auto st = ecb_encrypt(cipher::tdes, icc_master_key, f, sk.data());
  wipe(f.data(), f.size());
  if (!st) return st.error();
  set_odd_parity(sk.span());
  return sk;
}

outcome<secure_bytes> derive_emv_common_session_key(byte_view icc_master_key, byte_view atc) {
  if (atc.size() != 2) return failure{errc::bad_data_length, "the ATC is 2 bytes"};
  const std::array<std::uint8_t, 8> r = {atc[0], atc[1], 0, 0, 0, 0, 0, 0};
  return derive_emv_session_key(icc_master_key, r);
}

outcome<secure_bytes> derive_mastercard_session_key(byte_view icc_master_key, byte_view atc, byte_view un) {
  if (atc.size() != 2) return failure{errc::bad_data_length, "the ATC is 2 bytes"};
  if (un.size() != 4) return failure{errc::bad_data_length, "the unpredictable number is 4 bytes"};
  const std::array<std::uint8_t, 8> r = {atc[0], atc[1], 0, 0, un[0], un[1], un[2], un[3]};
  return derive_emv_session_key(icc_master_key, r);
}

outcome<bytes> emv_application_cryptogram(byte_view key, byte_view data, emv_padding padding) {
  if (auto st = check_key16(key, "an application cryptogram key"); !st) return st.error();
  if (data.empty()) return failure{errc::bad_data_length, "the cryptogram input is empty"};
  return mac_iso9797_1_alg3(key, data, iso_padding(padding));
}

outcome<bytes> emv_arpc_method1(byte_view key, byte_view arqc, byte_view arc) {
  if (auto st = check_key16(key, "an ARPC key"); !st) return st.error();
  if (arqc.size() != 8) return failure{errc::bad_data_length, "the ARQC is 8 bytes"};
  if (arc.size() != 2) return failure{errc::bad_data_length, "the authorisation response code is 2 bytes"};
  bytes x(arqc.begin(), arqc.end());
  x[0] ^= arc[0];
  x[1] ^= arc[1];
  if (auto st = ecb_encrypt(cipher::tdes, key, x, x.data()); !st) return st.error();
  return x;
}

outcome<bytes> emv_arpc_method2(byte_view key, byte_view arqc, byte_view csu, byte_view proprietary_auth_data) {
  if (auto st = check_key16(key, "an ARPC key"); !st) return st.error();
  if (arqc.size() != 8) return failure{errc::bad_data_length, "the ARQC is 8 bytes"};
  if (csu.size() != 4) return failure{errc::bad_data_length, "the card status update is 4 bytes"};
  if (proprietary_auth_data.size() > 8) {
    return failure{errc::bad_data_length, "proprietary authentication data is at most 8 bytes"};
  }
  bytes input(arqc.begin(), arqc.end());
  input.insert(input.end(), csu.begin(), csu.end());
  input.insert(input.end(), proprietary_auth_data.begin(), proprietary_auth_data.end());
  auto mac = mac_iso9797_1_alg3(key, input, mac_padding::method2);
  if (!mac) return mac.error();
  mac->resize(4);
  return mac;
}

outcome<bytes> generate_arqc(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                             byte_view data, byte_view un) {
  auto p = emv_cvn_profile(cvn);
  if (!p) return p.error();
  if (data.empty() || data.size() > max_cryptogram_input) {
    return failure{errc::bad_data_length, "the cryptogram input is 1 to 1024 bytes"};
  }
  auto mk = card_master_key(*p, imk, pan, psn, atc);
  if (!mk) return mk.error();
  auto key = cvn_key(p->ac_key, *mk, atc, un, cvn);
  if (!key) return key.error();
  return emv_application_cryptogram(key->view(), data, p->padding);
}

outcome<bool> verify_arqc(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                          byte_view data, byte_view arqc, byte_view un) {
  if (arqc.size() != 8) return failure{errc::bad_data_length, "the ARQC is 8 bytes"};
  auto expected = generate_arqc(cvn, imk, pan, psn, atc, data, un);
  if (!expected) return expected.error();
  return equal_ct(*expected, arqc);
}

outcome<bytes> generate_arpc_method1(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                                     byte_view arqc, byte_view arc, byte_view un) {
  auto p = emv_cvn_profile(cvn);
  if (!p) return p.error();
  if (p->arpc_method != 1) {
    return failure{errc::bad_format, "CVN " + std::to_string(cvn) + " uses ARPC method 2 (card status update)"};
  }
  auto mk = card_master_key(*p, imk, pan, psn, atc);
  if (!mk) return mk.error();
  auto key = cvn_key(p->arpc_key, *mk, atc, un, cvn);
  if (!key) return key.error();
  return emv_arpc_method1(key->view(), arqc, arc);
}

outcome<bytes> generate_arpc_method2(int cvn, byte_view imk, std::string_view pan, std::string_view psn, byte_view atc,
                                     byte_view arqc, byte_view csu, byte_view proprietary_auth_data) {
  auto p = emv_cvn_profile(cvn);
  if (!p) return p.error();
  if (p->arpc_method != 2) {
    return failure{errc::bad_format,
                   "CVN " + std::to_string(cvn) + " uses ARPC method 1 (authorisation response code)"};
  }
  auto mk = card_master_key(*p, imk, pan, psn, atc);
  if (!mk) return mk.error();
  auto key = cvn_key(p->arpc_key, *mk, atc, {}, cvn);
  if (!key) return key.error();
  return emv_arpc_method2(key->view(), arqc, csu, proprietary_auth_data);
}

}  // namespace eft::crypto
