#include "eft/switch/link_group.hpp"

namespace eft::switch_core {

link_group::link_group(std::string name, config::group_policy policy, std::vector<host_link*> links)
    : name_(std::move(name)), policy_(policy), links_(std::move(links)) {}

host_link* link_group::select() noexcept {
  const std::size_t n = links_.size();
  if (n == 0) return nullptr;
  const std::size_t start =
      policy_ == config::group_policy::round_robin ? next_.fetch_add(1, std::memory_order_relaxed) % n : 0;
  for (std::size_t i = 0; i < n; ++i) {
    host_link* l = links_[(start + i) % n];
    if (l->ready()) return l;
  }
  return nullptr;
}

bool link_group::up() const noexcept {
  for (const host_link* l : links_) {
    if (l->ready()) return true;
  }
  return false;
}

}  // namespace eft::switch_core
