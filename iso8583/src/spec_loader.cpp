#include <yaml-cpp/yaml.h>

#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <span>
#include <sstream>

#include "eft/iso8583/spec.hpp"

namespace eft::iso8583 {

// Generated from iso8583/specs/*.yaml by cmake/EmbedFiles.cmake.
namespace builtin {
struct embedded_file {
  std::string_view name;
  std::string_view content;
};
std::span<const embedded_file> spec_files();
}  // namespace builtin

namespace {

// Encodings a field inherits when it does not name its own.
struct defaults {
  data_encoding text = data_encoding::ascii;
  data_encoding numeric = data_encoding::ascii;
  data_encoding binary = data_encoding::binary;
  prefix_encoding prefix = prefix_encoding::ascii;
  codepage cp = codepage::cp037;
  length_unit unit = length_unit::units;
};

// What a top-level field hides when its dialect does not say: the numbers that carry the PAN, track
// data, the PIN block and the chip data in ISO 8583:1987, 1993 and 2003 alike.
sensitivity default_sensitivity(std::uint32_t number, composite_kind composite) noexcept {
  switch (number) {
    case 2:
    case 34:
      return sensitivity::pan;
    case 35:
    case 36:
    case 45:
      return sensitivity::track;
    case 52:
      return sensitivity::pin;
    case 55:
      return composite == composite_kind::tlv ? sensitivity::tags : sensitivity::secret;
    default:
      return sensitivity::none;
  }
}

class loader {
 public:
  explicit loader(std::string_view source) : source_(source) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& what, const std::string& hint = {}) const {
    std::string msg = source_;
    if (at.IsDefined() && at.Mark().line >= 0) msg += ":" + std::to_string(at.Mark().line + 1);
    msg += ": " + what;
    if (!hint.empty()) msg += " (" + hint + ")";
    throw spec_error(msg);
  }

  std::string text(const YAML::Node& n, const char* what) const {
    if (!n.IsScalar()) fail(n, std::string(what) + " must be a single value");
    return n.Scalar();
  }

  std::uint32_t number(const YAML::Node& n, const char* what, std::uint32_t lo, std::uint32_t hi) const {
    const std::string s = text(n, what);
    std::uint32_t v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v < lo || v > hi) {
      fail(n,
           std::string(what) + " '" + s + "' is not a number from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    return v;
  }

  template <typename E>
  E choice(const YAML::Node& n, const char* what, std::initializer_list<std::pair<const char*, E>> options) const {
    const std::string s = text(n, what);
    std::string allowed;
    for (const auto& [name, value] : options) {
      if (s == name) return value;
      allowed += allowed.empty() ? "" : ", ";
      allowed += name;
    }
    fail(n, std::string("unknown ") + what + " '" + s + "'", "use one of: " + allowed);
  }

  void check_keys(const YAML::Node& map, std::initializer_list<const char*> keys, const char* where) const {
    if (!map.IsMap()) fail(map, std::string(where) + " must be a map of keys");
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      bool known = false;
      std::string allowed;
      for (const char* k : keys) {
        known = known || key == k;
        allowed += allowed.empty() ? "" : ", ";
        allowed += k;
      }
      if (!known) fail(kv.first, "unknown key '" + key + "' in " + where, "allowed keys: " + allowed);
    }
  }

  data_encoding encoding(const YAML::Node& n) const {
    return choice<data_encoding>(n, "encoding",
                                 {{"ascii", data_encoding::ascii},
                                  {"ebcdic", data_encoding::ebcdic},
                                  {"bcd", data_encoding::bcd},
                                  {"binary", data_encoding::binary},
                                  {"hex", data_encoding::hex}});
  }
  prefix_encoding prefix(const YAML::Node& n) const {
    return choice<prefix_encoding>(n, "prefix_encoding",
                                   {{"ascii", prefix_encoding::ascii},
                                    {"ebcdic", prefix_encoding::ebcdic},
                                    {"bcd", prefix_encoding::bcd},
                                    {"binary", prefix_encoding::binary}});
  }
  codepage cp(const YAML::Node& n) const {
    return choice<codepage>(n, "codepage", {{"cp037", codepage::cp037}, {"cp1047", codepage::cp1047}});
  }
  length_unit unit(const YAML::Node& n) const {
    return choice<length_unit>(n, "length_unit",
                               {{"units", length_unit::units},
                                {"digits", length_unit::units},
                                {"chars", length_unit::units},
                                {"bytes", length_unit::bytes}});
  }
  bitmap_encoding bitmap(const YAML::Node& n) const {
    return choice<bitmap_encoding>(n, "bitmap encoding",
                                   {{"binary", bitmap_encoding::binary}, {"hex", bitmap_encoding::hex}});
  }

  defaults read_defaults(const YAML::Node& n) const {
    defaults d;
    if (!n) return d;
    check_keys(n, {"encoding", "numeric_encoding", "binary_encoding", "prefix_encoding", "codepage", "length_unit"},
               "defaults");
    if (n["encoding"]) d.text = encoding(n["encoding"]);
    if (n["numeric_encoding"]) d.numeric = encoding(n["numeric_encoding"]);
    if (n["binary_encoding"]) d.binary = encoding(n["binary_encoding"]);
    if (n["prefix_encoding"]) d.prefix = prefix(n["prefix_encoding"]);
    if (n["codepage"]) d.cp = cp(n["codepage"]);
    if (n["length_unit"]) d.unit = unit(n["length_unit"]);
    return d;
  }

  field_spec field(const YAML::Node& n, std::uint32_t num, const defaults& d, int depth) const {
    check_keys(n,
               {"name", "class", "length", "prefix", "prefix_encoding", "prefix_bytes", "length_unit", "encoding",
                "codepage", "justify", "pad_nibble", "pad", "pad_char", "sensitive", "composite", "subfields",
                "subfield_bitmap", "tag_length", "tag_length_digits"},
               "field");
    field_spec f;
    f.defined = true;
    f.number = num;
    f.name = n["name"] ? text(n["name"], "name") : "Field " + std::to_string(num);
    if (!n["class"]) fail(n, "field " + std::to_string(num) + " has no class", "add class: n, a, an, ans, b, z or xn");
    f.cls = choice<field_class>(n["class"], "class",
                                {{"n", field_class::n},
                                 {"a", field_class::a},
                                 {"an", field_class::an},
                                 {"ans", field_class::ans},
                                 {"b", field_class::b},
                                 {"z", field_class::z},
                                 {"xn", field_class::xn},
                                 {"x+n", field_class::xn}});
    if (!n["length"])
      fail(n, "field " + std::to_string(num) + " has no length", "add length: the exact or maximum length");
    f.length = number(n["length"], "length", 1, 999999);
    if (n["prefix"]) {
      const std::string p = text(n["prefix"], "prefix");
      if (p == "fixed") {
        f.prefix_digits = 0;
      } else if (!p.empty() && p.find_first_not_of('L') == std::string::npos && p.size() <= 6) {
        f.prefix_digits = static_cast<std::uint8_t>(p.size());
      } else {
        f.prefix_digits = static_cast<std::uint8_t>(number(n["prefix"], "prefix", 0, 6));
      }
    }
    const bool digits = f.cls == field_class::n || f.cls == field_class::z || f.cls == field_class::xn;
    f.encoding = f.cls == field_class::b ? d.binary : digits ? d.numeric : d.text;
    if (n["encoding"]) f.encoding = encoding(n["encoding"]);
    if (f.encoding == data_encoding::bcd && !digits) {
      fail(n["encoding"] ? n["encoding"] : n, "field " + std::to_string(num) + ": bcd encoding needs class n, z or xn",
           "use encoding: ascii or ebcdic for text, binary or hex for b");
    }
    if (f.encoding == data_encoding::hex && f.cls != field_class::b) {
      fail(n["encoding"], "field " + std::to_string(num) + ": hex encoding is for class b", "use encoding: ascii");
    }
    if (f.cls == field_class::b && f.encoding == data_encoding::bcd) fail(n, "class b cannot be bcd");
    f.prefix = n["prefix_encoding"] ? prefix(n["prefix_encoding"]) : d.prefix;
    f.ebcdic_codepage = n["codepage"] ? cp(n["codepage"]) : d.cp;
    f.unit = n["length_unit"] ? unit(n["length_unit"]) : d.unit;
    if (!f.fixed()) {
      std::uint32_t max_prefix = 1;
      for (int i = 0; i < f.prefix_digits; ++i) max_prefix *= 10;
      if (f.length >= max_prefix) {
        fail(n["length"],
             "field " + std::to_string(num) + ": length " + std::to_string(f.length) + " does not fit a " +
                 std::to_string(f.prefix_digits) + "-digit prefix",
             "lower the length or lengthen the prefix");
      }
      const std::uint32_t width = f.prefix_digits <= 2 ? 1 : f.prefix_digits <= 4 ? 2 : 3;
      f.prefix_bytes =
          static_cast<std::uint8_t>(n["prefix_bytes"] ? number(n["prefix_bytes"], "prefix_bytes", 1, 4) : width);
      if (f.prefix == prefix_encoding::binary && f.prefix_bytes < 4) {
        const std::uint64_t max_binary = (std::uint64_t{1} << (8 * f.prefix_bytes)) - 1;
        const std::uint64_t wire_max = f.unit == length_unit::bytes ? 2ULL * f.length + 1 : f.length;
        if (wire_max > max_binary && f.length > max_binary) {
          fail(n["length"],
               "field " + std::to_string(num) + ": length " + std::to_string(f.length) + " does not fit a " +
                   std::to_string(f.prefix_bytes) + "-byte binary prefix",
               "lower the length or set prefix_bytes");
        }
      }
    }
    f.bcd_left_justified = n["justify"] && choice<bool>(n["justify"], "justify", {{"right", false}, {"left", true}});
    f.pad_nibble = f.bcd_left_justified ? 0x0F : 0x00;
    if (n["pad_nibble"]) {
      const std::string s = text(n["pad_nibble"], "pad_nibble");
      if (s.size() != 1 || !std::isxdigit(static_cast<unsigned char>(s[0]))) {
        fail(n["pad_nibble"], "pad_nibble must be one hex digit", "for example 0 or F");
      }
      f.pad_nibble = static_cast<std::uint8_t>(std::stoi(s, nullptr, 16));
    }
    if (digits) {
      f.pad_side = 'L';
      f.pad_char = '0';
    } else if (f.cls == field_class::b) {
      f.pad_side = 'N';
    } else {
      f.pad_side = 'R';
      f.pad_char = ' ';
    }
    if (n["pad"]) f.pad_side = choice<char>(n["pad"], "pad", {{"left", 'L'}, {"right", 'R'}, {"none", 'N'}});
    if (n["pad_char"]) {
      const std::string s = text(n["pad_char"], "pad_char");
      if (s.size() != 1) fail(n["pad_char"], "pad_char must be one character");
      f.pad_char = s[0];
    }
    if (n["sensitive"]) {
      f.sensitive = choice<sensitivity>(n["sensitive"], "sensitive",
                                        {{"pan", sensitivity::pan},
                                         {"track", sensitivity::track},
                                         {"pin", sensitivity::pin},
                                         {"secret", sensitivity::secret},
                                         {"tags", sensitivity::tags},
                                         {"true", sensitivity::secret},
                                         {"false", sensitivity::none},
                                         {"none", sensitivity::none}});
    }
    if (n["composite"]) {
      f.composite = choice<composite_kind>(n["composite"], "composite",
                                           {{"positional", composite_kind::positional},
                                            {"bitmap", composite_kind::bitmap},
                                            {"tlv", composite_kind::tlv},
                                            {"tagged", composite_kind::tagged}});
    }
    // A dialect that forgets `sensitive:` on a field whose number means card data in every version of
    // ISO 8583 still masks it; `sensitive: none` says on purpose that the dialect uses it otherwise.
    if (!n["sensitive"] && depth == 0) f.sensitive = default_sensitivity(num, f.composite);
    if (f.sensitive == sensitivity::tags && f.composite != composite_kind::tlv) {
      fail(n["sensitive"], "sensitive: tags needs composite: tlv", "use sensitive: secret to hide the whole value");
    }
    if (f.composite == composite_kind::tlv && f.cls != field_class::b) {
      fail(n["composite"], "BER-TLV content needs class b");
    }
    if (n["subfield_bitmap"]) f.subfield_bitmap = bitmap(n["subfield_bitmap"]);
    if (n["tag_length"]) f.tag_length = static_cast<std::uint8_t>(number(n["tag_length"], "tag_length", 1, 8));
    if (n["tag_length_digits"]) {
      f.tag_length_digits = static_cast<std::uint8_t>(number(n["tag_length_digits"], "tag_length_digits", 1, 6));
    }
    const bool wants_subfields = f.composite == composite_kind::positional || f.composite == composite_kind::bitmap;
    if (wants_subfields != static_cast<bool>(n["subfields"])) {
      fail(n,
           "field " + std::to_string(num) + (wants_subfields ? " needs subfields" : " has subfields but no composite"),
           wants_subfields ? "add subfields: {1: {...}, ...}" : "add composite: positional or bitmap");
    }
    if (wants_subfields) {
      if (depth >= 3) fail(n["subfields"], "subfields nest deeper than 3 levels");
      const YAML::Node subs = n["subfields"];
      if (!subs.IsMap() || subs.size() == 0) fail(subs, "subfields must be a map of subfield number to field");
      // Subfields parse the parent's decoded value: ASCII text for a text parent, raw bytes for b.
      defaults inner = d;
      if (f.cls != field_class::b) {
        inner.text = inner.numeric = data_encoding::ascii;
        inner.prefix = prefix_encoding::ascii;
      }
      const std::uint32_t max_sub = f.composite == composite_kind::bitmap ? 64 : 999;
      for (const auto& kv : subs) {
        const std::uint32_t sn = number(kv.first, "subfield number", 1, max_sub);
        if (f.subfields.size() <= sn) f.subfields.resize(sn + 1);
        if (f.subfields[sn].defined) fail(kv.first, "subfield " + std::to_string(sn) + " defined twice");
        f.subfields[sn] = field(kv.second, sn, inner, depth + 1);
      }
    }
    return f;
  }

  spec load(std::string_view yaml_text) const {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(yaml_text));
    } catch (const YAML::Exception& e) {
      throw spec_error(source_ + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
    }
    if (!root.IsMap()) fail(root, "a spec must be a map", "see docs/iso8583-specs.md");
    check_keys(root, {"name", "description", "mti", "bitmap", "defaults", "fields"}, "spec");
    spec s;
    s.name = root["name"] ? text(root["name"], "name") : source_;
    if (root["description"]) s.description = text(root["description"], "description");
    if (const YAML::Node m = root["mti"]) {
      check_keys(m, {"encoding", "codepage"}, "mti");
      if (m["encoding"]) {
        s.mti_encoding = encoding(m["encoding"]);
        if (s.mti_encoding == data_encoding::binary || s.mti_encoding == data_encoding::hex) {
          fail(m["encoding"], "MTI encoding must be ascii, bcd or ebcdic");
        }
      }
      if (m["codepage"]) s.mti_codepage = cp(m["codepage"]);
    }
    if (const YAML::Node b = root["bitmap"]) {
      check_keys(b, {"encoding", "tertiary"}, "bitmap");
      if (b["encoding"]) s.bitmap = bitmap(b["encoding"]);
      if (b["tertiary"])
        s.tertiary_bitmap = choice<bool>(b["tertiary"], "tertiary", {{"true", true}, {"false", false}});
    }
    const defaults d = read_defaults(root["defaults"]);
    const YAML::Node fields = root["fields"];
    if (!fields || !fields.IsMap() || fields.size() == 0)
      fail(root, "a spec needs fields", "add fields: {2: {...}, ...}");
    for (const auto& kv : fields) {
      const std::uint32_t num = number(kv.first, "field number", 2, 192);
      if (num == 65 && s.tertiary_bitmap) fail(kv.first, "field 65 is the tertiary bitmap in this spec", "remove it");
      if (num > 128 && !s.tertiary_bitmap) fail(kv.first, "fields above 128 need bitmap: {tertiary: true}");
      if (s.fields[num].defined) fail(kv.first, "field " + std::to_string(num) + " defined twice");
      s.fields[num] = field(kv.second, num, d, 0);
      s.bitmap_bits[(num - 1) / 64] |= std::uint64_t{1} << (63 - (num - 1) % 64);
    }
    return s;
  }

 private:
  std::string source_;
};

}  // namespace

const field_spec* spec::find(std::string_view path) const noexcept {
  std::size_t pos = 0;
  const field_spec* cur = nullptr;
  while (pos <= path.size()) {
    const std::size_t dot = std::min(path.find('.', pos), path.size());
    std::uint32_t n = 0;
    auto [ptr, ec] = std::from_chars(path.data() + pos, path.data() + dot, n);
    if (ec != std::errc() || ptr != path.data() + dot) return nullptr;
    cur = cur == nullptr ? field(n) : cur->subfield(n);
    if (cur == nullptr) return nullptr;
    pos = dot + 1;
  }
  return cur;
}

spec parse_spec(std::string_view yaml_text, std::string_view source) {
  return loader(source).load(yaml_text);
}

std::vector<std::string> builtin_spec_names() {
  std::vector<std::string> names;
  for (const auto& f : builtin::spec_files()) names.emplace_back(f.name);
  return names;
}

std::shared_ptr<const spec> load_spec(std::string_view name_or_path) {
  static std::mutex mutex;
  static std::map<std::string, std::shared_ptr<const spec>, std::less<>> cache;
  for (const auto& f : builtin::spec_files()) {
    if (f.name != name_or_path) continue;
    const std::lock_guard lock(mutex);
    if (auto it = cache.find(name_or_path); it != cache.end()) return it->second;
    auto s = std::make_shared<const spec>(parse_spec(f.content, "builtin:" + std::string(f.name)));
    cache.emplace(std::string(name_or_path), s);
    return s;
  }
  std::ifstream in{std::string(name_or_path)};
  if (!in) {
    std::string names;
    for (const auto& n : builtin_spec_names()) names += (names.empty() ? "" : ", ") + n;
    throw spec_error("spec '" + std::string(name_or_path) + "' is neither a built-in spec (" + names +
                     ") nor a readable YAML file");
  }
  std::stringstream text;
  text << in.rdbuf();
  return std::make_shared<const spec>(parse_spec(text.str(), name_or_path));
}

std::string_view to_string(field_class c) noexcept {
  switch (c) {
    case field_class::n:
      return "n";
    case field_class::a:
      return "a";
    case field_class::an:
      return "an";
    case field_class::ans:
      return "ans";
    case field_class::b:
      return "b";
    case field_class::z:
      return "z";
    case field_class::xn:
      return "x+n";
  }
  return "?";
}

std::string_view to_string(data_encoding e) noexcept {
  switch (e) {
    case data_encoding::ascii:
      return "ascii";
    case data_encoding::ebcdic:
      return "ebcdic";
    case data_encoding::bcd:
      return "bcd";
    case data_encoding::binary:
      return "binary";
    case data_encoding::hex:
      return "hex";
  }
  return "?";
}

}  // namespace eft::iso8583
