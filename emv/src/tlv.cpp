#include "eft/emv/tlv.hpp"

#include <algorithm>
#include <array>

namespace eft::emv {

namespace {

// Recursion is bounded by the depth limit; a caller asking for more than this gets this.
constexpr std::size_t hard_max_depth = 64;

constexpr bool is_padding(std::uint8_t b) noexcept {
  return b == 0x00 || b == 0xFF;
}

class parser {
 public:
  parser(byte_view data, std::vector<tlv_object>& objects, const parse_options& options) noexcept
      : data_(data),
        objects_(objects),
        max_depth_(std::min(options.max_depth, hard_max_depth)),
        max_objects_(options.max_objects) {}

  // Parses the objects in [begin, end) at `depth`, linking them under `parent` (-1: top level).
  status parse_range(std::size_t begin, std::size_t end, std::size_t depth, std::int32_t parent) {
    std::size_t pos = begin;
    std::int32_t previous = -1;
    while (pos < end) {
      const std::uint8_t first = data_[pos];
      if (is_padding(first)) {  // Book 3 B1: filler between objects
        ++pos;
        continue;
      }
      const std::size_t start = pos;

      // Tag (Book 3 B1): bits 5-1 all set means subsequent bytes, bit 8 set means one more.
      tag_t tag = first;
      ++pos;
      if ((first & 0x1FU) == 0x1FU) {
        std::size_t n = 1;
        for (;;) {
          if (pos >= end) return status::failure(errc::truncated, u32(start), 0);
          const std::uint8_t next = data_[pos++];
          tag = (tag << 8) | next;
          ++n;
          if ((next & 0x80U) == 0) break;
          if (n == 3) return status::failure(errc::tag_too_long, u32(start), 0);
        }
      }

      // Length (Book 3 B2): short form, or 0x81-0x83 and that many bytes.
      if (pos >= end) return status::failure(errc::truncated, u32(pos), tag, 1, 0);
      const std::size_t length_at = pos;
      const std::uint8_t l = data_[pos++];
      std::size_t length = l;
      if (l == 0x80) return status::failure(errc::indefinite_length, u32(length_at), tag);
      if (l > 0x80) {
        const std::size_t k = l & 0x7FU;
        if (k > 3) return status::failure(errc::length_too_long, u32(length_at), tag, u32(k), 3);
        if (end - pos < k) return status::failure(errc::truncated, u32(length_at), tag, u32(k), u32(end - pos));
        length = 0;
        for (std::size_t i = 0; i < k; ++i) length = (length << 8) | data_[pos++];
      }
      if (length > end - pos) {
        return status::failure(errc::value_overrun, u32(length_at), tag, u32(length), u32(end - pos));
      }
      if (objects_.size() >= max_objects_) {
        return status::failure(errc::too_many_objects, u32(start), tag, 0, u32(max_objects_));
      }

      tlv_object o;
      o.tag = tag;
      o.offset = u32(start);
      o.header_size = static_cast<std::uint8_t>(pos - start);
      o.depth = static_cast<std::uint8_t>(depth);
      o.constructed = (first & 0x20U) != 0;
      o.value = data_.subspan(pos, length);
      o.parent = parent;
      const auto index = static_cast<std::int32_t>(objects_.size());
      objects_.push_back(o);
      if (previous >= 0) {
        objects_[static_cast<std::size_t>(previous)].next_sibling = index;
      } else if (parent >= 0) {
        objects_[static_cast<std::size_t>(parent)].first_child = index;
      }
      previous = index;

      if (o.constructed && length > 0) {
        if (depth + 1 > max_depth_) {
          return status::failure(errc::too_deep, u32(start), tag, u32(depth + 1), u32(max_depth_));
        }
        if (auto st = parse_range(pos, pos + length, depth + 1, index); !st) return st;
      }
      pos += length;
    }
    return {};
  }

 private:
  static std::uint32_t u32(std::size_t v) noexcept { return static_cast<std::uint32_t>(v); }

  byte_view data_;
  std::vector<tlv_object>& objects_;
  std::size_t max_depth_;
  std::size_t max_objects_;
};

// Depth is bounded by the parse that made the tree.
void build_object(const tlv_tree& tree, const tlv_object& o, tlv_builder& b) {
  if (!o.constructed) {
    b.add(o.tag, o.value);
    return;
  }
  b.open(o.tag);
  tree.for_each_child(o, [&](const tlv_object& child) { build_object(tree, child, b); });
  b.close();
}

}  // namespace

bool is_valid_tag(tag_t tag) noexcept {
  const std::size_t n = tag_size(tag);
  if (n > 3) return false;
  std::array<std::uint8_t, 3> b{};
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(tag >> (8 * (n - 1 - i)));
  if (is_padding(b[0])) return false;
  if (n == 1) return (b[0] & 0x1FU) != 0x1FU;
  if ((b[0] & 0x1FU) != 0x1FU) return false;
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if ((b[i] & 0x80U) == 0) return false;
  }
  return (b[n - 1] & 0x80U) == 0;
}

std::string tag_hex(tag_t tag) {
  static constexpr char digits[] = "0123456789ABCDEF";
  const std::size_t n = tag_size(tag);
  std::string s(2 * n, '0');
  for (std::size_t i = 0; i < 2 * n; ++i) s[i] = digits[(tag >> (4 * (2 * n - 1 - i))) & 0xFU];
  return s;
}

std::optional<tag_t> parse_tag_hex(std::string_view text) noexcept {
  if (text.size() != 2 && text.size() != 4 && text.size() != 6) return std::nullopt;
  tag_t tag = 0;
  for (char c : text) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (v < 0) return std::nullopt;
    tag = (tag << 4) | static_cast<tag_t>(v);
  }
  // "009F" would parse to a 1-byte number: the text must have the tag's own size.
  if (tag_size(tag) * 2 != text.size() || !is_valid_tag(tag)) return std::nullopt;
  return tag;
}

const tlv_object* tlv_tree::find(tag_t tag) const noexcept {
  for (const auto& o : objects_) {
    if (o.tag == tag) return &o;
  }
  return nullptr;
}

const tlv_object* tlv_tree::find_top(tag_t tag) const noexcept {
  for (const auto& o : objects_) {
    if (o.depth == 0 && o.tag == tag) return &o;
  }
  return nullptr;
}

std::size_t tlv_tree::count(tag_t tag) const noexcept {
  return static_cast<std::size_t>(
      std::count_if(objects_.begin(), objects_.end(), [tag](const tlv_object& o) { return o.tag == tag; }));
}

std::optional<byte_view> tlv_tree::value(tag_t tag) const noexcept {
  if (const auto* o = find(tag)) return o->value;
  return std::nullopt;
}

status parse(byte_view data, tlv_tree& out, const parse_options& options) {
  out.clear();
  out.data_ = data;
  parser p(data, out.objects_, options);
  return p.parse_range(0, data.size(), 0, -1);
}

status append_tag(bytes& out, tag_t tag) {
  if (!is_valid_tag(tag)) {
    return status::failure(errc::bad_tag, tag, tag <= 0xFFFFFF ? "not a valid BER tag" : "more than 3 bytes");
  }
  for (std::size_t i = tag_size(tag); i > 0; --i) out.push_back(static_cast<std::uint8_t>(tag >> (8 * (i - 1))));
  return {};
}

status append_length(bytes& out, std::size_t length) {
  if (length > 0xFFFFFF) {
    return status::failure(errc::value_too_long, 0,
                           static_cast<std::uint32_t>(std::min<std::size_t>(length, 0xFFFFFFFF)), 0xFFFFFF);
  }
  if (length < 0x80) {
    out.push_back(static_cast<std::uint8_t>(length));
  } else if (length <= 0xFF) {
    out.insert(out.end(), {0x81, static_cast<std::uint8_t>(length)});
  } else if (length <= 0xFFFF) {
    out.insert(out.end(), {0x82, static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)});
  } else {
    out.insert(out.end(), {0x83, static_cast<std::uint8_t>(length >> 16), static_cast<std::uint8_t>(length >> 8),
                           static_cast<std::uint8_t>(length)});
  }
  return {};
}

status append_tlv(bytes& out, tag_t tag, byte_view value) {
  const std::size_t mark = out.size();
  status st = append_tag(out, tag);
  if (st) st = append_length(out, value.size());
  if (!st) {
    st.tag = tag;
    out.resize(mark);
    return st;
  }
  out.insert(out.end(), value.begin(), value.end());
  return {};
}

tlv_builder& tlv_builder::add(tag_t tag, byte_view value) {
  if (error_) error_ = append_tlv(out_, tag, value);
  return *this;
}

tlv_builder& tlv_builder::open(tag_t tag) {
  if (!error_) return *this;
  if (!is_constructed(tag)) {
    error_ = status::failure(errc::bad_tag, tag, "a template tag must be constructed (bit 6 of its first byte)");
    return *this;
  }
  error_ = append_tag(out_, tag);
  if (error_) open_.push_back(out_.size());
  return *this;
}

tlv_builder& tlv_builder::close() {
  if (!error_) return *this;
  if (open_.empty()) {
    error_ = status::failure(errc::bad_tag, 0, "close() without a template open");
    return *this;
  }
  const std::size_t start = open_.back();
  open_.pop_back();
  bytes length;
  error_ = append_length(length, out_.size() - start);
  if (error_) out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(start), length.begin(), length.end());
  return *this;
}

status tlv_builder::finish() const {
  if (error_ && !open_.empty()) return status::failure(errc::bad_tag, 0, "a template is still open");
  return error_;
}

status build(const tlv_tree& tree, bytes& out) {
  tlv_builder b(out);
  tree.for_each_top([&](const tlv_object& o) { build_object(tree, o, b); });
  return b.finish();
}

}  // namespace eft::emv
