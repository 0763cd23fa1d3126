#include "eft/switch/message_util.hpp"

#include <ctime>

#include "eft/iso8583/mask.hpp"

namespace eft::switch_core {

namespace {

bool digits4(std::string_view mti) noexcept {
  if (mti.size() != 4) return false;
  for (const char c : mti) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Copies the subfields of `node` under `path`; false (with `failed` naming the path) when the target
// dialect has no place for one of them.
bool copy_children(const iso8583::message& from, const iso8583::message::node& node, const std::string& path,
                   iso8583::message& to, std::string& failed) {
  bool ok = true;
  from.for_each_child(node, [&](const iso8583::message::node& child) {
    if (!ok) return;
    std::string sub = path + ".";
    if (child.tag_size != 0) {
      sub += child.tag_view();
    } else {
      sub += std::to_string(child.number);
    }
    if (child.first_child >= 0 && child.spec != nullptr && child.spec->composite != iso8583::composite_kind::tlv) {
      ok = copy_children(from, child, sub, to, failed);
      return;
    }
    if (!to.set(std::string_view(sub), from.value(child))) {
      failed = sub;
      ok = false;
    }
  });
  return ok;
}

}  // namespace

bool is_request_mti(std::string_view mti) noexcept {
  return digits4(mti) && (mti[2] - '0') % 2 == 0;
}

std::string response_mti(std::string_view mti) {
  if (!is_request_mti(mti)) return {};
  std::string r(mti);
  r[2] = static_cast<char>(r[2] + 1);
  return r;
}

std::string_view mti_class(std::string_view mti) noexcept {
  return mti.substr(0, mti.size() < 2 ? mti.size() : 2);
}

std::string field_text(const iso8583::message& msg, std::uint32_t field) {
  return std::string(msg.get(field).value_or(""));
}

std::optional<std::string> pan_of(const iso8583::message& msg) {
  if (auto pan = msg.get(2U)) return std::string(*pan);
  if (auto track = msg.get(35U)) {
    std::string pan;
    for (const char c : *track) {
      if (c == '=' || c == 'D' || c == 'd') break;
      pan.push_back(c);
    }
    if (!pan.empty()) return pan;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> missing_mandatory_field(const iso8583::message& request) {
  const std::string_view mti = request.mti();
  const char cls = mti.size() == 4 ? mti[1] : '?';
  if (cls == '1' || cls == '2' || cls == '4') {
    if (!request.has(2U) && !request.has(35U)) return 2U;
    for (const std::uint32_t f : {3U, 4U, 11U, 41U}) {
      if (!request.has(f)) return f;
    }
    return std::nullopt;
  }
  if (cls == '8') {
    for (const std::uint32_t f : {11U, 70U}) {
      if (!request.has(f)) return f;
    }
    return std::nullopt;
  }
  for (const std::uint32_t f : {11U, 41U}) {
    if (!request.has(f)) return f;
  }
  return std::nullopt;
}

iso8583::status copy_fields(const iso8583::message& from, iso8583::message& to, undefined_field_policy policy) {
  iso8583::status result;
  from.for_each_field([&](std::uint32_t number, const iso8583::message::node& node) {
    if (!result) return;
    const iso8583::field_spec* target = to.dialect().field(number);
    const auto refuse = [&](std::string_view path) {
      if (policy == undefined_field_policy::refuse)
        result = iso8583::status::failure(iso8583::errc::unknown_field, path, 0);
    };
    if (target == nullptr) {
      refuse(std::to_string(number));
      return;
    }
    const bool structured =
        node.first_child >= 0 && node.spec != nullptr && node.spec->composite != iso8583::composite_kind::tlv &&
        target->composite != iso8583::composite_kind::none && target->composite != iso8583::composite_kind::tlv;
    if (!structured) {
      (void)to.set(number, from.value(node));  // the number is defined: set cannot fail
      return;
    }
    std::string failed;
    if (!copy_children(from, node, std::to_string(number), to, failed)) {
      to.unset(number);
      refuse(failed);
    }
  });
  return result;
}

void make_local_response(const iso8583::message& request, std::string_view rc, iso8583::message& out) {
  out.clear();
  out.set_mti(response_mti(request.mti()));
  static constexpr std::uint32_t echoed[] = {2, 3, 4, 7, 11, 12, 13, 22, 25, 32, 37, 41, 42, 49};
  static constexpr std::uint32_t echoed_network[] = {7, 11, 41, 70};
  const bool network = request.mti().size() == 4 && request.mti()[1] == '8';
  const auto copy = [&](std::uint32_t f) {
    if (auto v = request.get(f); v && out.dialect().field(f) != nullptr) (void)out.set(f, *v);
  };
  if (network) {
    for (const auto f : echoed_network) copy(f);
  } else {
    for (const auto f : echoed) copy(f);
  }
  if (out.dialect().field(39) != nullptr) (void)out.set(39U, rc);
}

std::string transmission_time(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%m%d%H%M%S", &tm);
  return buf;
}

std::string summary(const iso8583::message& msg) {
  std::string s = "mti=";
  s += msg.mti().empty() ? std::string_view("?") : msg.mti();
  const auto add = [&](std::string_view name, std::uint32_t field) {
    if (auto v = msg.get(field)) {
      s += ' ';
      s += name;
      s += '=';
      s += *v;
    }
  };
  add("stan", 11);
  add("rrn", 37);
  add("terminal", 41);
  if (auto pan = pan_of(msg)) {
    s += " pan=";
    s += iso8583::mask_pan(*pan);
  }
  add("pc", 3);
  add("amount", 4);
  add("nmi", 70);
  add("rc", 39);
  return s;
}

}  // namespace eft::switch_core
