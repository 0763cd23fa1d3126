#include "eft/emv/dictionary.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace eft::emv {

namespace {

using f = tag_format;
using s = tag_source;
using z = tag_sensitivity;

// EMV 4.4 Book 3 annex A1 unless noted; lengths in bytes. Kept sorted by tag number (a test checks).
constexpr std::array dictionary = {
    tag_info{0x42, "Issuer Identification Number (IIN)", f::n, s::card, 3, 3},
    tag_info{0x4F, "Application Identifier (AID) - card", f::b, s::card, 5, 16},
    tag_info{0x50, "Application Label", f::ans, s::card, 1, 16},
    tag_info{0x56, "Track 1 Data", f::ans, s::card, 0, 76, z::track},
    tag_info{0x57, "Track 2 Equivalent Data", f::b, s::card, 0, 19, z::track},
    tag_info{0x5A, "Application Primary Account Number (PAN)", f::cn, s::card, 1, 10, z::pan},
    tag_info{0x61, "Application Template", f::b, s::card, 0, 252},
    tag_info{0x6F, "File Control Information (FCI) Template", f::b, s::card, 0, 252},
    tag_info{0x70, "READ RECORD Response Message Template", f::b, s::card, 0, 252},
    tag_info{0x71, "Issuer Script Template 1", f::b, s::issuer, 0, 255},
    tag_info{0x72, "Issuer Script Template 2", f::b, s::issuer, 0, 255},
    tag_info{0x73, "Directory Discretionary Template", f::b, s::card, 0, 252},
    tag_info{0x77, "Response Message Template Format 2", f::b, s::card, 0, 252},
    tag_info{0x80, "Response Message Template Format 1", f::b, s::card, 0, 252},
    tag_info{0x82, "Application Interchange Profile (AIP)", f::b, s::card, 2, 2},
    tag_info{0x84, "Dedicated File (DF) Name", f::b, s::card, 5, 16},
    tag_info{0x86, "Issuer Script Command", f::b, s::issuer, 0, 261},
    tag_info{0x87, "Application Priority Indicator", f::b, s::card, 1, 1},
    tag_info{0x88, "Short File Identifier (SFI)", f::b, s::card, 1, 1},
    tag_info{0x89, "Authorisation Code", f::ans, s::issuer, 6, 6},
    tag_info{0x8A, "Authorisation Response Code", f::an, s::issuer, 2, 2},
    tag_info{0x8C, "Card Risk Management Data Object List 1 (CDOL1)", f::b, s::card, 0, 252},
    tag_info{0x8D, "Card Risk Management Data Object List 2 (CDOL2)", f::b, s::card, 0, 252},
    tag_info{0x8E, "Cardholder Verification Method (CVM) List", f::b, s::card, 10, 252},
    tag_info{0x8F, "Certification Authority Public Key Index", f::b, s::card, 1, 1},
    tag_info{0x90, "Issuer Public Key Certificate", f::b, s::card, 0, 248},
    tag_info{0x91, "Issuer Authentication Data", f::b, s::issuer, 8, 16},
    tag_info{0x92, "Issuer Public Key Remainder", f::b, s::card, 0, 255},
    tag_info{0x93, "Signed Static Application Data", f::b, s::card, 0, 248},
    tag_info{0x94, "Application File Locator (AFL)", f::b, s::card, 0, 252},
    tag_info{0x95, "Terminal Verification Results (TVR)", f::b, s::terminal, 5, 5},
    tag_info{0x97, "Transaction Certificate Data Object List (TDOL)", f::b, s::card, 0, 252},
    tag_info{0x98, "Transaction Certificate (TC) Hash Value", f::b, s::terminal, 20, 20},
    tag_info{0x99, "Transaction Personal Identification Number (PIN) Data", f::b, s::terminal, 0, 255, z::secret},
    tag_info{0x9A, "Transaction Date", f::n, s::terminal, 3, 3},
    tag_info{0x9B, "Transaction Status Information (TSI)", f::b, s::terminal, 2, 2},
    tag_info{0x9C, "Transaction Type", f::n, s::terminal, 1, 1},
    tag_info{0x9D, "Directory Definition File (DDF) Name", f::b, s::card, 5, 16},
    tag_info{0xA5, "File Control Information (FCI) Proprietary Template", f::b, s::card, 0, 252},
    tag_info{0x5F20, "Cardholder Name", f::ans, s::card, 2, 26},
    tag_info{0x5F24, "Application Expiration Date", f::n, s::card, 3, 3},
    tag_info{0x5F25, "Application Effective Date", f::n, s::card, 3, 3},
    tag_info{0x5F28, "Issuer Country Code", f::n, s::card, 2, 2},
    tag_info{0x5F2A, "Transaction Currency Code", f::n, s::terminal, 2, 2},
    tag_info{0x5F2D, "Language Preference", f::an, s::card, 2, 8},
    tag_info{0x5F30, "Service Code", f::n, s::card, 2, 2},
    tag_info{0x5F34, "Application PAN Sequence Number", f::n, s::card, 1, 1},
    tag_info{0x5F36, "Transaction Currency Exponent", f::n, s::terminal, 1, 1},
    tag_info{0x5F50, "Issuer URL", f::ans, s::card, 0, 255},
    tag_info{0x5F55, "Issuer Country Code (alpha2 format)", f::an, s::card, 2, 2},
    tag_info{0x5F56, "Issuer Country Code (alpha3 format)", f::an, s::card, 3, 3},
    tag_info{0x5F57, "Account Type", f::n, s::terminal, 1, 1},
    tag_info{0x9F01, "Acquirer Identifier", f::n, s::terminal, 6, 6},
    tag_info{0x9F02, "Amount, Authorised (Numeric)", f::n, s::terminal, 6, 6},
    tag_info{0x9F03, "Amount, Other (Numeric)", f::n, s::terminal, 6, 6},
    tag_info{0x9F04, "Amount, Other (Binary)", f::b, s::terminal, 4, 4},
    tag_info{0x9F05, "Application Discretionary Data", f::b, s::card, 1, 32},
    tag_info{0x9F06, "Application Identifier (AID) - terminal", f::b, s::terminal, 5, 16},
    tag_info{0x9F07, "Application Usage Control", f::b, s::card, 2, 2},
    tag_info{0x9F08, "Application Version Number (card)", f::b, s::card, 2, 2},
    tag_info{0x9F09, "Application Version Number (terminal)", f::b, s::terminal, 2, 2},
    tag_info{0x9F0B, "Cardholder Name Extended", f::ans, s::card, 27, 45},
    tag_info{0x9F0D, "Issuer Action Code - Default", f::b, s::card, 5, 5},
    tag_info{0x9F0E, "Issuer Action Code - Denial", f::b, s::card, 5, 5},
    tag_info{0x9F0F, "Issuer Action Code - Online", f::b, s::card, 5, 5},
    tag_info{0x9F10, "Issuer Application Data (IAD)", f::b, s::card, 0, 32},
    tag_info{0x9F11, "Issuer Code Table Index", f::n, s::card, 1, 1},
    tag_info{0x9F12, "Application Preferred Name", f::ans, s::card, 1, 16},
    tag_info{0x9F13, "Last Online Application Transaction Counter (ATC) Register", f::b, s::card, 2, 2},
    tag_info{0x9F14, "Lower Consecutive Offline Limit", f::b, s::card, 1, 1},
    tag_info{0x9F15, "Merchant Category Code", f::n, s::terminal, 2, 2},
    tag_info{0x9F16, "Merchant Identifier", f::ans, s::terminal, 15, 15},
    tag_info{0x9F17, "Personal Identification Number (PIN) Try Counter", f::b, s::card, 1, 1},
    tag_info{0x9F18, "Issuer Script Identifier", f::b, s::issuer, 4, 4},
    tag_info{0x9F19, "Token Requestor ID", f::n, s::card, 6, 6},
    tag_info{0x9F1A, "Terminal Country Code", f::n, s::terminal, 2, 2},
    tag_info{0x9F1B, "Terminal Floor Limit", f::b, s::terminal, 4, 4},
    tag_info{0x9F1C, "Terminal Identification", f::an, s::terminal, 8, 8},
    tag_info{0x9F1D, "Terminal Risk Management Data", f::b, s::terminal, 1, 8},
    tag_info{0x9F1E, "Interface Device (IFD) Serial Number", f::an, s::terminal, 8, 8},
    tag_info{0x9F1F, "Track 1 Discretionary Data", f::ans, s::card, 0, 255, z::track},
    tag_info{0x9F20, "Track 2 Discretionary Data", f::cn, s::card, 0, 255, z::track},
    tag_info{0x9F21, "Transaction Time", f::n, s::terminal, 3, 3},
    tag_info{0x9F22, "Certification Authority Public Key Index (terminal)", f::b, s::terminal, 1, 1},
    tag_info{0x9F23, "Upper Consecutive Offline Limit", f::b, s::card, 1, 1},
    tag_info{0x9F24, "Payment Account Reference (PAR)", f::an, s::card, 29, 29},
    tag_info{0x9F25, "Last 4 Digits of PAN", f::n, s::card, 2, 2},
    tag_info{0x9F26, "Application Cryptogram", f::b, s::card, 8, 8},
    tag_info{0x9F27, "Cryptogram Information Data (CID)", f::b, s::card, 1, 1},
    tag_info{0x9F2D, "ICC PIN Encipherment Public Key Certificate", f::b, s::card, 0, 248},
    tag_info{0x9F2E, "ICC PIN Encipherment Public Key Exponent", f::b, s::card, 1, 3},
    tag_info{0x9F2F, "ICC PIN Encipherment Public Key Remainder", f::b, s::card, 0, 255},
    tag_info{0x9F32, "Issuer Public Key Exponent", f::b, s::card, 1, 3},
    tag_info{0x9F33, "Terminal Capabilities", f::b, s::terminal, 3, 3},
    tag_info{0x9F34, "Cardholder Verification Method (CVM) Results", f::b, s::terminal, 3, 3},
    tag_info{0x9F35, "Terminal Type", f::n, s::terminal, 1, 1},
    tag_info{0x9F36, "Application Transaction Counter (ATC)", f::b, s::card, 2, 2},
    tag_info{0x9F37, "Unpredictable Number", f::b, s::terminal, 4, 4},
    tag_info{0x9F38, "Processing Options Data Object List (PDOL)", f::b, s::card, 0, 252},
    tag_info{0x9F39, "Point-of-Service (POS) Entry Mode", f::n, s::terminal, 1, 1},
    tag_info{0x9F3A, "Amount, Reference Currency", f::b, s::terminal, 4, 4},
    tag_info{0x9F3B, "Application Reference Currency", f::n, s::card, 2, 8},
    tag_info{0x9F3C, "Transaction Reference Currency Code", f::n, s::terminal, 2, 2},
    tag_info{0x9F3D, "Transaction Reference Currency Exponent", f::n, s::terminal, 1, 1},
    tag_info{0x9F40, "Additional Terminal Capabilities", f::b, s::terminal, 5, 5},
    tag_info{0x9F41, "Transaction Sequence Counter", f::n, s::terminal, 2, 4},
    tag_info{0x9F42, "Application Currency Code", f::n, s::card, 2, 2},
    tag_info{0x9F43, "Application Reference Currency Exponent", f::n, s::card, 1, 4},
    tag_info{0x9F44, "Application Currency Exponent", f::n, s::card, 1, 1},
    tag_info{0x9F45, "Data Authentication Code", f::b, s::card, 2, 2},
    tag_info{0x9F46, "ICC Public Key Certificate", f::b, s::card, 0, 248},
    tag_info{0x9F47, "ICC Public Key Exponent", f::b, s::card, 1, 3},
    tag_info{0x9F48, "ICC Public Key Remainder", f::b, s::card, 0, 255},
    tag_info{0x9F49, "Dynamic Data Authentication Data Object List (DDOL)", f::b, s::card, 0, 252},
    tag_info{0x9F4A, "Static Data Authentication Tag List", f::b, s::card, 0, 255},
    tag_info{0x9F4B, "Signed Dynamic Application Data", f::b, s::card, 0, 248},
    tag_info{0x9F4C, "ICC Dynamic Number", f::b, s::card, 2, 8},
    tag_info{0x9F4D, "Log Entry", f::b, s::card, 2, 2},
    tag_info{0x9F4E, "Merchant Name and Location", f::ans, s::terminal, 0, 255},
    tag_info{0x9F4F, "Log Format", f::b, s::card, 0, 255},
    // Scheme and contactless tags (EMV Contactless Books C-2 and C-3, scheme tag tables).
    tag_info{0x9F53, "Transaction Category Code (Mastercard)", f::an, s::terminal, 1, 1},
    tag_info{0x9F5B, "Issuer Script Results", f::b, s::terminal, 0, 255},
    tag_info{0x9F5D, "Available Offline Spending Amount", f::n, s::card, 6, 6},
    tag_info{0x9F60, "CVC3 (Track 1) (Mastercard)", f::b, s::card, 2, 2},
    tag_info{0x9F61, "CVC3 (Track 2) (Mastercard)", f::b, s::card, 2, 2},
    tag_info{0x9F66, "Terminal Transaction Qualifiers (TTQ) (Visa)", f::b, s::terminal, 4, 4},
    tag_info{0x9F6B, "Track 2 Data (Mastercard contactless)", f::b, s::card, 0, 19, z::track},
    tag_info{0x9F6C, "Card Transaction Qualifiers (CTQ) (Visa)", f::b, s::card, 2, 2},
    tag_info{0x9F6D, "Mag-stripe Application Version Number (Reader) (Mastercard)", f::b, s::terminal, 2, 2},
    tag_info{0x9F6E, "Form Factor Indicator (Visa) / Third Party Data (Mastercard)", f::b, s::card, 4, 32},
    tag_info{0x9F7C, "Customer Exclusive Data (Visa) / Merchant Custom Data (Mastercard)", f::b, s::card, 0, 32},
    tag_info{0xBF0C, "File Control Information (FCI) Issuer Discretionary Data", f::b, s::card, 0, 222},
};

bool digit_nibble(unsigned v) noexcept {
  return v <= 9;
}

}  // namespace

std::span<const tag_info> tag_dictionary() noexcept {
  return dictionary;
}

const tag_info* find_tag(tag_t tag) noexcept {
  const auto it =
      std::lower_bound(dictionary.begin(), dictionary.end(), tag, [](const tag_info& e, tag_t t) { return e.tag < t; });
  return (it != dictionary.end() && it->tag == tag) ? &*it : nullptr;
}

std::string_view tag_name(tag_t tag) noexcept {
  const auto* info = find_tag(tag);
  return info != nullptr ? info->name : std::string_view{};
}

std::string_view format_name(tag_format fmt) noexcept {
  switch (fmt) {
    case tag_format::b:
      return "b";
    case tag_format::n:
      return "n";
    case tag_format::cn:
      return "cn";
    case tag_format::an:
      return "an";
    case tag_format::ans:
      return "ans";
  }
  return "?";
}

std::string_view source_name(tag_source src) noexcept {
  switch (src) {
    case tag_source::card:
      return "card";
    case tag_source::terminal:
      return "terminal";
    case tag_source::issuer:
      return "issuer";
  }
  return "?";
}

status check_value(const tag_info& info, byte_view value) {
  const auto fail = [&](std::string why) { return status::failure(errc::bad_value, info.tag, std::move(why)); };
  if (value.size() < info.min_length || value.size() > info.max_length) {
    const std::string expected = info.min_length == info.max_length
                                     ? std::to_string(info.min_length)
                                     : std::to_string(info.min_length) + "-" + std::to_string(info.max_length);
    return fail("length " + std::to_string(value.size()) + ", expected " + expected + " bytes");
  }
  switch (info.format) {
    case tag_format::b:
      break;
    case tag_format::n:
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (!digit_nibble(value[i] >> 4U) || !digit_nibble(value[i] & 0xFU)) {
          return fail("byte " + std::to_string(i + 1) + " is not two BCD digits (format n)");
        }
      }
      break;
    case tag_format::cn: {
      bool padding = false;
      for (std::size_t i = 0; i < 2 * value.size(); ++i) {
        const unsigned nib = (i % 2 == 0) ? (value[i / 2] >> 4U) : (value[i / 2] & 0xFU);
        if (nib == 0xF) {
          padding = true;
        } else if (padding || !digit_nibble(nib)) {
          return fail("nibble " + std::to_string(i + 1) + " is neither a digit nor trailing F padding (format cn)");
        }
      }
      break;
    }
    case tag_format::an:
    case tag_format::ans:
      for (std::size_t i = 0; i < value.size(); ++i) {
        const auto c = value[i];
        const bool alnum = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == ' ';
        const bool printable = c >= 0x20 && c <= 0x7E;
        if (info.format == tag_format::an ? !alnum : !printable) {
          return fail("byte " + std::to_string(i + 1) + " is not allowed in format " +
                      std::string(format_name(info.format)));
        }
      }
      break;
  }
  return {};
}

}  // namespace eft::emv
