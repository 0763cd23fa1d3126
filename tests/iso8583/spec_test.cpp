// Spec loading: errors name the source and line and say how to fix the spec; built-in names, files
// and path look-ups.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include "test_util.hpp"

namespace eft::iso8583::test {
namespace {

// The message of the spec_error that parsing `yaml` throws ("" when it parses).
std::string spec_error_of(const std::string& yaml, const std::string& source = "test.yaml") {
  try {
    (void)parse_spec(yaml, source);
  } catch (const spec_error& e) {
    return e.what();
  }
  return "";
}

// make_spec() layout: line 1 "name: test", line 2 "fields:", fields from line 3.
std::string fields_error(const std::string& fields, const std::string& header = "") {
  return spec_error_of("name: test\n" + header + "fields:\n" + fields);
}

TEST(SpecErrors, UnknownKeyNamesLineAndAllowedKeys) {
  const std::string e = fields_error(
      "  2: {class: n, length: 19, prefix: LL}\n"
      "  3: {class: n, lenght: 6}\n");
  EXPECT_EQ(e.rfind("test.yaml:4: unknown key 'lenght' in field (allowed keys: name, class, length, ", 0), 0U) << e;
  EXPECT_NE(e.find("subfield_bitmap"), std::string::npos) << e;
}

TEST(SpecErrors, UnknownKeyAtTopLevelAndInSections) {
  EXPECT_EQ(
      spec_error_of("name: x\nfeilds:\n  2: {class: n, length: 2}\n"),
      "test.yaml:2: unknown key 'feilds' in spec (allowed keys: name, description, mti, bitmap, defaults, fields)");
  EXPECT_EQ(fields_error("  2: {class: n, length: 2}\n", "bitmap: {encoding: hex, teriary: true}\n"),
            "test.yaml:2: unknown key 'teriary' in bitmap (allowed keys: encoding, tertiary)");
  EXPECT_EQ(fields_error("  2: {class: n, length: 2}\n", "defaults:\n  numeric: bcd\n"),
            "test.yaml:3: unknown key 'numeric' in defaults (allowed keys: encoding, numeric_encoding, "
            "binary_encoding, prefix_encoding, codepage, length_unit)");
}

TEST(SpecErrors, LengthBeyondABinaryPrefix) {
  EXPECT_EQ(fields_error("  2: {class: ans, length: 999, prefix: LLL, prefix_encoding: binary, prefix_bytes: 1}\n"),
            "test.yaml:3: field 2: length 999 does not fit a 1-byte binary prefix (lower the length or set "
            "prefix_bytes)");
  EXPECT_EQ(fields_error("  2: {class: ans, length: 999, prefix: LLL, prefix_encoding: binary}\n"), "");
}

TEST(SpecErrors, UnknownClass) {
  EXPECT_EQ(fields_error("  2: {class: q, length: 19}\n"),
            "test.yaml:3: unknown class 'q' (use one of: n, a, an, ans, b, z, xn, x+n)");
}

TEST(SpecErrors, UnknownEncodingAndPrefixEncoding) {
  EXPECT_EQ(fields_error("  2: {class: n, length: 19, encoding: packed}\n"),
            "test.yaml:3: unknown encoding 'packed' (use one of: ascii, ebcdic, bcd, binary, hex)");
  EXPECT_EQ(fields_error("  2: {class: n, length: 19, prefix: LL, prefix_encoding: hex}\n"),
            "test.yaml:3: unknown prefix_encoding 'hex' (use one of: ascii, ebcdic, bcd, binary)");
}

TEST(SpecErrors, MissingClassOrLength) {
  EXPECT_EQ(fields_error("  2: {name: PAN, length: 19}\n"),
            "test.yaml:3: field 2 has no class (add class: n, a, an, ans, b, z or xn)");
  EXPECT_EQ(fields_error("  2: {class: n}\n"),
            "test.yaml:3: field 2 has no length (add length: the exact or maximum length)");
  // Block style: the error points at the field's first key line.
  EXPECT_EQ(fields_error("  2:\n    name: PAN\n    prefix: LL\n"),
            "test.yaml:4: field 2 has no class (add class: n, a, an, ans, b, z or xn)");
}

TEST(SpecErrors, LengthTooBigForPrefix) {
  EXPECT_EQ(fields_error("  2: {class: n, length: 19, prefix: LL}\n  3: {class: ans, length: 100, prefix: LL}\n"),
            "test.yaml:4: field 3: length 100 does not fit a 2-digit prefix (lower the length or lengthen the prefix)");
  EXPECT_EQ(fields_error("  2: {class: n, length: 1000000, prefix: 6}\n"),
            "test.yaml:3: length '1000000' is not a number from 1 to 999999");
}

TEST(SpecErrors, BcdOnTextField) {
  EXPECT_EQ(fields_error("  43: {class: ans, length: 40, encoding: bcd}\n"),
            "test.yaml:3: field 43: bcd encoding needs class n, z or xn (use encoding: ascii or ebcdic for text, "
            "binary or hex for b)");
  // Inherited from the defaults: the error still names the field.
  const std::string e = fields_error("  43: {class: ans, length: 40}\n", "defaults: {encoding: bcd}\n");
  EXPECT_NE(e.find("field 43: bcd encoding needs class n, z or xn"), std::string::npos) << e;
  EXPECT_EQ(fields_error("  3: {class: n, length: 6, encoding: hex}\n"),
            "test.yaml:3: field 3: hex encoding is for class b (use encoding: ascii)");
}

TEST(SpecErrors, CompositeWithoutSubfields) {
  EXPECT_EQ(fields_error("  90: {class: n, length: 42, composite: positional}\n"),
            "test.yaml:3: field 90 needs subfields (add subfields: {1: {...}, ...})");
  EXPECT_EQ(fields_error("  90: {class: n, length: 42, subfields: {1: {class: n, length: 4}}}\n"),
            "test.yaml:3: field 90 has subfields but no composite (add composite: positional or bitmap)");
  EXPECT_EQ(fields_error("  55: {class: ans, length: 255, prefix: LLL, composite: tlv}\n"),
            "test.yaml:3: BER-TLV content needs class b");
}

TEST(SpecErrors, TagsSensitivityNeedsTlv) {
  EXPECT_EQ(fields_error("  48: {class: b, length: 255, prefix: LLL, sensitive: tags}\n"),
            "test.yaml:3: sensitive: tags needs composite: tlv (use sensitive: secret to hide the whole value)");
  EXPECT_EQ(fields_error("  52: {class: b, length: 8, sensitive: maybe}\n"),
            "test.yaml:3: unknown sensitive 'maybe' (use one of: pan, track, pin, secret, tags, true, false, none)");
}

TEST(SpecErrors, TertiaryBitmapRules) {
  // With the bitmap header on line 2, fields start on line 4.
  EXPECT_EQ(fields_error("  65: {class: b, length: 8}\n", "bitmap: {tertiary: true}\n"),
            "test.yaml:4: field 65 is the tertiary bitmap in this spec (remove it)");
  EXPECT_EQ(fields_error("  2: {class: n, length: 19, prefix: LL}\n  130: {class: n, length: 1}\n"),
            "test.yaml:4: fields above 128 need bitmap: {tertiary: true}");
  EXPECT_EQ(fields_error("  193: {class: n, length: 1}\n", "bitmap: {tertiary: true}\n"),
            "test.yaml:4: field number '193' is not a number from 2 to 192");
  EXPECT_EQ(fields_error("  1: {class: b, length: 8}\n"),
            "test.yaml:3: field number '1' is not a number from 2 to 192");
  // With the tertiary bitmap, 130 is fine.
  EXPECT_EQ(fields_error("  130: {class: n, length: 1}\n", "bitmap: {tertiary: true}\n"), "");
}

TEST(SpecErrors, OtherFieldChecks) {
  EXPECT_EQ(fields_error("  2: {class: n, length: 3, encoding: bcd, pad_nibble: G}\n"),
            "test.yaml:3: pad_nibble must be one hex digit (for example 0 or F)");
  EXPECT_EQ(fields_error("  2: {class: a, length: 3, pad_char: ab}\n"), "test.yaml:3: pad_char must be one character");
  EXPECT_EQ(fields_error("  2: {class: a, length: 3, pad: middle}\n"),
            "test.yaml:3: unknown pad 'middle' (use one of: left, right, none)");
  EXPECT_EQ(fields_error("  2: [n, 19]\n"), "test.yaml:3: field must be a map of keys");
  EXPECT_EQ(spec_error_of("name: x\nmti: {encoding: binary}\nfields:\n  2: {class: n, length: 2}\n"),
            "test.yaml:2: MTI encoding must be ascii, bcd or ebcdic");
}

TEST(SpecErrors, SpecShape) {
  EXPECT_EQ(spec_error_of("- 2\n- 3\n"), "test.yaml:1: a spec must be a map (see docs/iso8583-specs.md)");
  EXPECT_EQ(spec_error_of("name: x\n"), "test.yaml:1: a spec needs fields (add fields: {2: {...}, ...})");
  EXPECT_EQ(spec_error_of("name: x\nfields: {}\n"), "test.yaml:1: a spec needs fields (add fields: {2: {...}, ...})");
}

TEST(SpecErrors, InvalidYaml) {
  // An unclosed flow map on line 3.
  const std::string e = spec_error_of("name: test\nfields:\n  2: {class: n, length: 19\n  3: {class: n}\n");
  EXPECT_EQ(e.rfind("test.yaml:", 0), 0U) << e;
  EXPECT_NE(e.find(": not valid YAML: "), std::string::npos) << e;
  // A tab where YAML wants spaces, on line 3.
  const std::string tab = spec_error_of("name: test\nfields:\n\t2: {class: n, length: 2}\n");
  EXPECT_EQ(tab.rfind("test.yaml:3: not valid YAML: ", 0), 0U) << tab;
}

TEST(SpecErrors, SourceNameIsUsedAsGiven) {
  EXPECT_EQ(spec_error_of("name: x\nfields:\n  2: {class: q, length: 1}\n", "/etc/eft/host.yaml"),
            "/etc/eft/host.yaml:3: unknown class 'q' (use one of: n, a, an, ans, b, z, xn, x+n)");
}

// ---------------------------------------------------------------------------------------------
// Loading

TEST(SpecLoad, BuiltinNames) {
  const std::vector<std::string> names = builtin_spec_names();
  const std::set<std::string> got(names.begin(), names.end());
  EXPECT_EQ(got, (std::set<std::string>{"iso87-ascii", "iso87-binary", "iso87-ebcdic", "iso93-ascii"}));
  for (const auto& name : names) {
    const auto s = load_spec(name);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->name, name);
    EXPECT_FALSE(s->description.empty());
    EXPECT_EQ(load_spec(name), s) << "built-in specs are parsed once";
  }
}

TEST(SpecLoad, UnknownNameListsTheBuiltins) {
  try {
    (void)load_spec("iso87-asci");
    FAIL() << "no error";
  } catch (const spec_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'iso87-asci'"), std::string::npos) << what;
    for (const auto& name : builtin_spec_names()) EXPECT_NE(what.find(name), std::string::npos) << what;
    EXPECT_NE(what.find("nor a readable YAML file"), std::string::npos) << what;
  }
}

class temp_file {
 public:
  explicit temp_file(const std::string& text) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("eft_spec_test_" + std::string(info->name()) + "_" + std::to_string(::getpid()) + ".yaml");
    std::ofstream(path_) << text;
  }
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(SpecLoad, FromFile) {
  const temp_file file(
      "name: acquirer-x\n"
      "description: test host dialect\n"
      "mti: {encoding: bcd}\n"
      "defaults: {numeric_encoding: bcd, prefix_encoding: bcd}\n"
      "fields:\n"
      "  3: {name: Processing code, class: n, length: 6}\n"
      "  41: {name: Terminal, class: ans, length: 8}\n");
  const auto s = load_spec(file.path());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name, "acquirer-x");
  EXPECT_EQ(s->description, "test host dialect");
  EXPECT_EQ(s->mti_encoding, data_encoding::bcd);
  ASSERT_NE(s->field(3), nullptr);
  EXPECT_EQ(s->field(3)->encoding, data_encoding::bcd);
  EXPECT_EQ(s->field(41)->encoding, data_encoding::ascii);
  // MTI 08 00, bitmap with bits 3 and 41 (20 00 00 00 00 80 00 00), 3 in BCD, 41 in ASCII.
  EXPECT_EQ(pack_hex(*s, "0800", {{"3", "990000"}, {"41", "T1"}}),
            "0800"
            "2000000000800000"
            "990000"
            "5431202020202020");
}

TEST(SpecLoad, FileErrorsNameThePath) {
  const temp_file file("name: bad\nfields:\n  2: {class: n, length: 19, prefix: LL}\n  3: {clas: n}\n");
  try {
    (void)load_spec(file.path());
    FAIL() << "no error";
  } catch (const spec_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(file.path() + ":4: unknown key 'clas' in field", 0), 0U) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults and inheritance

TEST(SpecDefaults, FieldsInheritAndSubfieldsOfTextParentsReadAscii) {
  const spec s = make_spec(
      "  2: {class: n, length: 19, prefix: LL}\n"
      "  43: {class: ans, length: 40}\n"
      "  52: {class: b, length: 8}\n"
      "  60:\n"
      "    class: ans\n"
      "    length: 99\n"
      "    prefix: LL\n"
      "    composite: positional\n"
      "    subfields:\n"
      "      1: {class: n, length: 2}\n"
      "      2: {class: ans, length: 10, prefix: LL}\n"
      "  62:\n"
      "    class: b\n"
      "    length: 99\n"
      "    prefix: LL\n"
      "    composite: positional\n"
      "    subfields:\n"
      "      1: {class: n, length: 2}\n",
      "defaults: {encoding: ebcdic, numeric_encoding: bcd, prefix_encoding: bcd, codepage: cp1047}\n");
  EXPECT_EQ(s.field(2)->encoding, data_encoding::bcd);
  EXPECT_EQ(s.field(2)->prefix, prefix_encoding::bcd);
  EXPECT_EQ(s.field(43)->encoding, data_encoding::ebcdic);
  EXPECT_EQ(s.field(43)->ebcdic_codepage, codepage::cp1047);
  EXPECT_EQ(s.field(52)->encoding, data_encoding::binary);
  // 60 is text: its decoded value is ASCII, so its subfields are ASCII with ASCII prefixes.
  EXPECT_EQ(s.find("60.1")->encoding, data_encoding::ascii);
  EXPECT_EQ(s.find("60.2")->encoding, data_encoding::ascii);
  EXPECT_EQ(s.find("60.2")->prefix, prefix_encoding::ascii);
  // 62 is binary: its subfields take the dialect defaults.
  EXPECT_EQ(s.find("62.1")->encoding, data_encoding::bcd);
  // Pad defaults: digits left with '0', text right with spaces, binary refused.
  EXPECT_EQ(s.field(2)->pad_side, 'L');
  EXPECT_EQ(s.field(2)->pad_char, '0');
  EXPECT_EQ(s.field(43)->pad_side, 'R');
  EXPECT_EQ(s.field(52)->pad_side, 'N');
  EXPECT_EQ(s.field(2)->name, "Field 2");  // no name given
}

// A dialect written without `sensitive:` still hides what ISO 8583 puts in these numbers in every
// version: 2 and 34 the PAN, 35, 36 and 45 track data, 52 the PIN block, 55 the chip data.
TEST(SpecDefaults, CardDataFieldsAreSensitiveUnlessTheDialectSaysOtherwise) {
  const spec s = make_spec(
      "  2: {class: n, length: 19, prefix: LL}\n"
      "  4: {class: n, length: 12}\n"
      "  34: {class: ans, length: 28, prefix: LL}\n"
      "  35: {class: z, length: 37, prefix: LL}\n"
      "  36: {class: n, length: 104, prefix: LLL}\n"
      "  45: {class: ans, length: 76, prefix: LL}\n"
      "  48:\n"
      "    class: ans\n"
      "    length: 99\n"
      "    prefix: LL\n"
      "    composite: positional\n"
      "    subfields:\n"
      "      2: {class: n, length: 19, prefix: LL}\n"
      "      35: {class: ans, length: 10}\n"
      "  52: {class: b, length: 8}\n"
      "  55: {class: b, length: 255, prefix: LLL, composite: tlv}\n"
      "  62: {class: b, length: 255, prefix: LLL}\n");
  EXPECT_EQ(s.field(2)->sensitive, sensitivity::pan);
  EXPECT_EQ(s.field(34)->sensitive, sensitivity::pan);
  EXPECT_EQ(s.field(35)->sensitive, sensitivity::track);
  EXPECT_EQ(s.field(36)->sensitive, sensitivity::track);
  EXPECT_EQ(s.field(45)->sensitive, sensitivity::track);
  EXPECT_EQ(s.field(52)->sensitive, sensitivity::pin);
  EXPECT_EQ(s.field(55)->sensitive, sensitivity::tags);
  EXPECT_EQ(s.field(4)->sensitive, sensitivity::none);
  EXPECT_EQ(s.field(62)->sensitive, sensitivity::none);
  // Subfield numbers are the dialect's own: no meaning is assumed for them.
  EXPECT_EQ(s.find("48.2")->sensitive, sensitivity::none);
  EXPECT_EQ(s.find("48.35")->sensitive, sensitivity::none);

  // Chip data that is not declared as BER-TLV is hidden whole.
  EXPECT_EQ(make_spec("  55: {class: b, length: 255, prefix: LLL}\n").field(55)->sensitive, sensitivity::secret);
  // A dialect that uses one of these numbers for something else says so, and is believed.
  const spec other = make_spec(
      "  35: {class: ans, length: 37, prefix: LL, sensitive: none}\n"
      "  52: {class: b, length: 8, sensitive: false}\n"
      "  2: {class: n, length: 19, prefix: LL, sensitive: secret}\n");
  EXPECT_EQ(other.field(35)->sensitive, sensitivity::none);
  EXPECT_EQ(other.field(52)->sensitive, sensitivity::none);
  EXPECT_EQ(other.field(2)->sensitive, sensitivity::secret);
}

TEST(SpecDefaults, ToString) {
  EXPECT_EQ(to_string(field_class::xn), "x+n");
  EXPECT_EQ(to_string(field_class::ans), "ans");
  EXPECT_EQ(to_string(data_encoding::bcd), "bcd");
  EXPECT_EQ(to_string(data_encoding::hex), "hex");
}

// ---------------------------------------------------------------------------------------------
// spec::find

TEST(SpecFind, PathsInBuiltinSpecs) {
  const auto s = load_spec("iso87-ascii");
  ASSERT_NE(s->find("2"), nullptr);
  EXPECT_EQ(s->find("2")->name, "Primary account number");
  ASSERT_NE(s->find("127.2"), nullptr);
  EXPECT_EQ(s->find("127.2")->name, "Switch key");
  EXPECT_EQ(s->find("127.2")->number, 2U);
  ASSERT_NE(s->find("90.1"), nullptr);
  EXPECT_EQ(s->find("90.1")->name, "Original message type");
  EXPECT_EQ(s->find("90.1")->length, 4U);
  ASSERT_NE(s->find("127.25.26"), nullptr);
  EXPECT_EQ(s->find("127.25.26")->name, "Transaction currency code");
  EXPECT_EQ(s->find("127.10")->sensitive, sensitivity::secret);

  for (const char* unknown :
       {"", "1", "193", "127.", ".2", "127.99", "127.2.1", "2.1", "55.9F26", "48.AB", "x", "127.x", "90.6", "-2"}) {
    EXPECT_EQ(s->find(unknown), nullptr) << unknown;
  }
  // 90 has no subfields in ISO 8583:1993 (authorizations, reversal number); 56 does.
  const auto s93 = load_spec("iso93-ascii");
  ASSERT_NE(s93->find("90"), nullptr);
  EXPECT_EQ(s93->find("90.1"), nullptr);
  ASSERT_NE(s93->find("56.4"), nullptr);
  EXPECT_EQ(s93->find("56.4")->prefix_digits, 2U);
}

}  // namespace
}  // namespace eft::iso8583::test
