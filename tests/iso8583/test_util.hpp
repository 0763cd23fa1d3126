#pragma once
// Helpers for the ISO 8583 tests: small inline specs and hex in, hex out.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "eft/iso8583/codec.hpp"
#include "eft/iso8583/hex.hpp"
#include "eft/iso8583/message.hpp"
#include "eft/iso8583/spec.hpp"

namespace eft::iso8583::test {

/// A spec with ASCII MTI and binary bitmap, and the given fields (YAML map body, indented by 2).
inline spec make_spec(const std::string& fields, const std::string& header = "") {
  return parse_spec("name: test\n" + header + "fields:\n" + fields, "test.yaml");
}

/// Bytes from hex text (spaces allowed).
inline std::string bytes(std::string_view hex) {
  std::string clean;
  for (char c : hex) {
    if (c != ' ') clean += c;
  }
  std::string out;
  EXPECT_TRUE(append_hex_decoded(clean, out)) << hex;
  return out;
}

/// Packs a message of the spec with the MTI and fields given; returns uppercase hex, or "error: ..."
inline std::string pack_hex(const spec& s, std::string_view mti,
                            const std::vector<std::pair<std::string, std::string>>& fields) {
  message m(s);
  m.set_mti(mti);
  for (const auto& [path, value] : fields) {
    auto st = m.set(std::string_view(path), value);
    if (!st) return "error: " + st.message();
  }
  std::vector<std::byte> out;
  auto st = pack(m, out);
  if (!st) return "error: " + st.message();
  return to_hex(out);
}

/// Unpacks hex into m; returns the status.
inline status unpack_hex(std::string_view hex, message& m) {
  const std::string b = bytes(hex);
  return unpack(as_bytes(b), m);
}

}  // namespace eft::iso8583::test
