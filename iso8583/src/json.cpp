#include "eft/iso8583/json.hpp"

#include <charconv>

#include "eft/iso8583/hex.hpp"
#include "eft/iso8583/mask.hpp"
#include "internal.hpp"

namespace eft::iso8583 {

namespace {

using json = nlohmann::ordered_json;

// BER-TLV as an object keyed by hex tag (constructed objects nested), or nothing when the data cannot
// be shown as an object without loss (malformed, repeated tags, non-minimal lengths).
std::optional<json> tlv_object(std::string_view data, int depth = 0);

bool build_tlv(const json& j, std::string& out, int depth = 0);

std::optional<json> tlv_object(std::string_view data, int depth) {
  if (depth > 8) return std::nullopt;
  json obj = json::object();
  bool ok = true;
  const bool well_formed = detail::walk_tlv(data, [&](const detail::tlv_item& item) {
    const std::string tag = to_hex(item.tag);
    if (obj.contains(tag)) ok = false;
    if (item.constructed) {
      if (auto inner = tlv_object(item.value, depth + 1)) {
        obj[tag] = std::move(*inner);
        return;
      }
    }
    obj[tag] = to_hex(item.value);
  });
  if (!well_formed || !ok) return std::nullopt;
  std::string rebuilt;
  if (!build_tlv(obj, rebuilt) || rebuilt != data) return std::nullopt;
  return obj;
}

// True when the bytes are exactly one BER tag (EMV Book 3 Annex B1): a single byte, or a first byte with
// bits 1-5 set, then bytes with bit 8 set and a last one with bit 8 clear (at most 3, as walk_tlv reads).
bool single_ber_tag(std::string_view tag) {
  if (tag.empty()) return false;
  if ((static_cast<unsigned char>(tag[0]) & 0x1F) != 0x1F) return tag.size() == 1;
  if (tag.size() < 2 || tag.size() > 4) return false;
  for (std::size_t i = 1; i < tag.size(); ++i) {
    const bool more = (static_cast<unsigned char>(tag[i]) & 0x80) != 0;
    if (more != (i + 1 < tag.size())) return false;
  }
  return true;
}

bool build_tlv(const json& j, std::string& out, int depth) {
  if (!j.is_object() || depth > 8) return false;
  for (const auto& [key, value] : j.items()) {
    std::string tag;
    // A key that is not one whole tag would be written as bytes that read back as other objects.
    if (key.empty() || !append_hex_decoded(key, tag) || !single_ber_tag(tag)) return false;
    std::string content;
    if (value.is_string()) {
      if (!append_hex_decoded(value.get_ref<const std::string&>(), content)) return false;
    } else if (value.is_object()) {
      if (!build_tlv(value, content, depth + 1)) return false;
    } else {
      return false;
    }
    out += tag;
    detail::append_ber_length(out, content.size());
    out += content;
  }
  return true;
}

std::vector<std::string> tlv_tags(std::string_view data) {
  std::vector<std::string> tags;
  const bool ok = detail::walk_tlv(data, [&](const detail::tlv_item& item) { tags.push_back(to_hex(item.tag)); });
  if (!ok) tags.emplace_back("(malformed)");
  return tags;
}

json node_json(const message& msg, const message::node& node, reveal show) {
  const field_spec* f = node.spec;
  const std::string_view value = msg.value(node);
  if (show == reveal::no && f != nullptr && f->sensitive != sensitivity::none) {
    if (f->sensitive == sensitivity::tags) return tlv_tags(value);
    return mask_value(f->sensitive, f->cls == field_class::b ? to_hex(value) : std::string(value));
  }
  if (node.first_child >= 0) {
    json obj = json::object();
    msg.for_each_child(node, [&](const message::node& c) {
      obj[c.tag_size != 0 ? std::string(c.tag_view()) : std::to_string(c.number)] = node_json(msg, c, show);
    });
    return obj;
  }
  if (f != nullptr && f->composite == composite_kind::tlv) {
    if (auto obj = tlv_object(value)) return std::move(*obj);
  }
  if (f != nullptr && f->cls == field_class::b) return to_hex(value);
  return std::string(value);
}

bool parse_number(std::string_view s, std::uint32_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

status set_from_json(message& out, const std::string& path, const field_spec* f, const json& value) {
  const auto fail = [&](errc code) { return status::failure(code, path, 0); };
  if (f == nullptr) return fail(errc::unknown_field);
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (f->cls == field_class::b) {
      std::string bytes;
      if (!append_hex_decoded(text, bytes)) return fail(errc::bad_hex);
      return out.set(path, bytes);
    }
    return out.set(path, text);
  }
  if (!value.is_object()) return fail(errc::bad_json);
  switch (f->composite) {
    case composite_kind::tlv: {
      std::string bytes;
      if (!build_tlv(value, bytes)) return fail(errc::bad_tlv);
      return out.set(path, bytes);
    }
    case composite_kind::tagged:
      for (const auto& [tag, v] : value.items()) {
        std::string sub = path;
        sub += '.';
        sub += tag;
        if (!v.is_string() || tag.size() != f->tag_length) return status::failure(errc::bad_json, sub, 0);
        if (status s = out.set(sub, v.get_ref<const std::string&>()); !s) return s;
      }
      return {};
    case composite_kind::positional:
    case composite_kind::bitmap:
      for (const auto& [key, v] : value.items()) {
        std::uint32_t n = 0;
        std::string sub = path;
        sub += '.';
        sub += key;
        if (!parse_number(key, n)) return status::failure(errc::unknown_field, sub, 0);
        if (status s = set_from_json(out, sub, f->subfield(n), v); !s) return s;
      }
      return {};
    case composite_kind::none:
      break;
  }
  return fail(errc::bad_json);
}

void pad_to(std::string& s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
}

void dump_node(const message& msg, const message::node& node, const std::string& label, int depth, reveal show,
               std::string& out) {
  std::string line(static_cast<std::size_t>(2 + 2 * depth), ' ');
  line += label;
  pad_to(line, 14);
  line += node.spec != nullptr ? node.spec->name : std::string("tag ") + std::string(node.tag_view());
  pad_to(line, 56);
  if (line.back() != ' ') line += ' ';  // a name longer than its column still leaves a gap before the value
  const field_spec* f = node.spec;
  const std::string_view value = msg.value(node);
  const bool masked = show == reveal::no && f != nullptr && f->sensitive != sensitivity::none;
  // A sensitive composite is hidden whole, as in the JSON form: its subfields are not listed.
  if (node.first_child >= 0 && !masked) {
    out += line + "\n";
    msg.for_each_child(node, [&](const message::node& c) {
      const std::string sub = c.tag_size != 0 ? std::string(c.tag_view()) : std::to_string(c.number);
      dump_node(msg, c, label + "." + sub, depth + 1, show, out);
    });
    return;
  }
  if (f != nullptr && f->composite == composite_kind::tlv) {
    if (show == reveal::no && f->sensitive != sensitivity::none) {
      std::string tags;
      for (const auto& t : tlv_tags(value)) tags += (tags.empty() ? "" : " ") + t;
      out += line + "tags " + tags + "\n";
      return;
    }
    out += line + "(" + std::to_string(value.size()) + " bytes)\n";
    const bool ok = detail::walk_tlv(value, [&](const detail::tlv_item& item) {
      std::string t(static_cast<std::size_t>(4 + 2 * depth), ' ');
      t += to_hex(item.tag);
      pad_to(t, 14);
      t += "[" + std::to_string(item.value.size()) + "] " + to_hex(item.value);
      out += t + "\n";
    });
    if (!ok) out += std::string(static_cast<std::size_t>(4 + 2 * depth), ' ') + "(malformed BER-TLV)\n";
    return;
  }
  std::string shown;
  if (masked) {
    shown = mask_value(f->sensitive, f->cls == field_class::b ? to_hex(value) : std::string(value));
  } else if (f != nullptr && f->cls == field_class::b) {
    shown = to_hex(value);
  } else {
    shown = "'" + std::string(value) + "'";
  }
  out += line + shown + "\n";
}

}  // namespace

json to_json(const message& msg, reveal show) {
  json j = json::object();
  j["0"] = std::string(msg.mti());
  msg.for_each_field(
      [&](std::uint32_t n, const message::node& node) { j[std::to_string(n)] = node_json(msg, node, show); });
  return j;
}

status from_json(const json& j, message& out) {
  out.clear();
  if (!j.is_object()) return status::failure(errc::bad_json, "message", 0);
  for (const auto& [key, value] : j.items()) {
    std::uint32_t n = 0;
    // Keys are canonical numbers: "0" is the MTI, "2" a field; "00" or "02" name nothing.
    if (!parse_number(key, n) || (key.size() > 1 && key[0] == '0')) {
      return status::failure(errc::unknown_field, key, 0);
    }
    if (n == 0) {
      if (!value.is_string()) return status::failure(errc::bad_mti, "MTI", 0);
      out.set_mti(value.get_ref<const std::string&>());
      if (value.get_ref<const std::string&>().size() != 4) return status::failure(errc::bad_mti, "MTI", 0);
      continue;
    }
    if (status s = set_from_json(out, key, out.dialect().field(n), value); !s) return s;
  }
  return {};
}

std::string dump(const message& msg, reveal show) {
  std::string out = "MTI           " + std::string(msg.mti()) + "\n";
  msg.for_each_field([&](std::uint32_t n, const message::node& node) {
    std::string label = std::to_string(n);
    dump_node(msg, node, label, 0, show, out);
  });
  return out;
}

}  // namespace eft::iso8583
