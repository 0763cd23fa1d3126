#pragma once
// Names a thread as `top -H`, `ps -L`, gdb and perf show it ("eft-io-0", "eft-journal").
#include <pthread.h>

#include <string>
#include <thread>

namespace eft::switch_core::detail {

// Named by its creator, so the name is there as soon as the thread is. Linux keeps 15 characters.
inline void name_thread(std::thread& t, std::string name) noexcept {
  if (name.size() > 15) name.resize(15);
  (void)pthread_setname_np(t.native_handle(), name.c_str());
}

}  // namespace eft::switch_core::detail
