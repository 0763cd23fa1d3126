#pragma once
/// BER-TLV as EMV uses it (EMV Book 3 annex B, ISO/IEC 8825-1 subset): parse into a flat tree of
/// views into the input, and build.
///
/// Parsing rules (the robustness contract; every case is tested and fuzzed):
/// - tags are 1 to 3 bytes: a first byte whose bits 5-1 are all set is followed by subsequent bytes,
///   each with bit 8 set while another one follows (Book 3 B1); a tag that runs off the end of the
///   data is `truncated`, a fourth tag byte is `tag_too_long`;
/// - lengths are short (0x00-0x7F) or long with 1, 2 or 3 subsequent bytes (0x81, 0x82, 0x83; Book 3
///   B2); 0x80 (indefinite) is `indefinite_length`, 0x84 and above `length_too_long`; a length
///   larger than what is left of the data or of the enclosing template is `value_overrun`;
///   non-minimal long forms (0x81 0x05) are accepted;
/// - zero-length values are accepted, for primitive and constructed objects alike;
/// - constructed objects (bit 6 of the first tag byte: 70, 77, 71, 72, A5, BF0C, ...) are parsed
///   into their children, to any depth up to `parse_options::max_depth` (`too_deep` beyond);
/// - bytes 0x00 and 0xFF before, between and after objects, at any level, are padding and skipped
///   (Book 3 B1: "'00' bytes ... may occur"; 0xFF as erased memory, ISO/IEC 7816-4 5.2.2.1);
/// - unknown tags and repeated tags are kept, in input order.
/// Parsing never reads outside the input, always advances, recurses at most max_depth levels and
/// stores at most max_objects objects (each object takes at least 2 input bytes, so storage is
/// bounded by the input size as well). The first problem is returned with its offset and reason: the
/// offset of a tag's first byte for tag errors, of the length field for length errors (or of where
/// it should be, when the data ends before it).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eft/emv/error.hpp"

namespace eft::emv {

using byte_view = std::span<const std::uint8_t>;
using bytes = std::vector<std::uint8_t>;

/// A tag as the number of its bytes read big-endian: 0x9F26, 0x5A, 0xDF8101.
using tag_t = std::uint32_t;

/// Number of bytes of a tag number (1-3; 4 for numbers above 0xFFFFFF, which are never valid here).
constexpr std::size_t tag_size(tag_t tag) noexcept {
  return tag > 0xFFFFFF ? 4 : tag > 0xFFFF ? 3 : tag > 0xFF ? 2 : 1;
}
/// True when the tag's first byte marks a constructed object (bit 6, Book 3 B1).
constexpr bool is_constructed(tag_t tag) noexcept {
  return ((tag >> (8 * (tag_size(tag) - 1))) & 0x20U) != 0;
}
/// True when `tag` is a validly encoded 1-3 byte BER tag: a first byte other than 0x00/0xFF, bits
/// 5-1 all set exactly when subsequent bytes follow, bit 8 set on every subsequent byte but the last.
bool is_valid_tag(tag_t tag) noexcept;

/// Uppercase hex of a tag ("9F26").
std::string tag_hex(tag_t tag);
/// A tag from hex text ("9f26", "5A"); nothing when the text is not 2, 4 or 6 hex digits or not a
/// valid tag.
std::optional<tag_t> parse_tag_hex(std::string_view text) noexcept;

/// One data object of a parsed tree. `value` views the input: the input must outlive it.
struct tlv_object {
  tag_t tag = 0;
  std::uint32_t offset = 0;      ///< offset of the tag's first byte in the parsed input
  std::uint8_t header_size = 0;  ///< tag and length bytes
  std::uint8_t depth = 0;        ///< 0 for top-level objects
  bool constructed = false;
  byte_view value;                 ///< the value field (for a constructed object: its children's bytes)
  std::int32_t parent = -1;        ///< index of the enclosing object, -1 at the top level
  std::int32_t first_child = -1;   ///< index of the first child, -1 when none
  std::int32_t next_sibling = -1;  ///< index of the next object at the same level, -1 when last
};

/// Limits of a parse.
struct parse_options {
  std::size_t max_depth = 16;      ///< constructed levels allowed below the top level
  std::size_t max_objects = 4096;  ///< data objects stored at most (field 55 holds at most ~500)
};

class tlv_tree;

/// Parses BER-TLV data (all of it) into `out`, which is cleared first. See the rules at the top of
/// this file. On error `out` holds the objects read before the problem and must not be used.
status parse(byte_view data, tlv_tree& out, const parse_options& options = {});

/// A parsed BER-TLV buffer: all objects in input order (a parent before its children), with links.
/// Reusable: clear() keeps the capacity, so parsing message after message allocates nothing once it
/// has grown.
class tlv_tree {
 public:
  void clear() noexcept {
    objects_.clear();
    data_ = {};
  }
  /// The parsed input.
  byte_view data() const noexcept { return data_; }
  std::size_t size() const noexcept { return objects_.size(); }
  bool empty() const noexcept { return objects_.empty(); }
  const tlv_object& operator[](std::size_t i) const noexcept { return objects_[i]; }
  auto begin() const noexcept { return objects_.begin(); }
  auto end() const noexcept { return objects_.end(); }

  /// The first object with this tag at any depth, in input order; nullptr when absent.
  const tlv_object* find(tag_t tag) const noexcept;
  /// The first top-level object with this tag; nullptr when absent.
  const tlv_object* find_top(tag_t tag) const noexcept;
  /// How many objects carry this tag, at any depth.
  std::size_t count(tag_t tag) const noexcept;
  /// The value of find(tag).
  std::optional<byte_view> value(tag_t tag) const noexcept;

  /// Calls f(object) for each top-level object in order.
  template <typename F>
  void for_each_top(F&& f) const {
    for (std::int32_t i = objects_.empty() ? -1 : 0; i >= 0; i = objects_[static_cast<std::size_t>(i)].next_sibling) {
      f(objects_[static_cast<std::size_t>(i)]);
    }
  }
  /// Calls f(child) for each child of a constructed object in order.
  template <typename F>
  void for_each_child(const tlv_object& parent, F&& f) const {
    for (std::int32_t i = parent.first_child; i >= 0; i = objects_[static_cast<std::size_t>(i)].next_sibling) {
      f(objects_[static_cast<std::size_t>(i)]);
    }
  }

 private:
  friend status parse(byte_view data, tlv_tree& out, const parse_options& options);
  std::vector<tlv_object> objects_;
  byte_view data_;
};

/// Appends the tag's bytes. The tag must be valid (is_valid_tag); bad_tag otherwise.
status append_tag(bytes& out, tag_t tag);
/// Appends a definite length in its shortest form (Book 3 B2): 1 byte below 128, else 0x81/0x82/0x83
/// and 1-3 bytes. value_too_long above 0xFFFFFF.
status append_length(bytes& out, std::size_t length);
/// Appends one data object (tag, length, value). For a constructed tag `value` is its children's
/// encoded bytes.
status append_tlv(bytes& out, tag_t tag, byte_view value);

/// Builds BER-TLV into a buffer, with constructed templates opened and closed around their children:
///   tlv_builder b(out); b.add(0x9F26, arqc); b.open(0x71); b.add(0x86, cmd); b.close(); b.finish();
/// The first error sticks: later calls do nothing and finish() returns it.
class tlv_builder {
 public:
  explicit tlv_builder(bytes& out) noexcept : out_(out) {}
  /// Adds a primitive object (or a constructed one given its children's bytes).
  tlv_builder& add(tag_t tag, byte_view value);
  /// Opens a constructed template; objects added until close() become its children.
  tlv_builder& open(tag_t tag);
  /// Closes the innermost open template (its length is written then).
  tlv_builder& close();
  /// The outcome: the first error, or an error when a template is still open.
  status finish() const;

 private:
  bytes& out_;
  std::vector<std::size_t> open_;  // offsets where each open template's content starts
  status error_;
};

/// Re-encodes a parsed tree: the same objects in the same order, lengths in their shortest form,
/// padding dropped, constructed values rebuilt from their children. Appends to `out`.
status build(const tlv_tree& tree, bytes& out);

}  // namespace eft::emv
