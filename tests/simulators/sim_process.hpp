#pragma once
// Child processes for the tests that run hostsim, termsim, eftswitch and eftctl on 127.0.0.1: output
// to a file (a pipe nobody drains would stall a child that logs every transaction), lines awaited
// with a timeout, and the process always killed (SIGKILL) when the object goes.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace eft::test {

/// One child process; killed with SIGKILL and reaped when the object goes, whatever the test did.
class sim_process {
 public:
  /// Starts `args`; standard output and error go to `log` (kept), or to a temporary file removed
  /// with the object when `log` is empty.
  explicit sim_process(std::vector<std::string> args, std::filesystem::path log = {}) : keep_log_(!log.empty()) {
    static int serial = 0;
    log_ = keep_log_ ? std::move(log)
                     : std::filesystem::temp_directory_path() /
                           ("sim-child-" + std::to_string(::getpid()) + "-" + std::to_string(++serial));
    const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd < 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, 1);
    posix_spawn_file_actions_adddup2(&actions, fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fd);
  }
  ~sim_process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (!keep_log_) {
      std::error_code ec;
      std::filesystem::remove(log_, ec);
    }
  }
  sim_process(const sim_process&) = delete;
  sim_process& operator=(const sim_process&) = delete;

  /// Everything written so far (standard output and error together).
  const std::string& output() {
    std::ifstream in(log_, std::ios::binary);
    output_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return output_;
  }
  /// The rest of the first output line holding `prefix` (searched from byte `from`), after it;
  /// nothing on timeout.
  std::optional<std::string> wait_for(const std::string& prefix,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(10),
                                      std::size_t from = 0) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      const std::string& o = output();
      if (const auto at = o.find(prefix, std::min(from, o.size())); at != std::string::npos) {
        const auto eol = o.find('\n', at);
        if (eol != std::string::npos) return o.substr(at + prefix.size(), eol - at - prefix.size());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::nullopt;
  }
  /// Exit status (128 + signal when killed), or -1 when it does not exit in time.
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        output();
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }
  /// Sends a signal (no effect once the process was reaped).
  void signal(int sig) {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);
  }
  /// SIGKILL and reap: the process is gone when this returns.
  void kill_now() {
    signal(SIGKILL);
    (void)wait_exit();
  }
  /// True when the process was started.
  bool started() const { return pid_ > 0; }
  /// The file its output goes to.
  const std::filesystem::path& log_path() const { return log_; }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
  bool keep_log_ = false;
  bool exited_ = false;
  std::string output_;
};

/// The port printed after `prefix` (e.g. "listening on 127.0.0.1:"), or 0 on timeout.
inline std::uint16_t port_of(sim_process& p, const std::string& prefix) {
  const auto rest = p.wait_for(prefix);
  if (!rest) return 0;
  return static_cast<std::uint16_t>(std::stoi(*rest));
}

/// A JSON file, or a discarded value when it is missing or malformed.
inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in, nullptr, false);
}

}  // namespace eft::test
