#pragma once
// A child process for tests that run the real eftswitch: stdout and stderr captured through a pipe,
// lines awaited with a timeout, and the process always killed (SIGKILL) when the object goes.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"

extern char** environ;

namespace eft::test {

using namespace std::chrono_literals;

class child_process {
 public:
  explicit child_process(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
    ::fcntl(out_, F_SETFL, ::fcntl(out_, F_GETFL) | O_NONBLOCK);
  }
  ~child_process() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  /// Output so far (stdout and stderr together).
  const std::string& output() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return output_;
  }
  /// Waits until a line of the output holds every one of `parts` in order; the text after the last
  /// part up to the end of that line, or nothing.
  std::optional<std::string> wait_for(const std::vector<std::string>& parts,
                                      std::chrono::milliseconds timeout = 10000ms) {
    std::optional<std::string> found;
    wait_until(
        [&] {
          const std::string& o = output();
          std::size_t line_start = 0;
          while (line_start < o.size()) {
            std::size_t line_end = o.find('\n', line_start);
            if (line_end == std::string::npos) return false;  // an incomplete line: wait for the rest
            const std::string line = o.substr(line_start, line_end - line_start);
            std::size_t at = 0;
            bool all = true;
            for (const auto& p : parts) {
              at = line.find(p, at);
              if (at == std::string::npos) {
                all = false;
                break;
              }
              at += p.size();
            }
            if (all) {
              found = line.substr(at);
              return true;
            }
            line_start = line_end + 1;
          }
          return false;
        },
        timeout);
    return found;
  }
  /// Exit status, or -1 when it does not exit in time.
  int wait_exit(std::chrono::milliseconds timeout = 10000ms) {
    int status = 0;
    const bool done = wait_until([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!done) return -1;
    exited_ = true;
    output();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void signal(int sig) { ::kill(pid_, sig); }
  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  bool exited_ = false;
  std::string output_;
};

}  // namespace eft::test
