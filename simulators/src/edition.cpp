#include "eft/simulators/edition.hpp"

#include <array>
#include <utility>

namespace eft::simulators {

std::optional<iso_edition> edition_of_mti(std::string_view mti) noexcept {
  if (mti.size() != 4) return std::nullopt;
  if (mti[0] == '0') return iso_edition::v1987;
  if (mti[0] == '1') return iso_edition::v1993;
  return std::nullopt;
}

std::string mti_of(iso_edition edition, std::string_view class_function) {
  return (edition == iso_edition::v1993 ? "1" : "0") + std::string(class_function);
}

namespace {
// ISO 8583:1987 response codes (field 39, an 2) and the ISO 8583:1993 action codes (field 39, n 3)
// with the same meaning, for the answers hostsim gives and the codes its rules may name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 28> response_to_action = {{
    {"00", "000"},  // approved
    {"01", "107"},  // refer to card issuer
    {"02", "108"},  // refer to card issuer's special conditions
    {"03", "109"},  // invalid merchant
    {"04", "200"},  // pick up
    {"05", "100"},  // do not honour
    {"07", "207"},  // pick up, special conditions
    {"12", "902"},  // invalid transaction
    {"13", "110"},  // invalid amount
    {"14", "111"},  // invalid card number
    {"30", "904"},  // format error
    {"33", "101"},  // expired card (pick up in 1987: decline here)
    {"34", "102"},  // suspected fraud
    {"41", "208"},  // lost card, pick up
    {"43", "209"},  // stolen card, pick up
    {"51", "116"},  // not sufficient funds
    {"54", "101"},  // expired card
    {"55", "117"},  // incorrect PIN
    {"56", "118"},  // no card record
    {"57", "119"},  // transaction not permitted to cardholder
    {"58", "120"},  // transaction not permitted to terminal
    {"61", "121"},  // exceeds withdrawal amount limit
    {"62", "104"},  // restricted card
    {"63", "122"},  // security violation
    {"65", "123"},  // exceeds withdrawal frequency limit
    {"75", "106"},  // allowable PIN tries exceeded
    {"91", "907"},  // card issuer or switch inoperative
    {"96", "909"},  // system malfunction
}};
}  // namespace

std::optional<std::string_view> action_code_for(std::string_view response_code) noexcept {
  for (const auto& [rc, action] : response_to_action) {
    if (rc == response_code) return action;
  }
  return std::nullopt;
}

std::string response_codes_with_action_codes() {
  std::string codes;
  for (const auto& [rc, action] : response_to_action) codes += (codes.empty() ? "" : ", ") + std::string(rc);
  return codes;
}

bool approves(std::string_view code) noexcept {
  if (code.size() == 2) return code == "00";
  return code.size() == 3 && code[0] == '0' && code[1] >= '0' && code[1] <= '9' && code[2] >= '0' && code[2] <= '9';
}

}  // namespace eft::simulators
