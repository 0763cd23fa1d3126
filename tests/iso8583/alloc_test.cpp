// "No per-field heap allocation on the unpack path": counts every operator new in this test binary
// while a typical chip purchase is unpacked. A reused message must not allocate at all; a fresh one
// may allocate its two buffers, whatever the number of fields.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <thread>

#include "test_util.hpp"

namespace {
std::atomic<long> allocations{0};
// While set, each block freed with its size is searched for these bytes first (found: counted).
std::atomic<const char*> watched{nullptr};
std::atomic<long> freed_with_watched{0};

void check_freed(void* p, std::size_t size) noexcept {
  const char* w = watched.load();
  if (w == nullptr || p == nullptr) return;
  if (::memmem(p, size, w, std::strlen(w)) != nullptr) freed_with_watched.fetch_add(1);
}
}  // namespace

// The replacement pair below allocates with malloc and frees with free, which GCC cannot see through.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t size) noexcept {
  check_freed(p, size);
  std::free(p);
}

namespace eft::iso8583::test {
namespace {

// A typical chip purchase, field by field.
std::vector<std::pair<std::uint32_t, std::string>> purchase_fields() {
  return {
      {2, "4761739001010010"},
      {3, "000000"},
      {4, "000000001234"},
      {7, "1126101530"},
      {11, "000123"},
      {12, "101530"},
      {13, "1126"},
      {14, "2712"},
      {18, "5411"},
      {22, "051"},
      {23, "001"},
      {25, "00"},
      {35, "4761739001010010=27122011758928889"},
      {37, "633010000123"},
      {41, "TERM0001"},
      {42, "MERCHANT0000001"},
      {49, "978"},
      {52, bytes("4C3B8E1E4B82F0A9")},
      {55, bytes("9F260829CCA15AE665FA2E9F2701809F100706011203A0B8009F3704012480009F3602001C950500000000009A03261126")},
  };
}

std::string purchase_bytes(const spec& s) {
  message m(s);
  m.set_mti("0200");
  for (const auto& [n, v] : purchase_fields()) EXPECT_TRUE(m.set(n, v));
  std::vector<std::byte> out;
  EXPECT_TRUE(pack(m, out));
  return {reinterpret_cast<const char*>(out.data()), out.size()};
}

class Allocations : public ::testing::TestWithParam<const char*> {};

TEST_P(Allocations, ReusedMessageUnpacksWithoutAllocating) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  message m(*s);
  ASSERT_TRUE(unpack(as_bytes(wire), m));  // grows the buffers once
  const long before = allocations.load();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(unpack(as_bytes(wire), m));
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(m.field_count(), 19U);
}

TEST_P(Allocations, FreshMessageAllocatesItsBuffersOnly) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  const long before = allocations.load();
  {
    message m(*s);
    ASSERT_TRUE(unpack(as_bytes(wire), m));
  }
  EXPECT_LE(allocations.load() - before, 2);
}

TEST_P(Allocations, PackIntoReservedBufferDoesNotAllocate) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  message m(*s);
  ASSERT_TRUE(unpack(as_bytes(wire), m));
  std::vector<std::byte> out;
  out.reserve(1024);
  const long before = allocations.load();
  for (int i = 0; i < 100; ++i) {
    out.clear();
    ASSERT_TRUE(pack(m, out));
  }
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()), wire);
}

// A message built with set(), as the switch builds host requests, answers and reversals, takes room
// for its nodes and values once instead of growing each buffer step by step.
TEST_P(Allocations, MessageBuiltFieldByFieldAllocatesItsBuffersOnce) {
  const auto s = load_spec(GetParam());
  const auto fields = purchase_fields();
  const long before = allocations.load();
  {
    message m(*s);
    m.set_mti("0200");
    for (const auto& [n, v] : fields) ASSERT_TRUE(m.set(n, v));
    EXPECT_EQ(m.field_count(), 19U);
  }
  EXPECT_LE(allocations.load() - before, 2);
}

// Packing into an empty buffer sizes it once for the whole message.
TEST_P(Allocations, PackIntoEmptyBufferAllocatesOnce) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  message m(*s);
  ASSERT_TRUE(unpack(as_bytes(wire), m));
  const long before = allocations.load();
  std::vector<std::byte> out;
  ASSERT_TRUE(pack(m, out));
  EXPECT_EQ(allocations.load() - before, 1);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(out.data()), out.size()), wire);
}

// Messages made and dropped one after another on a thread, as a switch session does per transaction,
// reuse the buffers of those before them instead of asking the heap each time.
TEST_P(Allocations, MessagesMadeOneAfterAnotherReuseTheirBuffers) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  const auto fields = purchase_fields();
  const auto one_transaction = [&] {
    message request(*s);
    ASSERT_TRUE(unpack(as_bytes(wire), request));
    message answer(*s);  // built field by field while the request lives
    answer.set_mti("0210");
    for (const auto& [n, v] : fields) ASSERT_TRUE(answer.set(n, v));
    EXPECT_EQ(request.field_count(), 19U);
  };
  one_transaction();  // the first takes its buffers from the heap
  const long before = allocations.load();
  for (int i = 0; i < 100; ++i) one_transaction();
  EXPECT_EQ(allocations.load() - before, 0);
}

// A host's answers are decoded on its link's thread and dropped on their terminal's: the memory of the
// messages (objects and buffers) comes back to the decoding thread through the shared depot.
TEST_P(Allocations, MessagesDecodedOnOneThreadAndDroppedOnAnotherReuseTheirMemory) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  long per_thread_start = 0;  // what starting a thread allocates by itself
  {
    const long before = allocations.load();
    std::thread([] {}).join();
    per_thread_start = allocations.load() - before;
  }
  std::vector<std::unique_ptr<message>> decoded;
  decoded.reserve(64);
  std::vector<long> made;
  made.reserve(5);
  for (int round = 0; round < 5; ++round) {
    const long before = allocations.load();
    std::thread link([&] {
      for (int i = 0; i < 64; ++i) {
        auto m = std::make_unique<message>(*s);
        ASSERT_TRUE(unpack(as_bytes(wire), *m));
        decoded.push_back(std::move(m));
      }
    });
    link.join();
    made.push_back(allocations.load() - before - per_thread_start);
    ASSERT_EQ(decoded.size(), 64U);
    decoded.clear();  // dropped on this thread
  }
  EXPECT_EQ(made.back(), 0) << "allocations in the last round";
}

// Field values (a PAN here) do not stay behind in memory given back to the heap, whether a message's
// buffers are freed at once (more messages dropped than a thread and the shared depot keep) or kept
// and freed when the thread ends.
TEST_P(Allocations, DroppedMessagesLeaveNoValuesInFreedMemory) {
  const auto s = load_spec(GetParam());
  const std::string wire = purchase_bytes(*s);
  const char* pan = "4761739001010010";
  std::thread t([&] {
    std::vector<std::unique_ptr<message>> held;
    for (int i = 0; i < 600; ++i) {
      held.push_back(std::make_unique<message>(*s));
      ASSERT_TRUE(unpack(as_bytes(wire), *held.back()));
      ASSERT_EQ(held.back()->get(2U).value_or(""), pan);
    }
    watched = pan;
    held.clear();
  });
  t.join();
  watched = nullptr;
  EXPECT_EQ(freed_with_watched.load(), 0);
}

// A message built field by field whose values outgrow its buffer wipes the old buffer before freeing it.
TEST_P(Allocations, AGrowingMessageLeavesNoValuesInFreedMemory) {
  const auto s = load_spec(GetParam());
  const char* pan = "4761739001010010";
  message m(*s);
  m.set_mti("0200");
  ASSERT_TRUE(m.set(2U, pan));
  const long before = freed_with_watched.load();
  const long allocations_before = allocations.load();
  watched = pan;
  for (const std::uint32_t field : {43U, 44U, 48U, 62U, 63U}) {  // private and text fields, 25-999 long
    const std::size_t length = field == 43U ? 40U : field == 44U ? 25U : 900U;
    ASSERT_TRUE(m.set(field, std::string(length, 'A'))) << "field " << field;
  }
  watched = nullptr;
  EXPECT_GT(allocations.load() - allocations_before, 0) << "the values must outgrow the first buffer";
  EXPECT_EQ(freed_with_watched.load() - before, 0);
  EXPECT_EQ(m.get(2U).value_or(""), pan);
}

#if defined(__SANITIZE_ADDRESS__)
// Memory kept for reuse is poisoned: a use after delete is reported as without the recycling.
TEST(RecycledMessages, AUseAfterDeleteIsStillReported) {
  const auto s = load_spec("iso87-binary");
  EXPECT_DEATH(
      {
        auto* m = new message(*s);
        ASSERT_TRUE(m->set(11U, "000123"));
        delete m;
        std::printf("%zu\n", m->field_count());  // NOLINT: the use after delete under test
      },
      "use-after-poison");
}
#endif

INSTANTIATE_TEST_SUITE_P(BuiltinSpecs, Allocations, ::testing::Values("iso87-binary", "iso87-ascii", "iso87-ebcdic"));

}  // namespace
}  // namespace eft::iso8583::test
