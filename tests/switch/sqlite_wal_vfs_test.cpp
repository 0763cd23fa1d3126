// The WAL-coalescing VFS under SQLite itself: a commit's frames reach the file in as few writes as
// the unix VFS takes, the database reads back whole through SQLite's own VFS, and a write that fails
// fails its COMMIT while earlier commits stay.
#include "eft/switch/sqlite_wal_vfs.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <random>
#include <string>

namespace eft::switch_core {
namespace {

namespace fs = std::filesystem;

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(detail::wal_coalescing_vfs(), nullptr);
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("eft-wal-vfs-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    fs::create_directories(dir_);
    path_ = dir_ / "t.db";
  }
  void TearDown() override {
    if (db_ != nullptr) sqlite3_close_v2(db_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // A connection through the layer, in WAL mode, with one table and one row committed; the WAL
  // hook keeps the WAL's frame count after each commit.
  void open_layered(const char* synchronous = "NORMAL") {
    ASSERT_EQ(
        sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, detail::wal_coalescing_vfs()),
        SQLITE_OK);
    sqlite3_extended_result_codes(db_, 1);
    // Before the hook: the pragma sets a hook of its own.
    const std::string pragmas =
        std::string("PRAGMA journal_mode=WAL; PRAGMA synchronous=") + synchronous + "; PRAGMA wal_autocheckpoint=0";
    ASSERT_EQ(exec(pragmas.c_str()), SQLITE_OK);
    sqlite3_wal_hook(
        db_,
        [](void* frames, sqlite3*, const char*, int n) {
          *static_cast<int*>(frames) = n;
          return SQLITE_OK;
        },
        &wal_frames_);
    ASSERT_EQ(exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB); INSERT INTO t (v) VALUES (zeroblob(10))"),
              SQLITE_OK);
  }
  int exec(const char* sql) const { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
  // `rows` rows of 200 random bytes in one transaction: about 20 rows a page.
  int insert(int rows) const {
    if (exec("BEGIN") != SQLITE_OK) return SQLITE_ERROR;
    for (int i = 0; i < rows; ++i) {
      if (const int rc = exec("INSERT INTO t (v) VALUES (randomblob(200))"); rc != SQLITE_OK) {
        (void)exec("ROLLBACK");
        return rc;
      }
    }
    const int rc = exec("COMMIT");
    if (rc != SQLITE_OK) (void)exec("ROLLBACK");
    return rc;
  }
  // Rows and integrity read through SQLite's own VFS, on a connection of its own.
  std::pair<std::int64_t, std::string> read_back() const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    std::int64_t rows = -1;
    std::string check;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM t", -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      rows = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
      check = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    sqlite3_close_v2(db);
    return {rows, check};
  }

  fs::path dir_;
  fs::path path_;
  sqlite3* db_ = nullptr;
  int wal_frames_ = 0;
};

TEST_F(WalVfsTest, ACommitsFramesReachTheFileInAsFewWritesAsTheBaseVfsTakes) {
  open_layered();
  const int frames_before = wal_frames_;
  const auto before = detail::wal_write_totals();
  ASSERT_EQ(insert(600), SQLITE_OK);
  const auto after = detail::wal_write_totals();
  const int frames = wal_frames_ - frames_before;
  ASSERT_GT(frames, 5) << "600 rows of 200 bytes fill several pages";
  // SQLite writes each frame as two calls, its header and its page.
  EXPECT_EQ(after.received - before.received, 2U * static_cast<std::uint64_t>(frames));
  // They reach the file in calls of at most 124 KiB (each frame is 24 + 4096 bytes).
  const std::uint64_t bytes = static_cast<std::uint64_t>(frames) * (24U + 4096U);
  EXPECT_EQ(after.issued - before.issued, (bytes + (124U << 10U) - 1U) / (124U << 10U));
  sqlite3_close_v2(db_);
  db_ = nullptr;
  const auto [rows, check] = read_back();
  EXPECT_EQ(rows, 601);
  EXPECT_EQ(check, "ok");
}

TEST_F(WalVfsTest, CountsTheBytesSqliteWroteToEachConnectionsWal) {
  open_layered();
  // SQLite's own count: a 32-byte WAL header, then each frame's 24-byte header and page.
  const auto wal_bytes = [](int frames) { return 32U + static_cast<std::uint64_t>(frames) * (24U + 4096U); };
  ASSERT_GT(wal_frames_, 0);
  EXPECT_EQ(detail::wal_bytes_written(db_), wal_bytes(wal_frames_));
  ASSERT_EQ(insert(300), SQLITE_OK);
  EXPECT_EQ(detail::wal_bytes_written(db_), wal_bytes(wal_frames_));
  // The WAL restarts from its beginning: the count goes on.
  const std::uint64_t before_restart = detail::wal_bytes_written(db_);
  ASSERT_EQ(exec("PRAGMA wal_checkpoint(TRUNCATE)"), SQLITE_OK);
  ASSERT_EQ(insert(50), SQLITE_OK);
  EXPECT_EQ(detail::wal_bytes_written(db_) - before_restart, wal_bytes(wal_frames_));
  // A connection through SQLite's own VFS is not counted.
  sqlite3* plain = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &plain, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(plain, "INSERT INTO t (v) VALUES (randomblob(200))", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(detail::wal_bytes_written(plain), 0U);
  sqlite3_close_v2(plain);
}

// Descriptors of this process open on `file` (from /proc/self/fd), and all of them.
std::pair<int, int> open_descriptors(const fs::path& file) {
  int on_file = 0;
  int all = 0;
  const auto target = fs::weakly_canonical(file);
  for (const auto& e : fs::directory_iterator("/proc/self/fd")) {
    ++all;
    std::error_code ec;
    const auto link = fs::read_symlink(e.path(), ec);
    if (!ec && link == target) ++on_file;
  }
  return {on_file, all};
}

// The layer asks the kernel to write the WAL's bytes out early through a descriptor of its own:
// there while the WAL is open (beside SQLite's), closed with it, never leaked.
TEST_F(WalVfsTest, TheWritebackDescriptorLivesAndDiesWithTheWal) {
  const fs::path wal = path_.string() + "-wal";
  const int before = open_descriptors(wal).second;
  for (int round = 0; round < 20; ++round) {
    ASSERT_EQ(
        sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, detail::wal_coalescing_vfs()),
        SQLITE_OK);
    ASSERT_EQ(exec("PRAGMA journal_mode=WAL; CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)"),
              SQLITE_OK);
    ASSERT_EQ(insert(50), SQLITE_OK);
    EXPECT_EQ(open_descriptors(wal).first, 2) << "SQLite's and the layer's";
    sqlite3_close_v2(db_);
    db_ = nullptr;
    EXPECT_EQ(open_descriptors(wal).first, 0);
  }
  EXPECT_EQ(open_descriptors(wal).second, before);
  const auto [rows, check] = read_back();
  EXPECT_EQ(rows, 20 * 50);
  EXPECT_EQ(check, "ok");
}

// Small commits (a page or two each, as the switch's are at moderate rates) start their disk writes
// in runs of 128 KiB of WAL, not one call per commit, and every run starts where the last ended.
TEST_F(WalVfsTest, SmallCommitsStartTheirDiskWritesInRunsOf128KiB) {
  open_layered();
  const int frames_before = wal_frames_;
  const auto before = detail::wal_write_totals();
  constexpr int commits = 400;
  for (int i = 0; i < commits; ++i) ASSERT_EQ(insert(1), SQLITE_OK);
  const auto after = detail::wal_write_totals();
  const std::uint64_t bytes = static_cast<std::uint64_t>(wal_frames_ - frames_before) * (24U + 4096U);
  const std::uint64_t runs = after.writebacks - before.writebacks;
  const std::uint64_t covered = after.writeback_bytes - before.writeback_bytes;
  ASSERT_GT(bytes, 8U * (128U << 10U)) << "enough WAL for several runs";
  EXPECT_GE(runs, bytes / (128U << 10U) - 1U);
  EXPECT_LE(runs, bytes / (128U << 10U));
  EXPECT_GE(covered, runs * (128U << 10U)) << "each run covers at least 128 KiB";
  EXPECT_LE(covered, bytes) << "no byte is started twice";
  EXPECT_GT(covered + (128U << 10U), bytes) << "at most one run's worth waits";
}

// The WAL file is extended ahead of the appends, 16 MiB at a time, with blocks allocated (not a
// sparse file), and SQLite's own recovery reads such a WAL back whole: it stops at the first frame
// that is not valid, as it does at the end of a WAL that was restarted.
TEST_F(WalVfsTest, TheWalIsPreallocatedAheadOfItsAppendsAndRecoversWhole) {
  open_layered();
  const fs::path wal = path_.string() + "-wal";
  const auto used = [this] { return static_cast<std::uintmax_t>(32 + wal_frames_ * (24 + 4096)); };
  struct stat st {};
  ASSERT_EQ(::stat(wal.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 16 << 20) << "the first chunk, past " << used() << " bytes of frames";
  EXPECT_GE(static_cast<std::uintmax_t>(st.st_blocks) * 512U, 16U << 20U) << "allocated, not sparse";
  // Past the first chunk: the next one.
  while (used() <= (16U << 20U)) ASSERT_EQ(insert(2000), SQLITE_OK);
  ASSERT_EQ(::stat(wal.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 32 << 20);
  // A copy of the files as a crash would leave them (the writer's connection still open, no
  // checkpoint): SQLite's own VFS recovers every committed row from the preallocated WAL.
  const fs::path copy = dir_ / "copy.db";
  fs::copy_file(path_, copy);
  fs::copy_file(wal, copy.string() + "-wal");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(copy.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  std::int64_t rows = -1;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM t", -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
    rows = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close_v2(db);
  EXPECT_EQ(rows, read_back().first);
  EXPECT_GT(rows, 2000);
  EXPECT_EQ(read_back().second, "ok");
}

TEST_F(WalVfsTest, ReadersOnOtherConnectionsSeeEachCommitWhole) {
  open_layered();
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(insert(100 * i), SQLITE_OK);
    const auto [rows, check] = read_back();  // while the writer's connection stays open
    EXPECT_EQ(rows, 1 + 50 * i * (i + 1));
    EXPECT_EQ(check, "ok");
  }
}

// The journal's power_loss durability: SQLite syncs the WAL at each commit, after its frames.
TEST_F(WalVfsTest, WithSynchronousFullEachCommitIsWrittenBeforeItsSyncAndReadsBackWhole) {
  open_layered("FULL");
  for (int i = 1; i <= 3; ++i) {
    const auto before = detail::wal_write_totals();
    ASSERT_EQ(insert(300), SQLITE_OK);
    const auto after = detail::wal_write_totals();
    EXPECT_LT(after.issued - before.issued, (after.received - before.received) / 4);
    const auto [rows, check] = read_back();
    EXPECT_EQ(rows, 1 + 300 * i);
    EXPECT_EQ(check, "ok");
  }
}

TEST_F(WalVfsTest, AFailedWriteFailsItsCommitAndEarlierCommitsStay) {
  open_layered();
  ASSERT_EQ(insert(50), SQLITE_OK);
  // The WAL may take one page's frame more, then writes fail (EFBIG, the signal ignored). The limit
  // is on where a write lands, so it holds inside the file's preallocated part too.
  const auto wal_size = static_cast<std::uint64_t>(32 + wal_frames_ * (24 + 4096));
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = static_cast<rlim_t>(wal_size + 4120U);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const int rc = insert(600);
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_NE(rc, SQLITE_OK) << "the commit that could not be written must fail";
  sqlite3_close_v2(db_);
  db_ = nullptr;
  const auto [rows, check] = read_back();
  EXPECT_EQ(rows, 51) << "the earlier commits, not the failed one";
  EXPECT_EQ(check, "ok");
}

}  // namespace
}  // namespace eft::switch_core
