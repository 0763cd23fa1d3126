#pragma once
// A throw-away PostgreSQL server for tests and benchmarks: initdb in a temporary folder, postgres
// listening on 127.0.0.1 on a free port (and on a unix socket in that folder), stopped and removed
// when the object goes. The server refuses to run as root: as root it runs as the `postgres` system
// user of the Debian package (or `nobody`) through runuser. A watchdog child stops the server and
// removes the folder even when the process that started it dies without unwinding (a crash, abort).

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace eft::test {

class pg_server {
 public:
  /// The folder of initdb, pg_ctl and pg_dump (the newest installed major version), or nullopt.
  static std::optional<std::filesystem::path> bin_dir() {
    std::optional<std::filesystem::path> best;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const auto bin = e.path() / "bin";
      if (std::filesystem::exists(bin / "initdb") && std::filesystem::exists(bin / "pg_ctl") &&
          (!best || bin.string() > best->string())) {
        best = bin;
      }
    }
    return best;
  }

  /// Why no server can be started here (binaries absent), or an empty string.
  static std::string unavailable() {
    return bin_dir() ? std::string()
                     : "PostgreSQL server binaries are not installed (/usr/lib/postgresql/*/bin/initdb): "
                       "install the Debian package postgresql (scripts/setup.sh does)";
  }

  /// Starts a server; `fsync` off makes a test server faster (its durability is not under test).
  /// Throws std::runtime_error with the server's log when it cannot start.
  explicit pg_server(bool fsync = false) : fsync_(fsync) {
    const auto bin = bin_dir();
    if (!bin) throw std::runtime_error(unavailable());
    bin_ = *bin;
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() /
           ("eft-pg-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000));
    std::filesystem::create_directories(dir_);
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) pw = ::getpwnam("nobody");
      if (pw == nullptr) throw std::runtime_error("running as root and no postgres or nobody user to run the server");
      user_ = pw->pw_name;
      if (::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("cannot chown " + dir_.string());
    }
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
    start_watchdog();
    if (run_as_owner({(bin_ / "initdb").string(), "-D", data().string(), "-U", "eft", "--auth=trust", "-E", "UTF8",
                      "--no-sync", "--no-instructions"},
                     dir_ / "initdb.log") != 0) {
      const std::string log = read(dir_ / "initdb.log");
      shut_down();
      throw std::runtime_error("initdb failed: " + log);
    }
    for (int attempt = 0;; ++attempt) {
      port_ = free_port();
      if (start_server()) break;
      if (attempt == 2) {
        const std::string log = read(dir_ / "server.log");
        shut_down();
        throw std::runtime_error("the PostgreSQL server did not start: " + log);
      }
    }
  }

  ~pg_server() { shut_down(); }
  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;

  /// A libpq connection string to database `db` over TCP on loopback.
  std::string conninfo(const std::string& db = "postgres") const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=eft dbname=" + db + " connect_timeout=2";
  }

  /// Stops the server (fast shutdown: open connections are cut); `immediate` skips the checkpoint.
  void stop(bool immediate = false) {
    if (!running_) return;
    (void)run_as_owner({(bin_ / "pg_ctl").string(), "-D", data().string(), "-m", immediate ? "immediate" : "fast", "-w",
                        "-t", "30", "stop"},
                       dir_ / "pg_ctl.log");
    running_ = false;
  }

  /// Starts it again on the same port. False when it did not come up.
  bool start() { return running_ || start_server(); }

  /// The output of pg_dump of database `db` (schema and data, plain SQL).
  std::string dump(const std::string& db = "postgres") const {
    const auto out = dir_ / "dump.sql";
    const auto bin = bin_ / "pg_dump";
    if (!std::filesystem::exists(bin)) return {};
    (void)run({bin.string(), "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "eft", "-d", db}, out);
    return read(out);
  }

  /// The first column of the first row of `sql` ("" when none), read on a connection of its own;
  /// `ok` (when given) says whether the statement ran.
  std::string scalar(const std::string& sql, bool* ok = nullptr, const std::string& db = "postgres") const {
    PGconn* c = PQconnectdb(conninfo(db).c_str());
    std::string out;
    bool ran = false;
    if (PQstatus(c) == CONNECTION_OK) {
      PGresult* r = PQexec(c, sql.c_str());
      const auto st = PQresultStatus(r);
      ran = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
      if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) out = PQgetvalue(r, 0, 0);
      PQclear(r);
    }
    PQfinish(c);
    if (ok != nullptr) *ok = ran;
    return out;
  }

  /// Runs one command (argv[0] a path), its output to `log`; the exit status (-1: not run).
  static int run(const std::vector<std::string>& args, const std::filesystem::path& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return -1;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::filesystem::path data() const { return dir_ / "data"; }

  void shut_down() {
    stop(true);
    remove();
    if (watchdog_ > 0) {
      ::close(watchdog_pipe_);  // the watchdog wakes, finds nothing left to do and exits
      ::waitpid(watchdog_, nullptr, 0);
      watchdog_ = -1;
    }
  }

  int run_as_owner(std::vector<std::string> args, const std::filesystem::path& log) const {
    if (!user_.empty()) args.insert(args.begin(), {"/usr/sbin/runuser", "-u", user_, "--"});
    return run(args, log);
  }

  // A child that waits for the end of the pipe (this process gone, however) and then stops the
  // server and removes the folder. Between fork and exec it only reads and closes (async-signal-safe).
  void start_watchdog() {
    std::string pg_ctl = (bin_ / "pg_ctl").string() + " -D " + data().string() + " -m immediate -w stop";
    if (!user_.empty()) pg_ctl = "/usr/sbin/runuser -u " + user_ + " -- " + pg_ctl;
    std::string script = pg_ctl + " >/dev/null 2>&1; rm -rf " + dir_.string();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    const char* argv[] = {"/bin/sh", "-c", script.c_str(), nullptr};
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[1]);
      char c = 0;
      while (::read(fds[0], &c, 1) != 0) {
      }
      ::execv("/bin/sh", const_cast<char* const*>(argv));
      ::_exit(127);
    }
    ::close(fds[0]);
    if (pid < 0) {
      ::close(fds[1]);
      return;
    }
    watchdog_ = pid;
    watchdog_pipe_ = fds[1];
  }

  bool start_server() {
    std::string opts = "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.string() +
                       " -c max_connections=40 -c shared_buffers=32MB";
    if (!fsync_) opts += " -c fsync=off -c full_page_writes=off";
    running_ = run_as_owner({(bin_ / "pg_ctl").string(), "-D", data().string(), "-l", (dir_ / "server.log").string(),
                             "-o", opts, "-w", "-t", "30", "start"},
                            dir_ / "pg_ctl.log") == 0;
    return running_;
  }

  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  void remove() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  bool fsync_;
  std::filesystem::path bin_;
  std::filesystem::path dir_;
  std::string user_;
  int port_ = 0;
  bool running_ = false;
  pid_t watchdog_ = -1;
  int watchdog_pipe_ = -1;
};

}  // namespace eft::test
