#include "eft/iso8583/message.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)0)
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)0)
#endif

namespace eft::iso8583 {

namespace {
// Splits "127.2.1" into its first component and the rest.
std::pair<std::string_view, std::string_view> split_first(std::string_view path) noexcept {
  const auto dot = path.find('.');
  if (dot == std::string_view::npos) return {path, {}};
  return {path.substr(0, dot), path.substr(dot + 1)};
}

bool parse_number(std::string_view s, std::uint32_t& out) noexcept {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// True when `rest` ("25.2", "AB") names a subfield that the spec defines under f. Tagged elements are
// leaves: a tag ends the path.
bool subpath_defined(const field_spec* f, std::string_view rest) noexcept {
  while (!rest.empty()) {
    auto [part, tail] = split_first(rest);
    rest = tail;
    if (f == nullptr) return false;
    if (f->composite == composite_kind::tagged) return tail.empty() && part.size() == f->tag_length;
    std::uint32_t sub = 0;
    const bool numbered = f->composite == composite_kind::positional || f->composite == composite_kind::bitmap;
    if (!numbered || !parse_number(part, sub)) return false;
    f = f->subfield(sub);
  }
  return f != nullptr;
}

// Spares: what destroyed messages leave for the next ones, kept per thread and, beyond that, in one
// depot shared by all threads. A switch makes and drops several messages per transaction. An unpacked
// message's node array (64 nodes of 48 bytes) is beyond glibc's per-thread cache, and a host's answer
// is decoded on its link's thread but dropped on its terminal's: either way each message went to the
// shared heap's slow path (its lock, its consolidation of small blocks) when made and when freed.
// A thread that only drops messages fills the depot, 16 at a time under its lock, and a thread that
// only makes them takes from it.
template <typename T>
class recycler {
 public:
  static constexpr std::size_t per_thread = 32;
  static constexpr std::size_t batch = per_thread / 2;
  static constexpr std::size_t depot_size = 512;

  // Keeps `item` (swapped out; whatever it gets back is the caller's to free): false when full.
  static bool put(T& item) noexcept {
    if (stash_gone) return false;
    stash& s = own();
    if (s.count == per_thread) move_to_depot(s);
    if (s.count == per_thread) return false;
    swap(s.items[s.count], item);
    s.items[s.count++].poison();
    return true;
  }

  // A kept item swapped into `item` (which the recycler frees in turn): false when none.
  static bool take(T& item) noexcept {
    if (stash_gone) return false;
    stash& s = own();
    if (s.count == 0) move_from_depot(s);
    if (s.count == 0) return false;
    s.items[--s.count].unpoison();
    swap(s.items[s.count], item);
    return true;
  }

 private:
  // Kept items [0, count); the other slots hold nothing worth keeping. Its destruction sets `gone`.
  template <std::size_t N>
  struct shelf {
    std::array<T, N> items{};
    std::size_t count = 0;
    bool* gone;
    explicit shelf(bool& g) noexcept : gone(&g) {}
    shelf(const shelf&) = delete;
    shelf& operator=(const shelf&) = delete;
    ~shelf() {
      *gone = true;
      for (std::size_t i = 0; i < count; ++i) items[i].unpoison();  // freed now
    }
  };
  using stash = shelf<per_thread>;
  struct depot_type {
    std::mutex mutex;
    shelf<depot_size> kept{depot_gone};
  };

  static stash& own() noexcept {
    thread_local stash s{stash_gone};
    return s;
  }
  static depot_type& depot() noexcept {
    static depot_type d;
    return d;
  }
  static void move_to_depot(stash& s) noexcept {
    if (depot_gone) return;
    depot_type& d = depot();
    const std::lock_guard lock(d.mutex);
    auto& k = d.kept;
    for (std::size_t i = 0; i < batch && k.count < depot_size; ++i) swap(s.items[--s.count], k.items[k.count++]);
  }
  static void move_from_depot(stash& s) noexcept {
    if (depot_gone) return;
    depot_type& d = depot();
    const std::lock_guard lock(d.mutex);
    auto& k = d.kept;
    for (std::size_t i = 0; i < batch && k.count > 0; ++i) swap(s.items[s.count++], k.items[--k.count]);
  }

  // Set once this thread's stash, or the depot (at exit), is destroyed: from then on nothing is kept
  // or taken there. Trivially destructible, so readable until the thread or the program ends.
  static thread_local inline bool stash_gone = false;
  static inline bool depot_gone = false;
};

// Kept memory is poisoned for AddressSanitizer until taken again: a use after delete is reported as
// it would be without the recycling.
void poison(const void* p, std::size_t n) noexcept {
  ASAN_POISON_MEMORY_REGION(p, n);
  (void)p;
  (void)n;
}
void unpoison(const void* p, std::size_t n) noexcept {
  ASAN_UNPOISON_MEMORY_REGION(p, n);
  (void)p;
  (void)n;
}

// A message's buffers.
struct spare_buffers {
  std::vector<message::node> nodes;
  std::string arena;
  // The heap blocks only (a short string's bytes are inside the string).
  void poison() noexcept {
    ::eft::iso8583::poison(nodes.data(), nodes.capacity() * sizeof(message::node));
    if (arena.capacity() > 15) ::eft::iso8583::poison(arena.data(), arena.capacity() + 1);
  }
  void unpoison() noexcept {
    ::eft::iso8583::unpoison(nodes.data(), nodes.capacity() * sizeof(message::node));
    if (arena.capacity() > 15) ::eft::iso8583::unpoison(arena.data(), arena.capacity() + 1);
  }
  friend void swap(spare_buffers& a, spare_buffers& b) noexcept {
    a.nodes.swap(b.nodes);
    a.arena.swap(b.arena);
  }
};
constexpr std::size_t spare_max_nodes = 512;
constexpr std::size_t spare_max_arena = 16384;

// A message object's own memory (make_unique<message> in the switch).
struct spare_block {
  void* p = nullptr;
  spare_block() = default;
  spare_block(const spare_block&) = delete;
  spare_block& operator=(const spare_block&) = delete;
  ~spare_block() { ::operator delete(p); }
  void poison() const noexcept { ::eft::iso8583::poison(p, sizeof(message)); }
  void unpoison() const noexcept { ::eft::iso8583::unpoison(p, sizeof(message)); }
  friend void swap(spare_block& a, spare_block& b) noexcept { std::swap(a.p, b.p); }
};
}  // namespace

message::message(const spec& dialect) noexcept : spec_(&dialect) {
  top_.fill(-1);
}

message::~message() {
  clear();  // wipes the values (PANs, track data, PIN blocks) before the buffers are freed or kept
  if (nodes_.capacity() == 0 || nodes_.capacity() > spare_max_nodes || arena_.capacity() > spare_max_arena) {
    return;
  }
  spare_buffers kept;
  kept.nodes.swap(nodes_);
  kept.arena.swap(arena_);
  (void)recycler<spare_buffers>::put(kept);  // what `kept` holds now (not kept: the buffers) is freed here
}

void* message::operator new(std::size_t size) {
  if (size == sizeof(message)) {
    spare_block b;
    if (recycler<spare_block>::take(b)) return std::exchange(b.p, nullptr);
  }
  return ::operator new(size);
}

void message::operator delete(void* p, std::size_t size) noexcept {
  if (p != nullptr && size == sizeof(message)) {
    spare_block b;
    b.p = p;
    (void)recycler<spare_block>::put(b);  // not kept: freed by b
    return;
  }
  ::operator delete(p);
}

void message::make_room(std::size_t nodes, std::size_t arena) {
  if (nodes_.capacity() < nodes && nodes_.empty() && arena_.empty()) {
    spare_buffers spare;
    if (recycler<spare_buffers>::take(spare)) {
      nodes_.swap(spare.nodes);
      arena_.swap(spare.arena);
    }
  }
  if (nodes_.capacity() < nodes) nodes_.reserve(nodes);
  if (arena_.capacity() < arena) arena_.reserve(arena);
}

void message::clear() noexcept {
  mti_size_ = 0;
  present_.fill(0);  // top_ entries only count where present_ says so
  nodes_.clear();
  if (!arena_.empty()) ::explicit_bzero(arena_.data(), arena_.size());
  arena_.clear();
}

void message::set_mti(std::string_view mti) noexcept {
  // Keeps one character more than an MTI has, so that pack refuses an over-long one instead of
  // sending its first 4 characters.
  mti_size_ = static_cast<std::uint8_t>(mti.size() < mti_.size() ? mti.size() : mti_.size());
  for (std::size_t i = 0; i < mti_size_; ++i) mti_[i] = mti[i];
}

std::size_t message::field_count() const noexcept {
  std::size_t count = 0;
  for (auto w : present_) count += static_cast<std::size_t>(__builtin_popcountll(w));
  return count;
}

void message::set_top(std::uint32_t field, std::int32_t index) noexcept {
  top_[field] = index;
  const std::uint64_t bit = std::uint64_t{1} << (field % 64);
  if (index >= 0) {
    present_[field / 64] |= bit;
  } else {
    present_[field / 64] &= ~bit;
  }
}

// A message built field by field (set()) starts with room for a typical request, instead of growing
// its buffers through five reallocations each; unpack() sizes them from the bytes it reads.
constexpr std::size_t first_nodes = 32;
constexpr std::size_t first_arena = 512;

std::uint32_t message::store(std::string_view value) {
  if (arena_.capacity() < first_arena) make_room(first_nodes, first_arena);
  const auto offset = static_cast<std::uint32_t>(arena_.size());
  if (arena_.size() + value.size() > arena_.capacity()) {
    // Grown here, not by append(): the old buffer's values are wiped before it is freed. The value
    // may lie in that buffer, so it is copied first.
    std::string bigger;
    bigger.reserve(std::max(2 * arena_.capacity(), arena_.size() + value.size()));
    bigger.append(arena_).append(value);
    ::explicit_bzero(arena_.data(), arena_.size());
    arena_.swap(bigger);
    return offset;
  }
  arena_.append(value);
  return offset;
}

std::int32_t message::add_node(std::uint32_t number, const field_spec* s, std::string_view value) {
  node n;
  n.number = number;
  n.spec = s;
  n.value_offset = store(value);
  n.value_size = static_cast<std::uint32_t>(value.size());
  if (nodes_.capacity() < first_nodes) make_room(first_nodes, first_arena);
  nodes_.push_back(n);
  return static_cast<std::int32_t>(nodes_.size() - 1);
}

std::int32_t message::find(std::string_view path) const noexcept {
  if (path.ends_with('.')) return -1;  // "127." is not field 127
  auto [head, rest] = split_first(path);
  std::uint32_t number = 0;
  if (!parse_number(head, number) || !has(number)) return -1;
  std::int32_t index = top_[number];
  while (!rest.empty()) {
    auto [part, tail] = split_first(rest);
    rest = tail;
    const node& parent = nodes_[static_cast<std::size_t>(index)];
    std::uint32_t sub = 0;
    const bool numeric = parse_number(part, sub);
    index = -1;
    for (std::int32_t c = parent.first_child; c >= 0; c = nodes_[static_cast<std::size_t>(c)].next_sibling) {
      const node& child = nodes_[static_cast<std::size_t>(c)];
      if ((child.tag_size != 0 && child.tag_view() == part) ||
          (child.tag_size == 0 && numeric && child.number == sub)) {
        index = c;
        break;
      }
    }
    if (index < 0) return -1;
  }
  return index;
}

std::optional<std::string_view> message::get(std::uint32_t field) const noexcept {
  if (!has(field)) return std::nullopt;
  return value(nodes_[static_cast<std::size_t>(top_[field])]);
}

std::optional<std::string_view> message::get(std::string_view path) const noexcept {
  const std::int32_t index = find(path);
  if (index < 0) return std::nullopt;
  return value(nodes_[static_cast<std::size_t>(index)]);
}

status message::set(std::uint32_t field, std::string_view value) {
  const field_spec* s = spec_->field(field);
  if (s == nullptr) {
    field_path p;
    p.push(field);
    status st;
    st.code = errc::unknown_field;
    st.field = p;
    return st;
  }
  set_top(field, add_node(field, s, value));
  return {};
}

status message::set(std::string_view path, std::string_view value) {
  auto [head, rest] = split_first(path);
  std::uint32_t number = 0;
  const auto unknown = [&] { return status::failure(errc::unknown_field, path, 0); };
  if (!parse_number(head, number) || path.ends_with('.')) return unknown();
  if (rest.empty()) return set(number, value);
  const field_spec* s = spec_->field(number);
  // Checked whole before anything changes: a refused path leaves the message as it was.
  if (!subpath_defined(s, rest)) return unknown();
  if (!has(number)) set_top(number, add_node(number, s, {}));
  std::int32_t parent = top_[number];
  while (!rest.empty()) {
    auto [part, tail] = split_first(rest);
    rest = tail;
    const field_spec* ps = nodes_[static_cast<std::size_t>(parent)].spec;
    if (ps == nullptr || ps->composite == composite_kind::none || ps->composite == composite_kind::tlv) {
      return unknown();
    }
    const bool tagged = ps->composite == composite_kind::tagged;
    std::uint32_t sub = 0;
    const field_spec* cs = nullptr;
    if (tagged) {
      if (part.size() != ps->tag_length || part.size() > 8) return unknown();
    } else {
      if (!parse_number(part, sub) || (cs = ps->subfield(sub)) == nullptr) return unknown();
    }
    // The parent's own value is rebuilt from its subfields at pack time.
    nodes_[static_cast<std::size_t>(parent)].value_size = 0;
    // Find the child, or the place to insert it (numbered subfields stay sorted, tags keep order).
    std::int32_t prev = -1;
    std::int32_t cur = nodes_[static_cast<std::size_t>(parent)].first_child;
    std::int32_t found = -1;
    while (cur >= 0) {
      const node& c = nodes_[static_cast<std::size_t>(cur)];
      if (tagged ? c.tag_view() == part : c.number == sub) {
        found = cur;
        break;
      }
      if (!tagged && c.number > sub) break;
      prev = cur;
      cur = c.next_sibling;
    }
    if (found < 0) {
      found = add_node(sub, cs, {});
      node& fresh = nodes_[static_cast<std::size_t>(found)];
      if (tagged) {
        for (std::size_t i = 0; i < part.size(); ++i) fresh.tag[i] = part[i];
        fresh.tag_size = static_cast<std::uint8_t>(part.size());
      }
      fresh.next_sibling = cur;
      if (prev < 0) {
        nodes_[static_cast<std::size_t>(parent)].first_child = found;
      } else {
        nodes_[static_cast<std::size_t>(prev)].next_sibling = found;
      }
    }
    parent = found;
  }
  node& target = nodes_[static_cast<std::size_t>(parent)];
  target.value_offset = store(value);
  target.value_size = static_cast<std::uint32_t>(value.size());
  target.first_child = -1;
  return {};
}

void message::unset(std::uint32_t field) noexcept {
  if (field < top_.size()) set_top(field, -1);
}

bool message::unset(std::string_view path) noexcept {
  auto [head, rest] = split_first(path);
  std::uint32_t number = 0;
  if (!parse_number(head, number) || !has(number) || path.ends_with('.')) return false;
  if (rest.empty()) {
    unset(number);
    return true;
  }
  const std::int32_t target = find(path);
  if (target < 0) return false;
  // Unlink the node from its parent's list (the parent is found by walking from the field).
  const auto last_dot = path.rfind('.');
  const std::int32_t parent = find(path.substr(0, last_dot));
  node& p = nodes_[static_cast<std::size_t>(parent)];
  if (p.first_child == target) {
    p.first_child = nodes_[static_cast<std::size_t>(target)].next_sibling;
    return true;
  }
  for (std::int32_t c = p.first_child; c >= 0; c = nodes_[static_cast<std::size_t>(c)].next_sibling) {
    node& n = nodes_[static_cast<std::size_t>(c)];
    if (n.next_sibling == target) {
      n.next_sibling = nodes_[static_cast<std::size_t>(target)].next_sibling;
      return true;
    }
  }
  return false;
}

}  // namespace eft::iso8583
