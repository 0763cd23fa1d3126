#pragma once
// Shared by the issuer side (cryptogram.cpp) and the card side (card.cpp).

#include "eft/emv/cryptogram.hpp"

namespace eft::emv::detail {

// The Book 2 8.1.1 terminal data in its order: tag and length.
struct terminal_item {
  tag_t tag;
  std::size_t length;
};
inline constexpr terminal_item terminal_items[] = {{0x9F02, 6}, {0x9F03, 6}, {0x9F1A, 2}, {0x95, 5},
                                                   {0x5F2A, 2}, {0x9A, 3},   {0x9C, 1},   {0x9F37, 4}};

// The cryptogram input of a version from its parts: `terminal` is the Book 2 minimum set already
// concatenated (29 bytes), then AIP, ATC and what the version takes from the IAD.
result<bytes> cryptogram_data(cryptogram_version v, byte_view terminal, byte_view aip, byte_view atc, byte_view iad);

// The scheme to split an IAD with for a version.
card_scheme iad_scheme(cryptogram_version v) noexcept;

// Status of a crypto failure (the detail never holds key material or PANs).
status crypto_failure(const crypto::failure& f);

}  // namespace eft::emv::detail
