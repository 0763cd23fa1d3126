// eftctl emv: decode EMV chip data (field 55 and other BER-TLV) for people and for scripts.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "eft/emv/decode.hpp"
#include "eft/emv/dictionary.hpp"
#include "eft/emv/tlv.hpp"
#include "eft/iso8583/hex.hpp"
#include "eft/iso8583/mask.hpp"

namespace eftctl {

namespace {

struct decode_options {
  std::string hex;
  bool json = false;
  bool reveal = false;
};

// One line on stderr and exit status 1: the contract for bad input.
int fail(const std::string& what) {
  std::cerr << "eftctl: " << what << '\n';
  return 1;
}

std::string hex_of(eft::emv::byte_view v) {
  return eft::iso8583::to_hex(std::string_view(reinterpret_cast<const char*>(v.data()), v.size()));
}

// The value as shown: hex, or masked for card data unless --reveal.
std::string shown_value(const eft::emv::tlv_object& o, bool reveal, bool& masked) {
  masked = false;
  const auto* info = eft::emv::find_tag(o.tag);
  if (reveal || info == nullptr || info->sensitivity == eft::emv::tag_sensitivity::none) return hex_of(o.value);
  masked = true;
  if (info->sensitivity == eft::emv::tag_sensitivity::pan) {
    std::string digits = hex_of(o.value);
    while (!digits.empty() && digits.back() == 'F') digits.pop_back();
    return eft::iso8583::mask_pan(digits);
  }
  return std::string(eft::iso8583::redacted);
}

nlohmann::ordered_json to_json(const eft::emv::tlv_tree& tree, const eft::emv::tlv_object& o,
                               eft::emv::card_scheme scheme, bool reveal) {
  bool masked = false;
  nlohmann::ordered_json j;
  j["tag"] = eft::emv::tag_hex(o.tag);
  j["length"] = o.value.size();
  j["value"] = shown_value(o, reveal, masked);
  const auto name = eft::emv::tag_name(o.tag);
  j["name"] = name.empty() ? "unknown" : std::string(name);
  if (masked) j["masked"] = true;
  if (const auto lines = eft::emv::describe(o.tag, o.value, scheme); !lines.empty()) j["decoded"] = lines;
  if (o.constructed) {
    auto children = nlohmann::ordered_json::array();
    tree.for_each_child(o,
                        [&](const eft::emv::tlv_object& c) { children.push_back(to_json(tree, c, scheme, reveal)); });
    j["children"] = std::move(children);
  }
  return j;
}

void print_tree(const eft::emv::tlv_tree& tree, const eft::emv::tlv_object& o, eft::emv::card_scheme scheme,
                bool reveal) {
  const std::string indent(std::size_t{2} * o.depth, ' ');
  bool masked = false;
  const auto name = eft::emv::tag_name(o.tag);
  std::cout << indent << eft::emv::tag_hex(o.tag) << "  " << (name.empty() ? "(unknown tag)" : name) << " ["
            << o.value.size() << "]";
  if (!o.constructed) std::cout << " " << shown_value(o, reveal, masked);
  std::cout << '\n';
  for (const auto& line : eft::emv::describe(o.tag, o.value, scheme)) std::cout << indent << "      " << line << '\n';
  tree.for_each_child(o, [&](const eft::emv::tlv_object& c) { print_tree(tree, c, scheme, reveal); });
}

int run_decode(const decode_options& o) {
  std::string hex;
  for (char c : o.hex) {
    if (c != ' ' && c != '\n' && c != '\t' && c != ':') hex += c;
  }
  std::string raw;
  if (!eft::iso8583::append_hex_decoded(hex, raw)) return fail("--hex is not an even number of hex digits");
  const eft::emv::byte_view data(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size());
  eft::emv::tlv_tree tree;
  if (auto st = eft::emv::parse(data, tree); !st) return fail(st.message());
  const auto scheme = eft::emv::scheme_of(tree);
  if (o.json) {
    auto out = nlohmann::ordered_json::array();
    tree.for_each_top([&](const eft::emv::tlv_object& top) { out.push_back(to_json(tree, top, scheme, o.reveal)); });
    std::cout << out.dump(2) << '\n';
  } else {
    tree.for_each_top([&](const eft::emv::tlv_object& top) { print_tree(tree, top, scheme, o.reveal); });
  }
  return 0;
}

}  // namespace

void add_emv_command(CLI::App& app, int& exit_status) {
  auto* emv = app.add_subcommand("emv", "Decode EMV chip data (field 55, BER-TLV)");
  emv->require_subcommand(1);

  auto dec = std::make_shared<decode_options>();
  auto* d = emv->add_subcommand("decode", "Print BER-TLV as an annotated tag tree, or as JSON");
  d->add_option("--hex", dec->hex, "The data as hex (spaces and colons are ignored)")->required();
  d->add_flag("--json", dec->json,
              "JSON: an array of {tag, length, value, name, decoded, children} (children for constructed tags)");
  d->add_flag("--reveal", dec->reveal, "Show card data (5A, 57, 56, 9F1F, 9F20, 9F6B, 99) in clear");
  d->callback([dec, &exit_status] { exit_status = run_decode(*dec); });
}

}  // namespace eftctl
