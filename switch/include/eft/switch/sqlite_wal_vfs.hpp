#pragma once
// An SQLite VFS over the default one that hands the kernel each commit's WAL frames in one write.
//
// SQLite writes a WAL frame with two calls, its 24-byte header and then its page, so a commit of
// 45 frames costs 90 pwrite calls. This layer keeps a write connection's WAL writes in a buffer
// while they are contiguous and writes the buffer out:
//  - right after the page of a commit frame (a frame header whose "database size" is not zero),
//    inside that xWrite, so a failed write fails the COMMIT like any other write error;
//  - before any other operation on the WAL file (read, sync, size, truncate, lock, close), before a
//    write that does not follow the buffer, and when the buffer reaches 4 MiB;
//  - at the database file's xShmBarrier: SQLite calls it before it publishes new frames in the
//    wal-index, so no reader (another connection, the checkpoint) is ever shown a frame that is not in
//    the file. If that last write fails, the process stops: the frames would be published missing.
// After each such write it asks the kernel to start writing those bytes to the disk
// (sync_file_range, SYNC_FILE_RANGE_WRITE, which does not wait): the checkpoint thread's sync of the
// WAL then has little left to write, and the writer's next appends do not wait behind it.
// It also extends the WAL file ahead of the appends, 16 MiB at a time (fallocate), so that no append
// grows the file: on ext4 a growing append waits for a lock that the file's writeback holds.
// The file format, locking and durability are SQLite's own: with synchronous=FULL the xSync that
// follows the commit writes the buffer first.

#include <cstdint>

struct sqlite3;

namespace eft::switch_core::detail {

/// The VFS's name, registered (not as the default) on first use; pass it to sqlite3_open_v2.
const char* wal_coalescing_vfs();

/// What the layer did in this process: WAL write calls received from SQLite, writes issued, and
/// disk writes started (sync_file_range calls) with the bytes they covered.
struct wal_write_counts {
  std::uint64_t received = 0;
  std::uint64_t received_bytes = 0;
  std::uint64_t issued = 0;
  std::uint64_t writebacks = 0;
  std::uint64_t writeback_bytes = 0;
};
wal_write_counts wal_write_totals();

/// The bytes (frame headers, pages, the WAL header) SQLite wrote to the WAL of connection `db` since
/// that connection opened its WAL, or 0 when `db` was not opened through this layer or its WAL is
/// not open. Call it on the thread that uses `db`.
std::uint64_t wal_bytes_written(sqlite3* db);

}  // namespace eft::switch_core::detail
