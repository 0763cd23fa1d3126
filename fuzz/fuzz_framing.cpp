// Framing reads lengths straight off the wire: whatever the bytes, inspect_frame must never claim more
// than the buffer holds for a complete frame, never exceed the maximum, and a header written for a
// body must read back as that body's frame.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "eft/switch/framing.hpp"

using namespace eft::switch_core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const framing f{static_cast<framing_kind>(data[0] % 5), 4096};
  const std::span<const std::uint8_t> buffer(data + 1, size - 1);
  const frame r = inspect_frame(f, buffer);
  if (r.status == frame_status::complete && (r.total() > buffer.size() || r.body_size > f.max_frame)) std::abort();
  if (r.status == frame_status::need_more && r.needed <= buffer.size()) std::abort();
  if (r.status == frame_status::complete) {
    std::uint8_t header[max_header_size];
    const std::size_t n = write_frame_header(f, r.body_size, header, r.tpdu_header);
    std::vector<std::uint8_t> rebuilt(header, header + n);
    rebuilt.insert(rebuilt.end(), buffer.begin() + static_cast<std::ptrdiff_t>(r.header_size),
                   buffer.begin() + static_cast<std::ptrdiff_t>(r.total()));
    const frame again = inspect_frame(f, rebuilt);
    if (again.status != frame_status::complete || again.body_size != r.body_size) std::abort();
  }
  return 0;
}
