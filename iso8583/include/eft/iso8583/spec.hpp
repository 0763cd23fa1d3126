#pragma once
/// Dialect specs: how each field of a message is laid out on the wire. Specs are data (YAML files);
/// the built-in ones are compiled into the binaries.

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "eft/iso8583/mask.hpp"

namespace eft::iso8583 {

/// Content class of a field (ISO 8583 notation).
enum class field_class : std::uint8_t {
  n,    ///< digits
  a,    ///< letters (and space)
  an,   ///< letters, digits, space
  ans,  ///< printable ASCII 0x20-0x7E
  b,    ///< binary
  z,    ///< track 2: digits with '=' or 'D' as separator
  xn,   ///< 'C' (credit) or 'D' (debit) then digits; the length counts the digits only
};

/// Encoding of a field's data (and of the MTI).
enum class data_encoding : std::uint8_t {
  ascii,   ///< one ASCII byte per character
  ebcdic,  ///< one EBCDIC byte per character (code page per spec)
  bcd,     ///< packed BCD, two digits a byte
  binary,  ///< raw bytes
  hex,     ///< two ASCII hex characters per byte of a binary value
};

/// Encoding of a length prefix.
enum class prefix_encoding : std::uint8_t { ascii, ebcdic, bcd, binary };

/// What a length prefix counts.
enum class length_unit : std::uint8_t {
  units,  ///< digits, characters, or bytes of value, by class
  bytes,  ///< encoded bytes on the wire
};

/// EBCDIC code pages.
enum class codepage : std::uint8_t { cp037, cp1047 };

/// Layout of a field's subfields.
enum class composite_kind : std::uint8_t {
  none,
  positional,  ///< subfields one after another, numbered from 1
  bitmap,      ///< a bitmap, then the subfields it names
  tlv,         ///< BER-TLV data objects (EMV field 55)
  tagged,      ///< tagged text: tag, ASCII length digits, value, repeated
};

/// Encoding of a bitmap.
enum class bitmap_encoding : std::uint8_t { binary, hex };

/// How one field (or subfield) is laid out.
struct field_spec {
  bool defined = false;      ///< false for holes in the field table
  std::uint32_t number = 0;  ///< field or subfield number
  std::string name;          ///< name from the standard, for dumps
  field_class cls = field_class::ans;
  std::uint32_t length = 0;        ///< exact length (fixed) or maximum (variable), in units
  std::uint8_t prefix_digits = 0;  ///< 0: fixed length; 1-6: LL.. prefix digits
  prefix_encoding prefix = prefix_encoding::ascii;
  std::uint8_t prefix_bytes = 0;  ///< width of a binary prefix
  length_unit unit = length_unit::units;
  data_encoding encoding = data_encoding::ascii;
  codepage ebcdic_codepage = codepage::cp037;
  bool bcd_left_justified = false;  ///< odd BCD digit counts: pad nibble last (true) or first
  std::uint8_t pad_nibble = 0;      ///< value of that pad nibble
  char pad_side = 'N';              ///< fixed fields filled at pack: 'L', 'R' or 'N' (refuse)
  char pad_char = ' ';
  sensitivity sensitive = sensitivity::none;
  composite_kind composite = composite_kind::none;
  bitmap_encoding subfield_bitmap = bitmap_encoding::binary;
  std::uint8_t tag_length = 2;         ///< tagged composites: characters per tag
  std::uint8_t tag_length_digits = 3;  ///< tagged composites: digits per length
  std::vector<field_spec> subfields;   ///< by number; index 0 unused

  bool fixed() const noexcept { return prefix_digits == 0; }
  /// The subfield with this number, or nullptr.
  const field_spec* subfield(std::uint32_t n) const noexcept {
    return n < subfields.size() && subfields[n].defined ? &subfields[n] : nullptr;
  }
};

/// A dialect: MTI and bitmap encodings and fields 2-192.
struct spec {
  std::string name;
  std::string description;
  data_encoding mti_encoding = data_encoding::ascii;  ///< ascii, bcd or ebcdic
  codepage mti_codepage = codepage::cp037;
  bitmap_encoding bitmap = bitmap_encoding::binary;
  bool tertiary_bitmap = false;  ///< bit 65 announces a third bitmap (fields 129-192)
  std::array<field_spec, 193> fields{};
  /// The defined fields as bitmaps: word w, bit 63 - k stands for field 64 * w + k + 1 (set by the
  /// loader; lets unpack check a whole bitmap at once).
  std::array<std::uint64_t, 3> bitmap_bits{};

  /// Field n (2-192), or nullptr when the spec does not define it.
  const field_spec* field(std::uint32_t n) const noexcept {
    return n < fields.size() && fields[n].defined ? &fields[n] : nullptr;
  }
  /// The field or subfield at a path ("2", "127.2", "90.1"), or nullptr. TLV tags are not specs.
  const field_spec* find(std::string_view path) const noexcept;
};

/// A spec that cannot be used; the message names the source, the line and how to fix it.
class spec_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses a spec from YAML text. `source` names the text in error messages (a file path or
/// "builtin:iso87-ascii"). Throws spec_error.
spec parse_spec(std::string_view yaml_text, std::string_view source);

/// Loads a spec by built-in name (`iso87-ascii`, ...) or by YAML file path. Throws spec_error.
std::shared_ptr<const spec> load_spec(std::string_view name_or_path);

/// Names of the built-in specs.
std::vector<std::string> builtin_spec_names();

/// Field class, encodings and other enumerations by their spec names ("ans", "bcd", ...).
std::string_view to_string(field_class c) noexcept;
std::string_view to_string(data_encoding e) noexcept;

}  // namespace eft::iso8583
