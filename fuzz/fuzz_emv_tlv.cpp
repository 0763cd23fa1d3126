// Parse arbitrary bytes as BER-TLV (field 55); whatever parses must build and parse again to the same
// objects (parse -> build -> parse: equal), and building that again must give the same bytes. Every
// consumer of a parsed field 55 (dictionary checks, decoders, cryptogram assembly, card data checks)
// runs on it too and must not crash, over-read or leak.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "eft/emv/cryptogram.hpp"
#include "eft/emv/decode.hpp"
#include "eft/emv/field55.hpp"
#include "eft/emv/tlv.hpp"

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "%s\n", what);
  std::abort();
}

bool same_objects(const eft::emv::tlv_tree& a, const eft::emv::tlv_tree& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& x = a[i];
    const auto& y = b[i];
    if (x.tag != y.tag || x.depth != y.depth || x.constructed != y.constructed || x.parent != y.parent ||
        x.first_child != y.first_child || x.next_sibling != y.next_sibling) {
      return false;
    }
    if (!x.constructed && !std::equal(x.value.begin(), x.value.end(), y.value.begin(), y.value.end())) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const eft::emv::byte_view input(data, size);
  eft::emv::tlv_tree first;
  const auto st = eft::emv::parse(input, first);
  (void)st.message();
  if (!st) return 0;

  eft::emv::bytes built;
  if (!eft::emv::build(first, built)) die("build failed after parse succeeded");
  if (built.size() > size) die("building made the data longer than the input");
  eft::emv::tlv_tree second;
  if (!eft::emv::parse(built, second)) die("parse of our own building failed");
  if (!same_objects(first, second)) die("parse -> build -> parse changed the objects");
  eft::emv::bytes rebuilt;
  if (!eft::emv::build(second, rebuilt) || rebuilt != built) die("building is not stable");

  // The consumers of a parsed field 55.
  const auto scheme = eft::emv::scheme_of(first);
  for (const auto& o : first) (void)eft::emv::describe(o.tag, o.value, scheme);
  (void)eft::emv::check_request(first, eft::emv::mastercard_request_profile());
  (void)eft::emv::check_response(first);
  (void)eft::emv::check_card_data(first, std::string_view("4761739001010010"),
                                  std::string_view("4761739001010010=22122011758928889"));
  if (auto in = eft::emv::assemble_arqc_input(first); in) {
    if (in->arqc.size() != 8 || in->atc.size() != 2 || in->un.size() != 4) die("assembled input of bad lengths");
  }
  (void)eft::emv::psn_of(first, std::string_view("001"));
  return 0;
}
