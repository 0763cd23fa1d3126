#include "eft/switch/reversal.hpp"

#include <fmt/format.h>

namespace eft::switch_core {

namespace {

// An n11 institution id, right-justified and zero-filled; the last 11 digits when longer.
std::string id11(std::string_view v) {
  if (v.size() >= 11) return std::string(v.substr(v.size() - 11));
  return std::string(11 - v.size(), '0') + std::string(v);
}

std::string fixed(std::string_view v, std::size_t n) {
  if (v.size() >= n) return std::string(v.substr(0, n));
  return std::string(n - v.size(), '0') + std::string(v);
}

}  // namespace

std::string original_data_elements(const iso8583::message& original) {
  return fixed(original.mti(), 4) + fixed(original.get(11U).value_or(""), 6) +
         fixed(original.get(7U).value_or(""), 10) + id11(original.get(32U).value_or("")) +
         id11(original.get(33U).value_or(""));
}

iso8583::status build_reversal(const iso8583::message& original, std::string_view mti, iso8583::message& out) {
  out.clear();
  out.set_mti(mti);
  iso8583::status st;
  original.for_each_field([&](std::uint32_t f, const iso8583::message::node& node) {
    if (!st) return;
    switch (f) {
      case 35:
      case 36:
      case 45:
      case 52:
      case 53:
      case 64:
      case 90:
      case 128:
        return;
      default:
        st = out.set(f, original.value(node));
    }
  });
  if (!st) return st;
  return out.set(90U, original_data_elements(original));
}

std::string repeat_mti(std::string_view mti) {
  std::string m(mti);
  if (m.size() == 4 && m[3] == '0' && (m[1] == '2' || m[1] == '4')) m[3] = '1';
  return m;
}

bool acknowledges(std::string_view sent, std::string_view answer) noexcept {
  if (sent.size() != 4 || answer.size() != 4) return false;
  // Some hosts echo the repeat digit (0411 to an 0401): the answer to a repeat is still its answer.
  return answer[0] == sent[0] && answer[1] == sent[1] && answer[2] == static_cast<char>(sent[2] + 1) &&
         (answer[3] == '0' || answer[3] == sent[3]);
}

}  // namespace eft::switch_core
