#pragma once
/// The message model: MTI and fields 2-192, with subfields to any depth addressed by path.
///
/// Values are held decoded: text and numeric fields as their ASCII characters (leading zeros kept),
/// binary fields as raw bytes. All values and the subfield tree live in two buffers owned by the
/// message, so unpacking a message allocates nothing per field, and a message reused with clear()
/// allocates nothing at all once its buffers have grown.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eft/iso8583/error.hpp"
#include "eft/iso8583/spec.hpp"

namespace eft::iso8583 {

namespace detail {
struct message_access;
}

class message {
 public:
  /// One field or subfield.
  struct node {
    std::uint32_t number = 0;        ///< field or subfield number (0 for tagged subfields)
    std::uint32_t value_offset = 0;  ///< value bytes in the message's buffer
    std::uint32_t value_size = 0;
    std::int32_t first_child = -1;     ///< first subfield, -1 when none
    std::int32_t next_sibling = -1;    ///< next subfield of the same parent, -1 when last
    const field_spec* spec = nullptr;  ///< layout (nullptr for tagged subfields)
    std::array<char, 8> tag{};         ///< tag of a tagged subfield
    std::uint8_t tag_size = 0;

    std::string_view tag_view() const noexcept { return {tag.data(), tag_size}; }
  };

  /// A message of the given dialect. The spec must outlive the message.
  explicit message(const spec& dialect) noexcept;
  /// Wipes the field values; the buffers go to a small cache of this thread's, for its next message.
  ~message();
  message(const message&) = default;
  message(message&&) noexcept = default;
  message& operator=(const message&) = default;
  message& operator=(message&&) noexcept = default;
  /// Messages made with new (std::make_unique) reuse the memory of those deleted before them, on
  /// this thread or, through a shared depot, on another.
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

  const spec& dialect() const noexcept { return *spec_; }

  /// Removes the MTI and every field (their values wiped), keeping the buffers' capacity.
  void clear() noexcept;

  /// The message type indicator ("0200"); empty when unset (see set_mti() for longer values).
  std::string_view mti() const noexcept { return {mti_.data(), mti_size_}; }
  /// Sets the MTI; it is checked (4 digits) when the message is packed. A longer value is not cut to
  /// 4 characters: mti() shows it too long and pack refuses it.
  void set_mti(std::string_view mti) noexcept;

  /// True when field n (2-192) is present.
  bool has(std::uint32_t field) const noexcept {
    return field < top_.size() && ((present_[field / 64] >> (field % 64)) & 1U) != 0;
  }
  /// True when the field or subfield at path ("127.2", "48.AB") is present.
  bool has(std::string_view path) const noexcept { return find(path) >= 0; }

  /// The value of field n, or nothing when absent. A composite field built from subfields with
  /// set(path, ...) has an empty value: read its subfields.
  std::optional<std::string_view> get(std::uint32_t field) const noexcept;
  /// The value at path ("2", "127.2", "90.1", "48.AB"), or nothing when absent.
  std::optional<std::string_view> get(std::string_view path) const noexcept;

  /// Sets field n. Fails with unknown_field when the spec does not define it. Content is checked
  /// against the spec when the message is packed. Setting a field drops its subfields.
  status set(std::uint32_t field, std::string_view value);
  /// Sets the field or subfield at path, creating the composite parents on the way.
  status set(std::string_view path, std::string_view value);

  /// Removes field n.
  void unset(std::uint32_t field) noexcept;
  /// Removes the field or subfield at path; false when it was absent.
  bool unset(std::string_view path) noexcept;

  /// Calls f(number, node) for each present field in ascending order.
  template <typename F>
  void for_each_field(F&& f) const {
    for (std::size_t w = 0; w < present_.size(); ++w) {
      std::uint64_t bits = present_[w];
      while (bits != 0) {
        const auto bit = static_cast<std::uint32_t>(__builtin_ctzll(bits));
        bits &= bits - 1;
        const std::uint32_t n = static_cast<std::uint32_t>(w) * 64 + bit;
        f(n, nodes_[static_cast<std::size_t>(top_[n])]);
      }
    }
  }
  /// Calls f(node) for each subfield of a node in order.
  template <typename F>
  void for_each_child(const node& parent, F&& f) const {
    for (std::int32_t i = parent.first_child; i >= 0; i = nodes_[static_cast<std::size_t>(i)].next_sibling) {
      f(nodes_[static_cast<std::size_t>(i)]);
    }
  }
  /// The value bytes of a node.
  std::string_view value(const node& n) const noexcept { return {arena_.data() + n.value_offset, n.value_size}; }
  /// The node of field n, or nullptr.
  const node* field_node(std::uint32_t field) const noexcept {
    return has(field) ? &nodes_[static_cast<std::size_t>(top_[field])] : nullptr;
  }
  /// Number of fields present (2-192).
  std::size_t field_count() const noexcept;

 private:
  friend struct detail::message_access;

  std::int32_t find(std::string_view path) const noexcept;
  std::int32_t add_node(std::uint32_t number, const field_spec* s, std::string_view value);
  void set_top(std::uint32_t field, std::int32_t index) noexcept;
  std::uint32_t store(std::string_view value);
  // Gives an empty message at least this room, from this thread's spare buffers when it has some.
  void make_room(std::size_t nodes, std::size_t arena);

  const spec* spec_;
  std::array<char, 5> mti_{};  // one more than an MTI: see set_mti()
  std::uint8_t mti_size_ = 0;
  std::array<std::uint64_t, 4> present_{};  // bit n: field n present
  std::array<std::int32_t, 193> top_{};     // field number -> node index, valid when present
  std::vector<node> nodes_;
  std::string arena_;
};

}  // namespace eft::iso8583
