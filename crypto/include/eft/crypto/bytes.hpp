#pragma once
/// Byte containers for key material and PIN data. `secure_bytes` wipes its memory when it is
/// destroyed or overwritten, so clear keys and PINs do not linger on the heap.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eft/crypto/error.hpp"

namespace eft::crypto {

using byte_view = std::span<const std::uint8_t>;
using bytes = std::vector<std::uint8_t>;

/// Overwrites memory in a way the compiler cannot elide (OPENSSL_cleanse).
void wipe(void* p, std::size_t n) noexcept;

/// Bytes that are wiped on destruction, assignment and clear(). Not copyable by accident: copies are
/// explicit (clone()).
class secure_bytes {
 public:
  secure_bytes() = default;
  explicit secure_bytes(std::size_t n) : data_(n) {}
  explicit secure_bytes(byte_view v) : data_(v.begin(), v.end()) {}
  secure_bytes(std::initializer_list<std::uint8_t> v) : data_(v) {}
  secure_bytes(secure_bytes&& other) noexcept : data_(std::move(other.data_)) {}
  secure_bytes& operator=(secure_bytes&& other) noexcept {
    if (this != &other) {
      clear();
      data_ = std::move(other.data_);
    }
    return *this;
  }
  secure_bytes(const secure_bytes&) = delete;
  secure_bytes& operator=(const secure_bytes&) = delete;
  ~secure_bytes() { clear(); }

  secure_bytes clone() const { return secure_bytes(view()); }
  void clear() noexcept {
    wipe(data_.data(), data_.size());
    data_.clear();
  }
  void resize(std::size_t n) {
    if (n > data_.capacity()) {
      secure_bytes bigger(n);
      std::copy(data_.begin(), data_.end(), bigger.data_.begin());
      *this = std::move(bigger);
    } else {
      if (n < data_.size()) wipe(data_.data() + n, data_.size() - n);
      data_.resize(n);
    }
  }

  std::uint8_t* data() noexcept { return data_.data(); }
  const std::uint8_t* data() const noexcept { return data_.data(); }
  std::size_t size() const noexcept { return data_.size(); }
  bool empty() const noexcept { return data_.empty(); }
  std::uint8_t& operator[](std::size_t i) noexcept { return data_[i]; }
  std::uint8_t operator[](std::size_t i) const noexcept { return data_[i]; }
  byte_view view() const noexcept { return {data_.data(), data_.size()}; }
  std::span<std::uint8_t> span() noexcept { return {data_.data(), data_.size()}; }
  auto begin() noexcept { return data_.begin(); }
  auto end() noexcept { return data_.end(); }
  auto begin() const noexcept { return data_.begin(); }
  auto end() const noexcept { return data_.end(); }

 private:
  std::vector<std::uint8_t> data_;
};

/// Constant-time comparison (for MACs and cryptograms).
bool equal_ct(byte_view a, byte_view b) noexcept;

/// Uppercase hex.
std::string to_hex(byte_view b);
/// Bytes of hex text (either case); bad_input on odd length or a non-hex character.
outcome<bytes> from_hex(std::string_view hex);
/// As from_hex, into wiped memory (for keys and PIN blocks typed by people).
outcome<secure_bytes> secure_from_hex(std::string_view hex);

}  // namespace eft::crypto
