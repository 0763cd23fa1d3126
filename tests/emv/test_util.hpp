#pragma once
// Helpers of the eft::emv tests.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "eft/crypto/bytes.hpp"
#include "eft/emv/tlv.hpp"

namespace eft::emv::test {

inline bytes hex(std::string_view h) {
  std::string compact;
  for (char c : h) {
    if (c != ' ') compact += c;
  }
  auto b = crypto::from_hex(compact);
  EXPECT_TRUE(b) << "bad hex in a test: " << h;
  return b ? *b : bytes{};
}

inline std::string to_hex(byte_view b) {
  return crypto::to_hex(b);
}

}  // namespace eft::emv::test
