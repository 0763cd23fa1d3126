// TR-31 key blocks (ASC X9 TR 31-2018, ANSI X9.143:2022), versions A, B and D.
#include "eft/crypto/tr31.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "eft/crypto/primitives.hpp"

namespace eft::crypto {

namespace {

constexpr std::size_t fixed_header_size = 16;
constexpr std::size_t max_block_size = 9999;  // four decimal digits of length
constexpr std::size_t max_optional_blocks = 99;

bool is_alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_printable(char c) noexcept {
  return c >= 0x20 && c <= 0x7E;
}
bool is_upper_hex(char c) noexcept {
  return is_digit(c) || (c >= 'A' && c <= 'F');
}

int hex_value(char c) noexcept {
  if (is_digit(c)) return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Characters from a block are echoed in details only when they are plain letters or digits, so a
// detail never carries control bytes; header fields hold no secrets.
std::string show(char c) {
  if (is_alnum(c)) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(c));
  return buf;
}
std::string show(std::string_view s) {
  if (std::all_of(s.begin(), s.end(), is_alnum)) return "'" + std::string(s) + "'";
  std::string out = "'";
  for (char c : s) out += is_alnum(c) ? std::string(1, c) : "?";
  return out + "'";
}

failure bad(std::string detail) {
  return failure{errc::bad_key_block, std::move(detail)};
}

// Parses `n` hex digits (either case) at `text[pos]`; -1 when short or not hex.
long parse_hex(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return -1;
  long v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int d = hex_value(text[pos + i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

std::string hex_digits(std::size_t v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*zX", width, v);
  return buf;
}

// --- usage / algorithm / mode of use table (TR-31:2018 A.5 key usage and mode of use tables) ---

struct usage_rule {
  std::string_view usage;
  std::string_view algorithms;
  std::string_view modes;
  std::string_view name;
};

// 'N' (no special restrictions other than those the usage implies) only for the usages a Thales
// payShield 10k writes it for in published blocks (B0TN, K0TN, D0AN; see the tests); it then
// allows every operation of the usage.
constexpr std::array<usage_rule, 26> usage_rules{{
    {"B0", "TA", "XN", "base derivation key"},
    {"B1", "TA", "XN", "initial DUKPT key"},
    {"C0", "T", "CGV", "card verification key"},
    {"D0", "TA", "EDBN", "data encryption key"},
    {"E0", "TA", "X", "EMV application cryptogram master key"},
    {"E1", "TA", "X", "EMV secure messaging confidentiality master key"},
    {"E2", "TA", "X", "EMV secure messaging integrity master key"},
    {"E3", "TA", "X", "EMV data authentication code master key"},
    {"E4", "TA", "X", "EMV dynamic numbers master key"},
    {"E5", "TA", "X", "EMV card personalisation master key"},
    {"E6", "TA", "X", "EMV other master key"},
    {"K0", "TA", "EDBN", "key encryption key"},
    {"K1", "TA", "EDBN", "TR-31 key block protection key"},
    {"M0", "T", "CGV", "ISO 16609 MAC key"},
    {"M1", "T", "CGV", "ISO 9797-1 MAC algorithm 1 key"},
    {"M2", "T", "CGV", "ISO 9797-1 MAC algorithm 2 key"},
    {"M3", "T", "CGV", "ISO 9797-1 MAC algorithm 3 key"},
    {"M4", "T", "CGV", "ISO 9797-1 MAC algorithm 4 key"},
    {"M5", "TA", "CGV", "ISO 9797-1:1999 MAC algorithm 5 key"},
    {"M6", "TA", "CGV", "ISO 9797-1:2011 MAC algorithm 5 (CMAC) key"},
    {"M7", "H", "CGV", "HMAC key"},
    {"M8", "T", "CGV", "ISO 9797-1:2011 MAC algorithm 6 key"},
    {"P0", "TA", "EDB", "PIN encryption key"},
    {"V0", "TA", "CGV", "PIN verification key (other algorithm)"},
    {"V1", "T", "CGV", "IBM 3624 PIN verification key"},
    {"V2", "T", "CGV", "Visa PVV PIN verification key"},
}};

const usage_rule* find_rule(std::string_view usage) {
  for (const auto& r : usage_rules) {
    if (r.usage == usage) return &r;
  }
  return nullptr;
}

std::string list(std::string_view letters) {
  std::string out;
  for (char c : letters) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

cipher kbpk_cipher(char version) {
  return version == 'D' ? cipher::aes : cipher::tdes;
}
std::size_t mac_size(char version) {
  return version == 'A' ? 4 : version == 'B' ? 8 : 16;
}

status check_kbpk(char version, byte_view kbpk) {
  if (version == 'D') {
    if (!key_length_ok(cipher::aes, kbpk.size())) {
      return failure{errc::bad_key_length,
                     "version D needs an AES KBPK of 16, 24 or 32 bytes, not " + std::to_string(kbpk.size())};
    }
  } else if (kbpk.size() != 16 && kbpk.size() != 24) {
    return failure{
        errc::bad_key_length,
        std::string("version ") + version + " needs a TDES KBPK of 16 or 24 bytes, not " + std::to_string(kbpk.size())};
  }
  return ok();
}

// The wrapped key's length against the header's algorithm and the KBPK (X9.24-1: a key is never
// protected by a weaker key).
status check_key_length(const tr31_header& h, std::size_t key_size, std::size_t kbpk_size, errc code) {
  const std::string n = std::to_string(key_size);
  switch (h.algorithm) {
    case 'T':
      if (key_size != 16 && key_size != 24) return failure{code, "a TDES key is 16 or 24 bytes, not " + n};
      if (h.version != 'D' && key_size > kbpk_size) {
        return failure{
            code, "a " + n + "-byte TDES key cannot be protected by a " + std::to_string(kbpk_size) + "-byte KBPK"};
      }
      return ok();
    case 'A':
      if (key_size != 16 && key_size != 24 && key_size != 32) {
        return failure{code, "an AES key is 16, 24 or 32 bytes, not " + n};
      }
      if (key_size > kbpk_size) {
        return failure{code,
                       "a " + n + "-byte AES key cannot be protected by a " + std::to_string(kbpk_size) + "-byte KBPK"};
      }
      return ok();
    case 'H':
      if (key_size < 16 || key_size > 64) return failure{code, "an HMAC key is 16 to 64 bytes, not " + n};
      return ok();
    default:
      return failure{errc::bad_key_block, "algorithm " + show(h.algorithm) + " cannot be wrapped"};
  }
}

// --- key derivation (TR-31:2018 5.3.1 variants, 5.3.2.1 / 5.3.2.3 CMAC KDF) ---

struct block_keys {
  secure_bytes kbek;
  secure_bytes kbak;
};

// TR-31:2018 5.3.2.1 (TDES) and 5.3.2.3 (AES): derivation data = counter | key usage (0000 encryption, 0001 MAC) | 00 |
// algorithm (0000 2TDEA, 0001 3TDEA, 0002-0004 AES-128/192/256) | length in bits; CMAC under the
// KBPK for as many blocks as the KBPK is long.
outcome<secure_bytes> derive_key(char version, byte_view kbpk, std::uint8_t key_usage) {
  const cipher c = kbpk_cipher(version);
  std::uint8_t algorithm = 0;
  if (c == cipher::tdes) {
    algorithm = kbpk.size() == 16 ? 0 : 1;
  } else {
    algorithm = kbpk.size() == 16 ? 2 : kbpk.size() == 24 ? 3 : 4;
  }
  const std::size_t bits = kbpk.size() * 8;
  const std::size_t bs = block_size(c);
  secure_bytes out((kbpk.size() + bs - 1) / bs * bs);
  for (std::size_t i = 0; i * bs < kbpk.size(); ++i) {
    const std::array<std::uint8_t, 8> data{
        static_cast<std::uint8_t>(i + 1),      0, key_usage, 0, 0, algorithm, static_cast<std::uint8_t>(bits >> 8),
        static_cast<std::uint8_t>(bits & 0xFF)};
    auto part = cmac(c, kbpk, data);
    if (!part) return part.error();
    std::copy(part->begin(), part->end(), out.begin() + static_cast<std::ptrdiff_t>(i * bs));
    wipe(part->data(), part->size());
  }
  out.resize(kbpk.size());
  return out;
}

outcome<block_keys> derive_block_keys(char version, byte_view kbpk) {
  block_keys k;
  if (version == 'A') {
    // TR-31:2018 5.3.1: KBEK = KBPK xor 'E' (0x45) bytes, KBAK = KBPK xor 'M' (0x4D) bytes.
    k.kbek = secure_bytes(kbpk.size());
    k.kbak = secure_bytes(kbpk.size());
    for (std::size_t i = 0; i < kbpk.size(); ++i) {
      k.kbek[i] = static_cast<std::uint8_t>(kbpk[i] ^ 0x45);
      k.kbak[i] = static_cast<std::uint8_t>(kbpk[i] ^ 0x4D);
    }
    return k;
  }
  auto e = derive_key(version, kbpk, 0);
  if (!e) return e.error();
  auto m = derive_key(version, kbpk, 1);
  if (!m) return m.error();
  k.kbek = std::move(e).value();
  k.kbak = std::move(m).value();
  return k;
}

// MAC of a key block: version A, the left 4 bytes of the TDES CBC-MAC (ISO 9797-1 algorithm 1,
// zero IV) of header and encrypted key field; B and D, CMAC of header and clear key field.
outcome<bytes> block_mac(char version, byte_view kbak, std::string_view header, byte_view key_field) {
  secure_bytes data(header.size() + key_field.size());  // holds the clear key field for B and D
  std::copy(header.begin(), header.end(), data.begin());
  std::copy(key_field.begin(), key_field.end(), data.begin() + static_cast<std::ptrdiff_t>(header.size()));
  outcome<bytes> mac =
      version == 'A' ? cbc_encrypt(cipher::tdes, kbak, {}, data.view()) : cmac(kbpk_cipher(version), kbak, data.view());
  if (!mac) return mac;
  if (version == 'A') return bytes(mac->end() - 8, mac->end() - 4);
  return mac;
}

// --- header text ---

std::string encode_optional_block(const std::string& id, const std::string& data) {
  if (data.size() + 4 <= 0xFF) return id + hex_digits(data.size() + 4, 2) + data;
  // Extended length form: length "00", then the length of the length in bytes ("02") and the length.
  return id + "0002" + hex_digits(data.size() + 10, 4) + data;
}

status check_optional_blocks(const tr31_header& h) {
  if (h.optional_blocks.size() > max_optional_blocks) {
    return bad(std::to_string(h.optional_blocks.size()) + " optional blocks; at most 99");
  }
  for (std::size_t i = 0; i < h.optional_blocks.size(); ++i) {
    const auto& [id, data] = h.optional_blocks[i];
    std::string where = "optional block " + std::to_string(i + 1);
    if (id.size() != 2 || !is_alnum(id[0]) || !is_alnum(id[1])) {
      return bad(where + ": id " + show(id) + " is not 2 letters or digits");
    }
    where += " (" + id + ")";
    if (!std::all_of(data.begin(), data.end(), is_printable)) return bad(where + ": data is not printable ASCII");
    if (data.size() + 10 > 0xFFFF) return bad(where + ": data too long");
    if (id == "PB" && i + 1 != h.optional_blocks.size()) return bad("the pad block PB must be the last optional block");
  }
  return ok();
}

// Parses one optional block at `pos`; advances it.
status parse_optional_block(std::string_view text, std::size_t& pos, std::size_t index, tr31_header& h) {
  const std::string where = "optional block " + std::to_string(index);
  if (pos + 2 > text.size()) return bad(where + ": truncated id");
  const std::string id(text.substr(pos, 2));
  if (!is_alnum(id[0]) || !is_alnum(id[1])) return bad(where + ": id " + show(id) + " is not 2 letters or digits");
  long length = parse_hex(text, pos + 2, 2);
  if (length < 0) return bad(where + " (" + id + "): length is not 2 hex digits");
  std::size_t overhead = 4;
  if (length == 0) {
    // Extended length: 2 hex digits giving the length of the length in bytes, then the length.
    const long length_of_length = parse_hex(text, pos + 4, 2);
    if (length_of_length < 1 || length_of_length > 2) {
      return bad(where + " (" + id + "): extended length must give a length of 1 or 2 bytes");
    }
    const auto digits = static_cast<std::size_t>(length_of_length) * 2;
    length = parse_hex(text, pos + 6, digits);
    if (length < 0)
      return bad(where + " (" + id + "): extended length is not " + std::to_string(digits) + " hex digits");
    overhead = 6 + digits;
  }
  if (static_cast<std::size_t>(length) < overhead) {
    return bad(where + " (" + id + "): length " + std::to_string(length) + " is shorter than its own id and length");
  }
  const auto data_size = static_cast<std::size_t>(length) - overhead;
  if (pos + overhead + data_size > text.size()) return bad(where + " (" + id + "): data truncated");
  const std::string_view data = text.substr(pos + overhead, data_size);
  if (!std::all_of(data.begin(), data.end(), is_printable)) {
    return bad(where + " (" + id + "): data is not printable ASCII");
  }
  h.optional_blocks.emplace_back(id, std::string(data));
  pos += overhead + data_size;
  return ok();
}

}  // namespace

std::string tr31_header::to_string() const {
  std::string out;
  out.reserve(fixed_header_size + 32 * optional_blocks.size());
  out += version;
  out += "0000";
  out += usage;
  out += algorithm;
  out += mode_of_use;
  out += key_version;
  out += exportability;
  const std::size_t n = optional_blocks.size() % 100;
  out += static_cast<char>('0' + n / 10);
  out += static_cast<char>('0' + n % 10);
  out += "00";
  for (const auto& [id, data] : optional_blocks) out += encode_optional_block(id, data);
  return out;
}

status tr31_check_header(const tr31_header& h) {
  if (h.version == 'C') return bad("version C (TDES variant binding) is not supported; use B or D");
  if (h.version != 'A' && h.version != 'B' && h.version != 'D') {
    return bad("version " + show(h.version) + " is not supported (A, B or D)");
  }
  if (h.usage.size() != 2 || !is_alnum(h.usage[0]) || !is_alnum(h.usage[1])) {
    return bad("key usage " + show(h.usage) + " is not 2 letters or digits");
  }
  const usage_rule* rule = find_rule(h.usage);
  if (rule == nullptr) return bad("key usage " + show(h.usage) + " is not supported");
  if (rule->algorithms.find(h.algorithm) == std::string_view::npos) {
    if (h.algorithm == 'D') return bad("single DES keys (algorithm 'D') are not accepted");
    return bad("algorithm " + show(h.algorithm) + " is not allowed for key usage " + h.usage + " (" +
               std::string(rule->name) + "; allowed: " + list(rule->algorithms) + ")");
  }
  if (rule->modes.find(h.mode_of_use) == std::string_view::npos) {
    return bad("mode of use " + show(h.mode_of_use) + " is not allowed for key usage " + h.usage + " (" +
               std::string(rule->name) + "; allowed: " + list(rule->modes) + ")");
  }
  if (h.version != 'D' && h.algorithm != 'T') {
    return bad(std::string("version ") + h.version + " carries TDES keys only (algorithm 'T'); use version D");
  }
  if (h.key_version.size() != 2 || !is_alnum(h.key_version[0]) || !is_alnum(h.key_version[1])) {
    return bad("key version " + show(h.key_version) + " is not 2 letters or digits");
  }
  if (h.exportability != 'E' && h.exportability != 'N' && h.exportability != 'S') {
    return bad("exportability " + show(h.exportability) + " is not E, N or S");
  }
  return check_optional_blocks(h);
}

outcome<tr31_header> tr31_parse_header(std::string_view block, std::size_t& consumed) {
  consumed = 0;
  if (block.size() < fixed_header_size) {
    return bad("header of " + std::to_string(block.size()) + " characters; the fixed header is 16");
  }
  tr31_header h;
  h.version = block[0];
  if (h.version != 'A' && h.version != 'B' && h.version != 'C' && h.version != 'D') {
    return bad("version " + show(h.version) + " is not supported (A, B or D)");
  }
  for (std::size_t i = 1; i < 5; ++i) {
    if (!is_digit(block[i])) return bad("length field " + show(block.substr(1, 4)) + " is not 4 decimal digits");
  }
  h.usage = std::string(block.substr(5, 2));
  h.algorithm = block[7];
  h.mode_of_use = block[8];
  h.key_version = std::string(block.substr(9, 2));
  h.exportability = block[11];
  if (!is_digit(block[12]) || !is_digit(block[13])) {
    return bad("optional block count " + show(block.substr(12, 2)) + " is not 2 decimal digits");
  }
  if (block.substr(14, 2) != "00") return bad("reserved field " + show(block.substr(14, 2)) + " is not \"00\"");
  const auto count = static_cast<std::size_t>(block[12] - '0') * 10 + static_cast<std::size_t>(block[13] - '0');
  std::size_t pos = fixed_header_size;
  for (std::size_t i = 0; i < count; ++i) {
    if (auto st = parse_optional_block(block, pos, i + 1, h); !st) return st.error();
  }
  if (auto st = tr31_check_header(h); !st) return st.error();
  consumed = pos;
  return h;
}

outcome<tr31_header> tr31_parse_header(std::string_view block) {
  std::size_t consumed = 0;
  return tr31_parse_header(block, consumed);
}

outcome<std::string> tr31_wrap(byte_view kbpk, const tr31_header& header, byte_view key, byte_view fill) {
  if (auto st = tr31_check_header(header); !st) return st.error();
  if (auto st = check_kbpk(header.version, kbpk); !st) return st.error();
  if (auto st = check_key_length(header, key.size(), kbpk.size(), errc::bad_key_length); !st) return st.error();
  const cipher c = kbpk_cipher(header.version);
  const std::size_t bs = block_size(c);

  // The key field: length in bits (2 bytes), key, padding.
  std::size_t pad = (bs - (2 + key.size()) % bs) % bs;
  if (!fill.empty()) {
    if ((2 + key.size() + fill.size()) % bs != 0) {
      return failure{errc::bad_input, "padding of " + std::to_string(fill.size()) + " bytes does not complete a " +
                                          std::to_string(bs) + "-byte block after the " +
                                          std::to_string(2 + key.size()) + "-byte length and key"};
    }
    pad = fill.size();
  }
  secure_bytes field(2 + key.size() + pad);
  field[0] = static_cast<std::uint8_t>((key.size() * 8) >> 8);
  field[1] = static_cast<std::uint8_t>((key.size() * 8) & 0xFF);
  std::copy(key.begin(), key.end(), field.begin() + 2);
  if (!fill.empty()) {
    std::copy(fill.begin(), fill.end(), field.begin() + 2 + static_cast<std::ptrdiff_t>(key.size()));
  } else if (pad > 0) {
    auto r = random_bytes(pad);
    if (!r) return r.error();
    std::copy(r->begin(), r->end(), field.begin() + 2 + static_cast<std::ptrdiff_t>(key.size()));
  }

  // The header: a pad block when the optional blocks do not end on a cipher block boundary.
  tr31_header h = header;
  std::string text = h.to_string();
  if (text.size() % bs != 0) {
    if (!h.optional_blocks.empty() && h.optional_blocks.back().first == "PB") {
      return bad("the header with its pad block is " + std::to_string(text.size()) + " characters, not a multiple of " +
                 std::to_string(bs));
    }
    if (h.optional_blocks.size() >= max_optional_blocks) return bad("no room for a pad block after 99 optional blocks");
    const std::size_t n = (bs - (text.size() + 4) % bs) % bs;
    h.optional_blocks.emplace_back("PB", std::string(n, '0'));
    text = h.to_string();
  }
  const std::size_t mac_len = mac_size(h.version);
  const std::size_t total = text.size() + 2 * field.size() + 2 * mac_len;
  if (total > max_block_size) return bad("key block of " + std::to_string(total) + " characters; at most 9999");
  const std::string length = std::to_string(total);
  text.replace(1, 4, std::string(4 - length.size(), '0') + length);

  auto keys = derive_block_keys(h.version, kbpk);
  if (!keys) return keys.error();
  bytes encrypted(field.size());
  bytes mac;
  if (h.version == 'A') {
    // TR-31:2018 5.3.1: IV = the first 8 header characters.
    const auto* iv = reinterpret_cast<const std::uint8_t*>(text.data());
    if (auto st = cbc_encrypt(c, keys->kbek.view(), byte_view(iv, 8), field.view(), encrypted.data()); !st)
      return st.error();
    auto m = block_mac('A', keys->kbak.view(), text, encrypted);
    if (!m) return m.error();
    mac = std::move(m).value();
  } else {
    auto m = block_mac(h.version, keys->kbak.view(), text, field.view());
    if (!m) return m.error();
    mac = std::move(m).value();
    if (auto st = cbc_encrypt(c, keys->kbek.view(), mac, field.view(), encrypted.data()); !st) return st.error();
  }
  return text + to_hex(encrypted) + to_hex(mac);
}

outcome<tr31_key> tr31_unwrap(byte_view kbpk, std::string_view block) {
  std::size_t header_size = 0;
  auto parsed = tr31_parse_header(block, header_size);
  if (!parsed) return parsed.error();
  tr31_header& h = *parsed;
  const std::size_t declared = std::stoul(std::string(block.substr(1, 4)));
  if (declared != block.size()) {
    return bad("length field says " + std::to_string(declared) + " characters; the block has " +
               std::to_string(block.size()));
  }
  const cipher c = kbpk_cipher(h.version);
  const std::size_t bs = block_size(c);
  if (header_size % bs != 0) {
    return bad("header with optional blocks is " + std::to_string(header_size) + " characters, not a multiple of " +
               std::to_string(bs));
  }
  const std::size_t mac_hex = 2 * mac_size(h.version);
  const std::string_view rest = block.substr(header_size);
  if (!std::all_of(rest.begin(), rest.end(), is_upper_hex)) {
    return bad("encrypted key field and MAC must be hex digits 0-9 A-F");
  }
  if (rest.size() < mac_hex + 2 * bs || (rest.size() - mac_hex) % (2 * bs) != 0) {
    return bad("encrypted key field of " + std::to_string(rest.size() < mac_hex ? 0 : (rest.size() - mac_hex) / 2) +
               " bytes is not a whole number of " + std::to_string(bs) + "-byte blocks");
  }
  if (auto st = check_kbpk(h.version, kbpk); !st) return st.error();

  const std::string_view header_text = block.substr(0, header_size);
  const bytes encrypted = from_hex(rest.substr(0, rest.size() - mac_hex)).value();
  const bytes mac = from_hex(rest.substr(rest.size() - mac_hex)).value();
  auto keys = derive_block_keys(h.version, kbpk);
  if (!keys) return keys.error();
  const failure mac_failure{errc::key_block_mac, "wrong KBPK or altered key block"};

  secure_bytes field(encrypted.size());
  if (h.version == 'A') {
    // The MAC covers the encrypted field: check it before decrypting anything.
    auto expected = block_mac('A', keys->kbak.view(), header_text, encrypted);
    if (!expected) return expected.error();
    if (!equal_ct(*expected, mac)) return mac_failure;
    const auto* iv = reinterpret_cast<const std::uint8_t*>(header_text.data());
    if (auto st = cbc_decrypt(c, keys->kbek.view(), byte_view(iv, 8), encrypted, field.data()); !st) return st.error();
  } else {
    // B and D: the MAC is the CBC IV and covers the clear field (TR-31:2018 5.3.2); the field stays
    // in wiped memory and is not interpreted until the MAC verifies.
    if (auto st = cbc_decrypt(c, keys->kbek.view(), mac, encrypted, field.data()); !st) return st.error();
    auto expected = block_mac(h.version, keys->kbak.view(), header_text, field.view());
    if (!expected) return expected.error();
    if (!equal_ct(*expected, mac)) return mac_failure;
  }

  const std::size_t bits = (static_cast<std::size_t>(field[0]) << 8) | field[1];
  if (bits == 0 || bits % 8 != 0 || bits / 8 > field.size() - 2) {
    return bad("key length field (" + std::to_string(bits) + " bits) does not fit the " +
               std::to_string(field.size() - 2) + "-byte key field");
  }
  if (auto st = check_key_length(h, bits / 8, kbpk.size(), errc::bad_key_block); !st) return st.error();
  tr31_key out;
  out.header = std::move(h);
  out.key = secure_bytes(byte_view(field.data() + 2, bits / 8));
  return out;
}

std::string_view describe(key_use use) noexcept {
  switch (use) {
    case key_use::pin_encrypt:
      return "PIN encryption";
    case key_use::pin_decrypt:
      return "PIN decryption";
    case key_use::mac_generate:
      return "MAC generation";
    case key_use::mac_verify:
      return "MAC verification";
    case key_use::data_encrypt:
      return "data encryption";
    case key_use::data_decrypt:
      return "data decryption";
    case key_use::derive:
      return "DUKPT key derivation";
    case key_use::generate_cvv:
      return "card verification value generation";
    case key_use::verify_cvv:
      return "card verification value verification";
    case key_use::generate_pin_ref:
      return "PIN verification value generation";
    case key_use::verify_pin:
      return "PIN verification";
    case key_use::wrap_key:
      return "key wrapping";
    case key_use::unwrap_key:
      return "key unwrapping";
    case key_use::arqc:
      return "EMV cryptogram processing";
  }
  return "unknown operation";
}

bool tr31_allows(const tr31_header& header, key_use use) noexcept {
  const std::string_view u = header.usage;
  const char m = header.mode_of_use;
  const auto mode_in = [m](std::string_view modes) { return modes.find(m) != std::string_view::npos; };
  const bool mac_key = u.size() == 2 && u[0] == 'M' && u[1] >= '0' && u[1] <= '8';
  const bool pin_verification_key = u == "V0" || u == "V1" || u == "V2";
  switch (use) {
    case key_use::pin_encrypt:
      return u == "P0" && mode_in("EB");
    case key_use::pin_decrypt:
      return u == "P0" && mode_in("DB");
    case key_use::mac_generate:
      return mac_key && mode_in("CG");
    case key_use::mac_verify:
      return mac_key && mode_in("CV");
    case key_use::data_encrypt:
      return u == "D0" && mode_in("EBN");
    case key_use::data_decrypt:
      return u == "D0" && mode_in("DBN");
    case key_use::derive:
      return (u == "B0" || u == "B1") && mode_in("XN");
    case key_use::generate_cvv:
      return u == "C0" && mode_in("CG");
    case key_use::verify_cvv:
      return u == "C0" && mode_in("CV");
    case key_use::generate_pin_ref:
      return pin_verification_key && mode_in("CG");
    case key_use::verify_pin:
      return pin_verification_key && mode_in("CV");
    case key_use::wrap_key:
      return (u == "K0" || u == "K1") && mode_in("EBN");
    case key_use::unwrap_key:
      return (u == "K0" || u == "K1") && mode_in("DBN");
    case key_use::arqc:
      return u == "E0" && m == 'X';
  }
  return false;
}

status tr31_require(const tr31_header& header, key_use use) {
  if (tr31_allows(header, use)) return ok();
  std::string usage = header.usage.size() == 2 && is_alnum(header.usage[0]) && is_alnum(header.usage[1])
                          ? header.usage
                          : std::string("?");
  const usage_rule* rule = find_rule(header.usage);
  std::string what = "a " + usage + " key";
  if (rule != nullptr) what += " (" + std::string(rule->name) + ")";
  return failure{errc::key_usage, what + " with mode of use " + show(header.mode_of_use) + " cannot be used for " +
                                      std::string(describe(use))};
}

}  // namespace eft::crypto
