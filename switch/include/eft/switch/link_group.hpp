#pragma once
/// A link group: several host links to one host and the policy that picks one per request. Read by
/// every worker thread; the links' readiness is atomic, so selection takes no lock.

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "eft/config/switch.hpp"
#include "eft/switch/host_link.hpp"

namespace eft::switch_core {

class link_group {
 public:
  /// The links are owned elsewhere and outlive the group.
  link_group(std::string name, config::group_policy policy, std::vector<host_link*> links);

  /// A ready link by the policy (primary_backup: the first ready one in order; round_robin: the
  /// next ready one in turn), or nullptr when none is ready. Any thread.
  host_link* select() noexcept;
  /// True while any link is ready.
  bool up() const noexcept;
  const std::string& name() const noexcept { return name_; }
  const std::vector<host_link*>& links() const noexcept { return links_; }

 private:
  std::string name_;
  config::group_policy policy_;
  std::vector<host_link*> links_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace eft::switch_core
