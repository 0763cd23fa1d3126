#include "eft/iso8583/codec.hpp"

#include <cstring>

#include "internal.hpp"

namespace eft::iso8583 {

namespace {

using detail::message_access;

// ---------------------------------------------------------------------------------------------
// Character classes as a table: one bit per class, so validating a value is one load per byte.

constexpr std::uint8_t class_bit(field_class c) noexcept {
  return static_cast<std::uint8_t>(1U << static_cast<unsigned>(c));
}

constexpr std::array<std::uint8_t, 256> make_class_table() {
  std::array<std::uint8_t, 256> t{};
  for (unsigned c = 0; c < 256; ++c) {
    std::uint8_t bits = 0;
    for (auto cls : {field_class::n, field_class::a, field_class::an, field_class::ans, field_class::z, field_class::xn,
                     field_class::b}) {
      if (detail::char_allowed(cls, static_cast<unsigned char>(c))) bits |= class_bit(cls);
    }
    t[c] = bits;
  }
  return t;
}
constexpr auto class_table = make_class_table();

// Each BCD byte as its two ASCII digits, {0, 0} when a nibble is above 9.
constexpr std::array<std::array<char, 2>, 256> make_bcd_pairs() {
  std::array<std::array<char, 2>, 256> t{};
  for (unsigned b = 0; b < 256; ++b) {
    const unsigned hi = b >> 4;
    const unsigned lo = b & 0x0F;
    if (hi <= 9 && lo <= 9) t[b] = {static_cast<char>('0' + hi), static_cast<char>('0' + lo)};
  }
  return t;
}
constexpr auto bcd_pairs = make_bcd_pairs();

// Index of the first character not allowed by the class, or npos.
std::size_t first_invalid(field_class cls, const char* p, std::size_t n) noexcept {
  if (cls == field_class::b) return std::string_view::npos;
  std::size_t i = 0;
  if (cls == field_class::xn) {
    if (n == 0 || (p[0] != 'C' && p[0] != 'D')) return 0;
    i = 1;
  }
  const std::uint8_t bit = class_bit(cls);
  for (; i < n; ++i) {
    if ((class_table[static_cast<unsigned char>(p[i])] & bit) == 0) return i;
  }
  return std::string_view::npos;
}

// Bytes on the wire for a value of `units` units.
std::size_t wire_size(const field_spec& f, std::size_t units) noexcept {
  const std::size_t sign = f.cls == field_class::xn ? 1 : 0;
  switch (f.encoding) {
    case data_encoding::bcd:
      return sign + (units + 1) / 2;
    case data_encoding::hex:
      return 2 * units;
    default:
      return sign + units;
  }
}

// Bytes a length prefix takes.
std::size_t prefix_size(const field_spec& f) noexcept {
  switch (f.prefix) {
    case prefix_encoding::bcd:
      return (f.prefix_digits + 1U) / 2U;
    case prefix_encoding::binary:
      return f.prefix_bytes;
    default:
      return f.prefix_digits;
  }
}

constexpr std::uint32_t pow10(unsigned digits) noexcept {
  std::uint32_t v = 1;
  for (unsigned i = 0; i < digits; ++i) v *= 10;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Unpack

// A byte range to decode from: the caller's input, or a value already decoded into the message's
// buffer (a composite field's content). Pointers into the buffer are fetched again after every
// append, because appending may move it.
struct source {
  const std::string* arena = nullptr;
  const std::uint8_t* input = nullptr;
  std::size_t base = 0;
  std::size_t size = 0;
  std::uint32_t report_base = 0;  // message offset reported for position 0

  const std::uint8_t* data() const noexcept {
    return arena != nullptr ? reinterpret_cast<const std::uint8_t*>(arena->data()) + base : input + base;
  }
};

struct unpacker {
  message& msg;
  field_path path;            // the enclosing field's path, or a name ("MTI")
  std::uint32_t current = 0;  // number of the field being decoded under `path` (0: none)

  // The full path of the field being decoded; built only when needed (errors, composites).
  field_path where() const noexcept {
    field_path p = path;
    if (current != 0) p.push(current);
    return p;
  }

  // The first error, kept here so that the per-field functions return a plain bool: returning a
  // status by value from every field costs more than decoding most fields.
  status error;

  bool fail(errc code, std::uint32_t offset, std::uint32_t got = 0, std::uint32_t limit = 0) {
    error.code = code;
    error.offset = offset;
    error.field = where();
    error.got = got;
    error.limit = limit;
    return false;
  }
  status fail_status(errc code, std::uint32_t offset, std::uint32_t got = 0, std::uint32_t limit = 0) {
    fail(code, offset, got, limit);
    return error;
  }

  bool read_prefix(const field_spec& f, const source& src, std::size_t& pos, std::size_t& len) {
    const std::size_t n = prefix_size(f);
    const auto at = static_cast<std::uint32_t>(src.report_base + pos);
    if (src.size - pos < n)
      return fail(errc::truncated, at, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(src.size - pos));
    const std::uint8_t* p = src.data() + pos;
    std::size_t value = 0;
    switch (f.prefix) {
      case prefix_encoding::ascii:
      case prefix_encoding::ebcdic: {
        const std::uint8_t zero = f.prefix == prefix_encoding::ascii ? 0x30 : 0xF0;
        for (std::size_t i = 0; i < n; ++i) {
          const auto d = static_cast<unsigned>(p[i] - zero);
          if (d > 9) return fail(errc::bad_length_prefix, at);
          value = value * 10 + d;
        }
        break;
      }
      case prefix_encoding::bcd:
        for (std::size_t i = 0; i < n; ++i) {
          const unsigned hi = p[i] >> 4;
          const unsigned lo = p[i] & 0x0F;
          if (hi > 9 || lo > 9) return fail(errc::bad_length_prefix, at);
          value = value * 100 + std::size_t{hi} * 10 + lo;
        }
        if (value >= pow10(f.prefix_digits)) return fail(errc::bad_length_prefix, at);
        break;
      case prefix_encoding::binary:
        for (std::size_t i = 0; i < n; ++i) value = (value << 8) | p[i];
        break;
    }
    pos += n;
    len = value;
    return true;
  }

  // Decodes one field at src[pos..]; its decoded value is appended to the message's buffer.
  bool decode(const field_spec& f, const source& src, std::size_t& pos, std::uint32_t& value_offset,
              std::uint32_t& value_size) {
    const std::size_t field_start = pos;
    std::size_t units = f.length;
    std::size_t wire = 0;
    bool odd_from_pad = false;  // BCD counted in bytes: an odd digit count shows as an F pad nibble
    if (!f.fixed()) {
      std::size_t len = 0;
      if (!read_prefix(f, src, pos, len)) return false;
      if (f.unit == length_unit::units) {
        if (len > f.length)
          return fail(errc::length_over_max, static_cast<std::uint32_t>(src.report_base + field_start),
                      static_cast<std::uint32_t>(len), f.length);
        units = len;
        wire = wire_size(f, units);
      } else {
        if (len > wire_size(f, f.length)) {
          return fail(errc::length_over_max, static_cast<std::uint32_t>(src.report_base + field_start),
                      static_cast<std::uint32_t>(len), static_cast<std::uint32_t>(wire_size(f, f.length)));
        }
        wire = len;
        const std::size_t sign = f.cls == field_class::xn ? 1 : 0;
        if (wire < sign)
          return fail(errc::bad_length_prefix, static_cast<std::uint32_t>(src.report_base + field_start));
        if (f.encoding == data_encoding::bcd) {
          units = 2 * (wire - sign);
          odd_from_pad = true;
        } else if (f.encoding == data_encoding::hex) {
          if (wire % 2 != 0)
            return fail(errc::bad_length_prefix, static_cast<std::uint32_t>(src.report_base + field_start));
          units = wire / 2;
        } else {
          units = wire - sign;
        }
      }
    } else {
      wire = wire_size(f, units);
    }
    const auto data_at = static_cast<std::uint32_t>(src.report_base + pos);
    if (src.size - pos < wire) {
      return fail(errc::truncated, data_at, static_cast<std::uint32_t>(wire),
                  static_cast<std::uint32_t>(src.size - pos));
    }

    std::string& arena = message_access::arena(msg);
    const std::size_t out_at = arena.size();
    const std::size_t sign = f.cls == field_class::xn ? 1 : 0;
    const std::size_t out_size =
        f.encoding == data_encoding::bcd || f.encoding == data_encoding::hex ? units + sign : wire;
    arena.resize(out_at + out_size);
    const std::uint8_t* in = src.data() + pos;
    char* out = arena.data() + out_at;
    std::size_t produced = out_size;

    switch (f.encoding) {
      case data_encoding::ascii:
      case data_encoding::binary:
        std::memcpy(out, in, wire);
        break;
      case data_encoding::ebcdic: {
        const auto& table = detail::ebcdic(f.ebcdic_codepage).to_ascii;
        for (std::size_t i = 0; i < wire; ++i) {
          const std::uint8_t c = table[in[i]];
          if (c == 0 && f.cls != field_class::b) {
            arena.resize(out_at);
            return fail(errc::invalid_character, data_at, static_cast<std::uint32_t>(i));
          }
          out[i] = f.cls == field_class::b ? static_cast<char>(in[i]) : static_cast<char>(c);
        }
        break;
      }
      case data_encoding::hex:
        for (std::size_t i = 0; i < units; ++i) {
          const int hi = detail::hex_value(static_cast<char>(in[2 * i]));
          const int lo = detail::hex_value(static_cast<char>(in[2 * i + 1]));
          if (hi < 0 || lo < 0) {
            arena.resize(out_at);
            return fail(errc::invalid_character, data_at, static_cast<std::uint32_t>(2 * i));
          }
          out[i] = static_cast<char>((hi << 4) | lo);
        }
        break;
      case data_encoding::bcd: {
        std::size_t o = 0;
        if (sign != 0) out[o++] = static_cast<char>(in[0]);
        const std::uint8_t* digits = in + sign;
        const std::size_t nibbles = 2 * (wire - sign);
        std::size_t first = 0;
        std::size_t last = nibbles;  // exclusive
        if (odd_from_pad) {
          // Counted in bytes: a pad nibble equal to the configured one marks an odd digit count.
          if (nibbles > 0 && f.pad_nibble > 9) {
            const unsigned lead = digits[0] >> 4;
            const unsigned tail = digits[wire - sign - 1] & 0x0F;
            if (f.bcd_left_justified && tail == f.pad_nibble) last = nibbles - 1;
            if (!f.bcd_left_justified && lead == f.pad_nibble) first = 1;
          }
          units = last - first;
          produced = units + sign;
        } else if (units % 2 != 0) {
          if (f.bcd_left_justified) {
            last = nibbles - 1;
          } else {
            first = 1;
          }
        }
        std::size_t i = first;
        if (i % 2 != 0 && i < last) {
          const unsigned v = digits[i / 2] & 0x0F;
          if (v <= 9) {
            out[o++] = static_cast<char>('0' + v);
            ++i;
          }
        }
        // Whole bytes two digits at a time; anything else (a separator, a bad nibble) goes nibble
        // by nibble below.
        for (; i + 1 < last; i += 2) {
          const auto& pair = bcd_pairs[digits[i / 2]];
          if (pair[0] == 0) break;
          std::memcpy(out + o, pair.data(), 2);
          o += 2;
        }
        for (; i < last; ++i) {
          const unsigned v = (i % 2 == 0) ? digits[i / 2] >> 4 : digits[i / 2] & 0x0F;
          if (v <= 9) {
            out[o++] = static_cast<char>('0' + v);
          } else if (v == 0xD && f.cls == field_class::z) {
            out[o++] = '=';
          } else {
            arena.resize(out_at);
            return fail(errc::bad_bcd_nibble, data_at, static_cast<std::uint32_t>(i - first));
          }
        }
        break;
      }
    }
    if (produced != out_size) arena.resize(out_at + produced);
    // BCD and hex decoding only produce digits (and '=' for z) or bytes: nothing left to check.
    const bool checked =
        (f.encoding == data_encoding::bcd && f.cls != field_class::xn) || f.encoding == data_encoding::hex;
    if (!checked && (f.composite == composite_kind::none || f.composite == composite_kind::tlv)) {
      if (const std::size_t bad = first_invalid(f.cls, arena.data() + out_at, produced);
          bad != std::string_view::npos) {
        arena.resize(out_at);
        return fail(errc::invalid_character, data_at, static_cast<std::uint32_t>(bad));
      }
    }
    if (f.unit == length_unit::bytes && !f.fixed() && units > f.length) {
      arena.resize(out_at);
      return fail(errc::length_over_max, static_cast<std::uint32_t>(src.report_base + field_start),
                  static_cast<std::uint32_t>(units), f.length);
    }
    pos += wire;
    value_offset = static_cast<std::uint32_t>(out_at);
    value_size = static_cast<std::uint32_t>(produced);
    return true;
  }

  // Decodes a field and, for composites, its subfields; returns the node index in `index`.
  bool decode_node(const field_spec& f, std::uint32_t number, const source& src, std::size_t& pos, std::int32_t& index,
                   int depth) {
    const auto field_at = static_cast<std::uint32_t>(src.report_base + pos);
    std::uint32_t off = 0;
    std::uint32_t size = 0;
    if (!decode(f, src, pos, off, size)) return false;
    index = message_access::add_node(msg, number, &f, off, size);
    if (f.composite == composite_kind::none || f.composite == composite_kind::tlv) return true;
    source inner;
    inner.arena = &message_access::arena(msg);
    inner.base = off;
    inner.size = size;
    inner.report_base = field_at + static_cast<std::uint32_t>(f.fixed() ? 0 : prefix_size(f));  // after the prefix
    return decode_children(f, inner, index, depth + 1);
  }

  bool decode_children(const field_spec& f, const source& src, std::int32_t parent, int depth) {
    if (depth > 4) return fail(errc::undefined_field, src.report_base);
    std::size_t pos = 0;
    std::int32_t last = -1;
    const auto link = [&](std::int32_t child) {
      auto& nodes = message_access::nodes(msg);
      if (last < 0) {
        nodes[static_cast<std::size_t>(parent)].first_child = child;
      } else {
        nodes[static_cast<std::size_t>(last)].next_sibling = child;
      }
      last = child;
    };
    const field_path saved = path;
    const std::uint32_t saved_current = current;
    const field_path parent_path = where();
    path = parent_path;
    current = 0;
    switch (f.composite) {
      case composite_kind::positional:
        for (std::uint32_t n = 1; n < f.subfields.size() && pos < src.size; ++n) {
          const field_spec* sf = f.subfield(n);
          if (sf == nullptr) continue;
          current = n;
          std::int32_t child = -1;
          if (!decode_node(*sf, n, src, pos, child, depth)) return false;
          link(child);
        }
        break;
      case composite_kind::bitmap: {
        current = 0;
        const std::size_t bitmap_size = f.subfield_bitmap == bitmap_encoding::hex ? 16 : 8;
        if (src.size < bitmap_size) {
          return fail(errc::truncated, src.report_base, static_cast<std::uint32_t>(bitmap_size),
                      static_cast<std::uint32_t>(src.size));
        }
        std::uint64_t bits = 0;
        if (!read_bitmap(src.data(), f.subfield_bitmap, bits)) return fail(errc::bad_bitmap, src.report_base);
        pos = bitmap_size;
        for (std::uint32_t n = 1; n <= 64; ++n) {
          if ((bits & (std::uint64_t{1} << (64 - n))) == 0) continue;
          current = n;
          const field_spec* sf = f.subfield(n);
          if (sf == nullptr) return fail(errc::undefined_field, src.report_base, n);
          std::int32_t child = -1;
          if (!decode_node(*sf, n, src, pos, child, depth)) return false;
          link(child);
        }
        break;
      }
      case composite_kind::tagged:
        while (pos < src.size) {
          path = parent_path;
          current = 0;
          const std::size_t head = std::size_t{f.tag_length} + f.tag_length_digits;
          const auto at = static_cast<std::uint32_t>(src.report_base + pos);
          if (src.size - pos < head) {
            return fail(errc::truncated, at, static_cast<std::uint32_t>(head),
                        static_cast<std::uint32_t>(src.size - pos));
          }
          const std::uint8_t* p = src.data() + pos;
          std::array<char, 8> tag{};
          for (std::size_t i = 0; i < f.tag_length; ++i) tag[i] = static_cast<char>(p[i]);
          // The tag goes into error paths only once it is known to be printable.
          if (first_invalid(field_class::ans, tag.data(), f.tag_length) != std::string_view::npos) {
            return fail(errc::invalid_character, at);
          }
          path.push(std::string_view(tag.data(), f.tag_length));
          std::size_t len = 0;
          for (std::size_t i = 0; i < f.tag_length_digits; ++i) {
            const auto d = static_cast<unsigned>(p[f.tag_length + i] - '0');
            if (d > 9) return fail(errc::bad_length_prefix, at);
            len = len * 10 + d;
          }
          if (src.size - pos - head < len) {
            return fail(errc::truncated, at, static_cast<std::uint32_t>(head + len),
                        static_cast<std::uint32_t>(src.size - pos));
          }
          if (first_invalid(field_class::ans, reinterpret_cast<const char*>(p + head), len) != std::string_view::npos) {
            return fail(errc::invalid_character, at);
          }
          std::string& arena = message_access::arena(msg);
          const auto off = static_cast<std::uint32_t>(arena.size());
          arena.resize(arena.size() + len);
          std::memcpy(arena.data() + off, src.data() + pos + head, len);
          const std::int32_t child = message_access::add_node(msg, 0, nullptr, off, static_cast<std::uint32_t>(len));
          auto& node = message_access::nodes(msg)[static_cast<std::size_t>(child)];
          node.tag = tag;
          node.tag_size = f.tag_length;
          link(child);
          pos += head + len;
        }
        break;
      default:
        break;
    }
    path = parent_path;
    current = 0;
    if (pos != src.size) {
      return fail(errc::trailing_bytes, static_cast<std::uint32_t>(src.report_base + pos),
                  static_cast<std::uint32_t>(src.size - pos));
    }
    path = saved;
    current = saved_current;
    return true;
  }

  static bool read_bitmap(const std::uint8_t* p, bitmap_encoding enc, std::uint64_t& bits) noexcept {
    bits = 0;
    if (enc == bitmap_encoding::binary) {
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
      return true;
    }
    for (int i = 0; i < 16; ++i) {
      const int v = detail::hex_value(static_cast<char>(p[i]));
      if (v < 0) return false;
      bits = (bits << 4) | static_cast<unsigned>(v);
    }
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// Pack

void put(std::vector<std::byte>& out, const void* p, std::size_t n) {
  const auto* b = static_cast<const std::byte*>(p);
  out.insert(out.end(), b, b + n);
}
void put(std::string& out, const void* p, std::size_t n) {
  out.append(static_cast<const char*>(p), n);
}
void put_byte(std::vector<std::byte>& out, std::uint8_t b) {
  out.push_back(static_cast<std::byte>(b));
}
void put_byte(std::string& out, std::uint8_t b) {
  out.push_back(static_cast<char>(b));
}

// Scratch buffers for composite content, one per nesting depth, reused across calls.
std::string& scratch(int depth) {
  thread_local std::array<std::string, 8> buffers;
  return buffers[static_cast<std::size_t>(depth)];
}

struct packer {
  const message& msg;
  field_path path;            // the enclosing field's path, or a name ("MTI")
  std::size_t base = 0;       // output size before this message, for offsets
  std::uint32_t current = 0;  // number of the field being encoded under `path` (0: none)
  std::size_t nested = 0;     // message offset of the composite content built in a scratch buffer

  // Message offset of the end of `out`: the message itself, or a composite's content in scratch.
  std::uint32_t offset_of(const std::vector<std::byte>& out) const noexcept {
    return static_cast<std::uint32_t>(out.size() - base);
  }
  std::uint32_t offset_of(const std::string& out) const noexcept {
    return static_cast<std::uint32_t>(nested + out.size());
  }

  field_path where() const noexcept {
    field_path p = path;
    if (current != 0) p.push(current);
    return p;
  }

  status error;  // the first error (see unpacker::error)

  template <typename Out>
  bool fail(errc code, const Out& out, std::uint32_t got = 0, std::uint32_t limit = 0) {
    error.code = code;
    error.offset = offset_of(out);
    error.field = where();
    error.got = got;
    error.limit = limit;
    return false;
  }
  template <typename Out>
  status fail_status(errc code, const Out& out) {
    fail(code, out);
    return error;
  }

  template <typename Out>
  void write_prefix(const field_spec& f, std::size_t len, Out& out) const {
    const std::size_t n = prefix_size(f);
    std::array<std::uint8_t, 8> buf{};
    switch (f.prefix) {
      case prefix_encoding::ascii:
      case prefix_encoding::ebcdic: {
        const std::uint8_t zero = f.prefix == prefix_encoding::ascii ? 0x30 : 0xF0;
        for (std::size_t i = n; i-- > 0;) {
          buf[i] = static_cast<std::uint8_t>(zero + len % 10);
          len /= 10;
        }
        break;
      }
      case prefix_encoding::bcd:
        for (std::size_t i = n; i-- > 0;) {
          const auto lo = static_cast<std::uint8_t>(len % 10);
          len /= 10;
          const auto hi = static_cast<std::uint8_t>(len % 10);
          len /= 10;
          buf[i] = static_cast<std::uint8_t>((hi << 4) | lo);
        }
        break;
      case prefix_encoding::binary:
        for (std::size_t i = n; i-- > 0;) {
          buf[i] = static_cast<std::uint8_t>(len & 0xFF);
          len >>= 8;
        }
        break;
    }
    put(out, buf.data(), n);
  }

  template <typename Out>
  bool encode(const field_spec& f, std::string_view value, Out& out, int depth) {
    const std::size_t sign = f.cls == field_class::xn ? 1 : 0;
    if (const std::size_t bad = first_invalid(f.cls, value.data(), value.size()); bad != std::string_view::npos) {
      return fail(errc::invalid_character, out, static_cast<std::uint32_t>(bad));
    }
    std::size_t units = value.size() - (value.size() >= sign ? sign : 0);
    if (units > f.length) return fail(errc::length_over_max, out, static_cast<std::uint32_t>(units), f.length);
    if (f.fixed() && units < f.length) {
      if (f.pad_side == 'N') return fail(errc::value_length, out, static_cast<std::uint32_t>(units), f.length);
      std::string& padded = scratch(depth + 1);
      padded.clear();
      if (f.pad_side == 'R') padded.append(value);
      if (sign != 0 && f.pad_side == 'L') padded.push_back(value[0]);
      padded.append(f.length - units, f.pad_char);
      if (f.pad_side == 'L') padded.append(value.substr(sign));
      value = padded;
      units = f.length;
      if (const std::size_t bad = first_invalid(f.cls, value.data(), value.size()); bad != std::string_view::npos) {
        return fail(errc::invalid_character, out, static_cast<std::uint32_t>(bad));
      }
    }
    const std::size_t wire = wire_size(f, units);
    if (!f.fixed()) {
      const std::size_t len = f.unit == length_unit::units ? units : wire;
      std::size_t max_len = pow10(f.prefix_digits) - 1;
      if (f.prefix == prefix_encoding::binary && f.prefix_bytes < 4) {
        const std::size_t binary_max = (std::size_t{1} << (8 * f.prefix_bytes)) - 1;  // e.g. 255 in one byte
        if (binary_max < max_len) max_len = binary_max;
      }
      if (len > max_len) {
        return fail(errc::length_over_max, out, static_cast<std::uint32_t>(len), static_cast<std::uint32_t>(max_len));
      }
      write_prefix(f, len, out);
    }
    switch (f.encoding) {
      case data_encoding::ascii:
      case data_encoding::binary:
        put(out, value.data(), value.size());
        break;
      case data_encoding::ebcdic: {
        if (f.cls == field_class::b) {
          put(out, value.data(), value.size());
          break;
        }
        const auto& table = detail::ebcdic(f.ebcdic_codepage).to_ebcdic;
        for (std::size_t i = 0; i < value.size(); ++i) {
          const std::uint8_t e = table[static_cast<unsigned char>(value[i])];
          if (e == 0) return fail(errc::invalid_character, out, static_cast<std::uint32_t>(i));
          put_byte(out, e);
        }
        break;
      }
      case data_encoding::hex:
        for (char c : value) {
          const auto b = static_cast<unsigned char>(c);
          put_byte(out, static_cast<std::uint8_t>(detail::hex_digits[b >> 4]));
          put_byte(out, static_cast<std::uint8_t>(detail::hex_digits[b & 0x0F]));
        }
        break;
      case data_encoding::bcd: {
        if (sign != 0) put_byte(out, static_cast<std::uint8_t>(value[0]));
        const std::string_view digits = value.substr(sign);
        const auto nibble = [&](char c) -> std::uint8_t {
          return c == '=' || c == 'D' ? 0x0D : static_cast<std::uint8_t>(c - '0');
        };
        std::size_t i = 0;
        if (digits.size() % 2 != 0 && !f.bcd_left_justified) {
          put_byte(out, static_cast<std::uint8_t>((f.pad_nibble << 4) | nibble(digits[0])));
          i = 1;
        }
        for (; i + 1 < digits.size(); i += 2) {
          put_byte(out, static_cast<std::uint8_t>((nibble(digits[i]) << 4) | nibble(digits[i + 1])));
        }
        if (i < digits.size()) put_byte(out, static_cast<std::uint8_t>((nibble(digits[i]) << 4) | f.pad_nibble));
        break;
      }
    }
    (void)wire;
    return true;
  }

  // Encodes a node: its subfields first (into a scratch buffer) when it has any.
  template <typename Out>
  bool encode_node(const message::node& node, Out& out, int depth) {
    const field_spec& f = *node.spec;
    if (node.first_child < 0 || f.composite == composite_kind::none || f.composite == composite_kind::tlv) {
      return encode(f, msg.value(node), out, depth);
    }
    if (depth >= 6) return fail(errc::unknown_field, out);
    std::string& inner = scratch(depth);
    inner.clear();
    const field_path saved = path;
    const std::uint32_t saved_current = current;
    const field_path parent_path = where();
    current = 0;
    const std::size_t saved_nested = nested;
    nested = offset_of(out) + (f.fixed() ? 0 : prefix_size(f));
    bool result = true;
    std::uint64_t bits = 0;
    std::uint32_t expected = 1;
    if (f.composite == composite_kind::bitmap) {
      msg.for_each_child(node, [&](const message::node& c) {
        if (c.number >= 1 && c.number <= 64) bits |= std::uint64_t{1} << (64 - c.number);
      });
      if (f.subfield_bitmap == bitmap_encoding::binary) {
        for (int i = 7; i >= 0; --i) inner.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
      } else {
        for (int i = 15; i >= 0; --i) inner.push_back(detail::hex_digits[(bits >> (4 * i)) & 0x0F]);
      }
    }
    msg.for_each_child(node, [&](const message::node& c) {
      if (!result) return;
      path = parent_path;
      current = 0;
      if (f.composite == composite_kind::tagged) {
        path.push(c.tag_view());
        const std::string_view v = msg.value(c);
        if (v.size() >= pow10(f.tag_length_digits)) {
          result =
              fail(errc::length_over_max, inner, static_cast<std::uint32_t>(v.size()), pow10(f.tag_length_digits) - 1);
          return;
        }
        if (const auto bad = first_invalid(field_class::ans, v.data(), v.size()); bad != std::string_view::npos) {
          result = fail(errc::invalid_character, inner, static_cast<std::uint32_t>(bad));
          return;
        }
        inner.append(c.tag_view());
        std::size_t len = v.size();
        std::array<char, 8> digits{};
        for (std::size_t i = f.tag_length_digits; i-- > 0;) {
          digits[i] = static_cast<char>('0' + len % 10);
          len /= 10;
        }
        inner.append(digits.data(), f.tag_length_digits);
        inner.append(v);
        return;
      }
      current = c.number;
      if (c.spec == nullptr) {
        result = fail(errc::unknown_field, inner);
        return;
      }
      if (f.composite == composite_kind::positional) {
        for (; expected < c.number; ++expected) {
          if (f.subfield(expected) != nullptr) {
            result = fail(errc::missing_subfield, inner, expected);
            return;
          }
        }
        expected = c.number + 1;
      }
      result = encode_node(c, inner, depth + 1);
    });
    path = saved;
    current = saved_current;
    nested = saved_nested;
    if (!result) return false;
    return encode(f, inner, out, depth);
  }
};

}  // namespace

status unpack(std::span<const std::byte> bytes, message& out) {
  out.clear();
  const spec& sp = out.dialect();
  message_access::make_room(out, 64, 2 * bytes.size() + 64);

  const auto* in = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const std::size_t size = bytes.size();
  std::size_t pos = 0;
  unpacker u{out, field_path("MTI"), 0, {}};

  // MTI
  {
    char mti[4];
    const std::size_t n = sp.mti_encoding == data_encoding::bcd ? 2 : 4;
    if (size < n)
      return u.fail_status(errc::truncated, 0, static_cast<std::uint32_t>(n), static_cast<std::uint32_t>(size));
    for (std::size_t i = 0; i < 4; ++i) {
      unsigned d = 0;
      switch (sp.mti_encoding) {
        case data_encoding::bcd:
          d = (i % 2 == 0) ? in[i / 2] >> 4 : in[i / 2] & 0x0F;
          break;
        case data_encoding::ebcdic:
          d = static_cast<unsigned>(in[i] - 0xF0);
          break;
        default:
          d = static_cast<unsigned>(in[i] - '0');
          break;
      }
      if (d > 9) return u.fail_status(errc::bad_mti, 0, static_cast<std::uint32_t>(i));
      mti[i] = static_cast<char>('0' + d);
    }
    message_access::set_mti_raw(out, mti);
    pos = n;
  }

  // Bitmaps
  u.path = field_path("bitmap");
  std::array<std::uint64_t, 3> bitmap{};
  const std::size_t bitmap_size = sp.bitmap == bitmap_encoding::hex ? 16 : 8;
  const auto bitmap_at = static_cast<std::uint32_t>(pos);
  for (std::size_t b = 0; b < 3; ++b) {
    if (b == 1 && (bitmap[0] >> 63) == 0) break;
    if (b == 2 && (!sp.tertiary_bitmap || (bitmap[1] >> 63) == 0)) break;
    if (size - pos < bitmap_size) {
      return u.fail_status(errc::truncated, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(bitmap_size),
                           static_cast<std::uint32_t>(size - pos));
    }
    if (!unpacker::read_bitmap(in + pos, sp.bitmap, bitmap[b])) {
      return u.fail_status(errc::bad_bitmap, static_cast<std::uint32_t>(pos));
    }
    pos += bitmap_size;
  }
  // Every field the bitmaps name must be defined before anything is decoded.
  for (std::size_t w = 0; w < 3; ++w) {
    std::uint64_t undefined = bitmap[w] & ~sp.bitmap_bits[w];
    if (w == 0 || (w == 1 && sp.tertiary_bitmap)) undefined &= ~(std::uint64_t{1} << 63);  // bitmap bits
    if (undefined != 0) {
      u.path = field_path();
      u.current = static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(__builtin_clzll(undefined)) + 1);
      return u.fail_status(errc::undefined_field, static_cast<std::uint32_t>(bitmap_at + w * bitmap_size), u.current);
    }
  }

  source src;
  src.input = in;
  src.size = size;
  u.path = field_path();
  for (std::size_t w = 0; w < 3; ++w) {
    std::uint64_t bits = bitmap[w];
    if (w == 0) bits &= ~(std::uint64_t{1} << 63);
    if (w == 1 && sp.tertiary_bitmap) bits &= ~(std::uint64_t{1} << 63);
    while (bits != 0) {
      const int lead = __builtin_clzll(bits);
      bits &= ~(std::uint64_t{1} << (63 - lead));
      const auto n = static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(lead) + 1);
      u.current = n;
      std::int32_t index = -1;
      if (!u.decode_node(sp.fields[n], n, src, pos, index, 0)) return u.error;
      message_access::set_top(out, n, index);
    }
  }
  if (pos != size) {
    u.path = field_path("message");
    u.current = 0;
    return u.fail_status(errc::trailing_bytes, static_cast<std::uint32_t>(pos), static_cast<std::uint32_t>(size - pos));
  }
  return {};
}

status pack(const message& msg, std::vector<std::byte>& out) {
  const spec& sp = msg.dialect();
  const std::size_t start = out.size();
  // Room for the whole message at once: MTI, bitmaps, each field's prefix, the values (at most twice
  // their decoded size, for hex) rather than growing the buffer byte by byte from empty.
  const std::size_t estimate = 4 + 24 + 4 * msg.field_count() + 2 * detail::message_access::arena_size(msg);
  if (out.capacity() - start < estimate) out.reserve(start + estimate);
  packer p{msg, field_path("MTI"), start, 0, 0, {}};
  const std::string_view mti = msg.mti();
  if (mti.size() != 4 || first_invalid(field_class::n, mti.data(), 4) != std::string_view::npos) {
    return p.fail_status(errc::bad_mti, out);
  }
  switch (sp.mti_encoding) {
    case data_encoding::bcd:
      put_byte(out, static_cast<std::uint8_t>(((mti[0] - '0') << 4) | (mti[1] - '0')));
      put_byte(out, static_cast<std::uint8_t>(((mti[2] - '0') << 4) | (mti[3] - '0')));
      break;
    case data_encoding::ebcdic:
      for (char c : mti) put_byte(out, static_cast<std::uint8_t>(0xF0 + (c - '0')));
      break;
    default:
      put(out, mti.data(), 4);
      break;
  }

  std::array<std::uint64_t, 3> bitmap{};
  msg.for_each_field([&](std::uint32_t n, const message::node&) {
    if (n >= 2 && n <= 192) bitmap[(n - 1) / 64] |= std::uint64_t{1} << (63 - (n - 1) % 64);
  });
  if (bitmap[2] != 0) {
    if (!sp.tertiary_bitmap) {
      p.path = field_path("bitmap");
      p.fail(errc::bad_bitmap, out);
      out.resize(start);
      return p.error;
    }
    bitmap[1] |= std::uint64_t{1} << 63;
  }
  if (bitmap[1] != 0) bitmap[0] |= std::uint64_t{1} << 63;
  const std::size_t count = bitmap[2] != 0 ? 3 : bitmap[1] != 0 ? 2 : 1;
  for (std::size_t b = 0; b < count; ++b) {
    if (sp.bitmap == bitmap_encoding::binary) {
      for (int i = 7; i >= 0; --i) put_byte(out, static_cast<std::uint8_t>((bitmap[b] >> (8 * i)) & 0xFF));
    } else {
      for (int i = 15; i >= 0; --i)
        put_byte(out, static_cast<std::uint8_t>(detail::hex_digits[(bitmap[b] >> (4 * i)) & 0x0F]));
    }
  }

  bool result = true;
  p.path = field_path();
  msg.for_each_field([&](std::uint32_t n, const message::node& node) {
    if (!result) return;
    p.current = n;
    if (n == 65 && sp.tertiary_bitmap) {
      result = p.fail(errc::unknown_field, out);
      return;
    }
    result = p.encode_node(node, out, 0);
  });
  if (result) return {};
  out.resize(start);
  return p.error;
}

}  // namespace eft::iso8583
