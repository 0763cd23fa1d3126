// The WAL-coalescing VFS: see sqlite_wal_vfs.hpp.
#include "eft/switch/sqlite_wal_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace eft::switch_core::detail {

namespace {

constexpr const char* vfs_name = "eft-wal-coalescing";
// SQLite's WAL layout (the documented file format): a 32-byte file header, then frames of a 24-byte
// header and a page. Bytes 4-7 of a frame header, big-endian, hold the database size in pages for
// the frame that commits a transaction, zero for the others.
constexpr int wal_header_size = 32;
constexpr int frame_header_size = 24;
constexpr std::size_t flush_at = 4U << 20U;
// The most handed to the base VFS in one call: the unix VFS writes less than 128 KiB per call (it
// masks larger sizes, and fails a write whose remainder is a multiple of 128 KiB).
constexpr std::size_t max_write = 124U << 10U;
// The WAL bytes whose disk write starts in one sync_file_range call. Once per commit cost the writer
// 6 % of the switch's CPU at 3,900 tps (small commits, each starting the writeback of ten pages).
constexpr sqlite3_int64 writeback_every = 128 << 10;
// The WAL file is extended ahead of the appends this much at a time (fallocate), so that an append
// never grows the file. On ext4 an append past the end updates the inode's size under a lock that
// ext4 also takes to map the blocks of that file's writeback: while a WAL was growing (after every
// start, until its first restart at about 135 MB), the writer blocked there 79-307 times in 4 s at
// 660 tps (in three runs of four; 0-7 times with the file preallocated).
constexpr sqlite3_int64 preallocate_chunk = 16 << 20;

std::atomic<std::uint64_t> received_writes{0};
std::atomic<std::uint64_t> received_bytes{0};
std::atomic<std::uint64_t> issued_writes{0};
std::atomic<std::uint64_t> writebacks{0};
std::atomic<std::uint64_t> writeback_bytes{0};

struct layer_file {
  sqlite3_file file;             // first: SQLite sees this
  sqlite3_file* real = nullptr;  // the base VFS's file, in the same allocation
  const char* name = nullptr;    // a main database: its name, the key it is registered under
  layer_file* wal = nullptr;     // a main database: its connection's WAL while that is open
  layer_file* db = nullptr;      // a WAL: its database
  bool is_wal = false;
  std::vector<unsigned char> pending;  // a WAL: the writes not issued yet ...
  sqlite3_int64 pending_at = 0;        // ... from this offset
  bool commit_page_next = false;       // a WAL: the last write was a commit frame's header
  std::uint64_t wal_bytes = 0;         // a WAL: the bytes SQLite wrote to it through this file
  int writeback_fd = -1;               // a WAL: a descriptor of its own for sync_file_range, or -1
  sqlite3_int64 writeback_from = 0;    // a WAL: the written bytes whose disk write is not started yet
  sqlite3_int64 writeback_to = 0;      // ... up to here (from == to: none)
  sqlite3_int64 allocated_to = 0;      // a WAL: the file's size, preallocated ahead of the appends
};

constexpr std::size_t real_offset = (sizeof(layer_file) + 15U) & ~std::size_t{15U};

layer_file* self(sqlite3_file* f) {
  return reinterpret_cast<layer_file*>(f);
}

// The main databases open through this VFS, by the name pointer SQLite gave xOpen: a WAL finds its
// database through sqlite3_filename_database(), which returns that same pointer.
std::mutex registry_mutex;
std::unordered_map<const char*, layer_file*>& registry() {
  static std::unordered_map<const char*, layer_file*> r;
  return r;
}

// Starts the disk write of the WAL bytes not started yet, without waiting for it.
void start_writeback(layer_file* w) {
  if (w->writeback_to > w->writeback_from) {
    (void)::sync_file_range(w->writeback_fd, w->writeback_from, w->writeback_to - w->writeback_from,
                            SYNC_FILE_RANGE_WRITE);
    writebacks.fetch_add(1, std::memory_order_relaxed);
    writeback_bytes.fetch_add(static_cast<std::uint64_t>(w->writeback_to - w->writeback_from),
                              std::memory_order_relaxed);
  }
  w->writeback_from = w->writeback_to;
}

// Extends the WAL file to the chunk past `end` when the appends would reach beyond it. Advisory: a
// file system without fallocate, or a failure (the write that follows reports a full disk), leaves
// the appends to grow the file as they would without this layer.
void preallocate(layer_file* w, sqlite3_int64 end) {
  if (end <= w->allocated_to) return;
  const sqlite3_int64 to = (end + preallocate_chunk - 1) / preallocate_chunk * preallocate_chunk;
  if (::fallocate(w->writeback_fd, 0, w->allocated_to, to - w->allocated_to) == 0) {
    w->allocated_to = to;
    return;
  }
  w->allocated_to = errno == EOPNOTSUPP || errno == ENOSYS ? std::numeric_limits<sqlite3_int64>::max() : end;
}

int flush(layer_file* w) {
  int rc = SQLITE_OK;
  std::size_t done = 0;
  if (w->writeback_fd >= 0 && !w->pending.empty()) {
    preallocate(w, w->pending_at + static_cast<sqlite3_int64>(w->pending.size()));
  }
  while (rc == SQLITE_OK && done < w->pending.size()) {
    const std::size_t n = std::min(w->pending.size() - done, max_write);
    rc = w->real->pMethods->xWrite(w->real, w->pending.data() + done, static_cast<int>(n),
                                   w->pending_at + static_cast<sqlite3_int64>(done));
    issued_writes.fetch_add(1, std::memory_order_relaxed);
    done += n;
  }
  // Start writing these bytes to the disk soon, without waiting: the checkpoint's sync of the WAL
  // then finds little left, and the writer's appends stop queueing behind a long sync. Started every
  // 128 KiB of appends (and when the appends jump, as on a WAL restart). Advisory: durability stays
  // SQLite's own syncs, so a failure here changes nothing.
  if (rc == SQLITE_OK && w->writeback_fd >= 0 && !w->pending.empty()) {
    const sqlite3_int64 end = w->pending_at + static_cast<sqlite3_int64>(w->pending.size());
    if (w->pending_at != w->writeback_to) {
      start_writeback(w);
      w->writeback_from = w->pending_at;
    }
    w->writeback_to = end;
    if (w->writeback_to - w->writeback_from >= writeback_every) start_writeback(w);
  }
  w->pending.clear();
  w->commit_page_next = false;
  return rc;
}

// --- the methods of every file: the base VFS's, with the WAL's pending writes issued first.

int x_close(sqlite3_file* f) {
  layer_file* l = self(f);
  int rc = flush(l);
  {
    const std::lock_guard lock(registry_mutex);
    if (l->db != nullptr) l->db->wal = nullptr;
    if (l->wal != nullptr) l->wal->db = nullptr;
    if (l->name != nullptr) {
      const auto it = registry().find(l->name);
      if (it != registry().end() && it->second == l) registry().erase(it);
    }
  }
  if (l->writeback_fd >= 0) ::close(l->writeback_fd);
  const int crc = l->real->pMethods->xClose(l->real);
  if (rc == SQLITE_OK) rc = crc;
  l->~layer_file();
  return rc;
}

int x_read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  return l->real->pMethods->xRead(l->real, p, n, off);
}

int x_write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off) {
  layer_file* l = self(f);
  if (!l->is_wal || n <= 0) return l->real->pMethods->xWrite(l->real, p, n, off);
  received_writes.fetch_add(1, std::memory_order_relaxed);
  received_bytes.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
  l->wal_bytes += static_cast<std::uint64_t>(n);
  if (!l->pending.empty() && off != l->pending_at + static_cast<sqlite3_int64>(l->pending.size())) {
    if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  }
  if (l->pending.empty()) l->pending_at = off;
  const auto* bytes = static_cast<const unsigned char*>(p);
  try {
    l->pending.insert(l->pending.end(), bytes, bytes + n);
  } catch (const std::bad_alloc&) {
    // Nothing of this write is kept: issue what was pending, then this write on its own.
    if (const int rc = flush(l); rc != SQLITE_OK) return rc;
    return l->real->pMethods->xWrite(l->real, p, n, off);
  }
  if (l->commit_page_next) return flush(l);  // the commit frame is complete
  if (n == frame_header_size && off >= wal_header_size) {
    l->commit_page_next = (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  }
  return l->pending.size() >= flush_at ? flush(l) : SQLITE_OK;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  if (l->is_wal) l->allocated_to = std::min(l->allocated_to, size);
  return l->real->pMethods->xTruncate(l->real, size);
}

int x_sync(sqlite3_file* f, int flags) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  return l->real->pMethods->xSync(l->real, flags);
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  return l->real->pMethods->xFileSize(l->real, size);
}

int x_lock(sqlite3_file* f, int level) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  return l->real->pMethods->xLock(l->real, level);
}

int x_unlock(sqlite3_file* f, int level) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  return l->real->pMethods->xUnlock(l->real, level);
}

int x_check_reserved_lock(sqlite3_file* f, int* out) {
  layer_file* l = self(f);
  return l->real->pMethods->xCheckReservedLock(l->real, out);
}

int x_file_control(sqlite3_file* f, int op, void* arg) {
  layer_file* l = self(f);
  if (const int rc = flush(l); rc != SQLITE_OK) return rc;
  return l->real->pMethods->xFileControl(l->real, op, arg);
}

int x_sector_size(sqlite3_file* f) {
  layer_file* l = self(f);
  return l->real->pMethods->xSectorSize(l->real);
}

int x_device_characteristics(sqlite3_file* f) {
  layer_file* l = self(f);
  return l->real->pMethods->xDeviceCharacteristics(l->real);
}

int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  layer_file* l = self(f);
  if (l->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return l->real->pMethods->xShmMap(l->real, region, size, extend, out);
}

int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  layer_file* l = self(f);
  if (l->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return l->real->pMethods->xShmLock(l->real, offset, n, flags);
}

// SQLite calls this before it makes new WAL frames visible in the wal-index: the frames must be in
// the file by then. A commit's frames were issued at the commit frame already (where a failure fails
// the COMMIT); what is still pending here cannot be refused any more, so a failure stops the process
// and SQLite's recovery, which checks every frame, decides at the next start.
void x_shm_barrier(sqlite3_file* f) {
  layer_file* l = self(f);
  if (l->wal != nullptr) {
    if (const int rc = flush(l->wal); rc != SQLITE_OK) {
      spdlog::critical("journal: a WAL write failed ({}) as SQLite published it; stopping the process",
                       sqlite3_errstr(rc));
      spdlog::shutdown();
      std::abort();
    }
  }
  if (l->real->pMethods->iVersion >= 2) l->real->pMethods->xShmBarrier(l->real);
}

int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  layer_file* l = self(f);
  if (l->real->pMethods->iVersion < 2) return SQLITE_OK;
  return l->real->pMethods->xShmUnmap(l->real, delete_flag);
}

int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** out) {
  layer_file* l = self(f);
  if (l->real->pMethods->iVersion < 3) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return l->real->pMethods->xFetch(l->real, off, n, out);
}

int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) {
  layer_file* l = self(f);
  if (l->real->pMethods->iVersion < 3) return SQLITE_OK;
  return l->real->pMethods->xUnfetch(l->real, off, p);
}

const sqlite3_io_methods layer_methods = {3,
                                          x_close,
                                          x_read,
                                          x_write,
                                          x_truncate,
                                          x_sync,
                                          x_file_size,
                                          x_lock,
                                          x_unlock,
                                          x_check_reserved_lock,
                                          x_file_control,
                                          x_sector_size,
                                          x_device_characteristics,
                                          x_shm_map,
                                          x_shm_lock,
                                          x_shm_barrier,
                                          x_shm_unmap,
                                          x_fetch,
                                          x_unfetch};

int x_open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* base = static_cast<sqlite3_vfs*>(vfs->pAppData);
  auto* l = new (f) layer_file();
  l->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + real_offset);
  std::memset(l->real, 0, static_cast<std::size_t>(base->szOsFile));
  const int rc = base->xOpen(base, name, l->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (l->real->pMethods != nullptr) l->real->pMethods->xClose(l->real);
    l->~layer_file();
    f->pMethods = nullptr;
    return rc;
  }
  f->pMethods = &layer_methods;
  l->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  // SQLite keeps no POSIX lock on a WAL file (its locks are on the database and the -shm file), so
  // a second descriptor, closed with the WAL, releases none of its locks. Writable: it preallocates.
  if (l->is_wal && name != nullptr && (flags & SQLITE_OPEN_READWRITE) != 0) {
    l->writeback_fd = ::open(name, O_RDWR | O_CLOEXEC);
    struct stat st {};
    if (l->writeback_fd >= 0 && ::fstat(l->writeback_fd, &st) == 0) l->allocated_to = st.st_size;
  }
  if (name == nullptr) return SQLITE_OK;
  const std::lock_guard lock(registry_mutex);
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0) {
    try {
      registry()[name] = l;
      l->name = name;
    } catch (const std::bad_alloc&) {
      l->real->pMethods->xClose(l->real);
      l->~layer_file();
      f->pMethods = nullptr;
      return SQLITE_NOMEM;
    }
  } else if (l->is_wal) {
    const auto it = registry().find(sqlite3_filename_database(name));
    if (it != registry().end()) {
      l->db = it->second;
      it->second->wal = l;
    }
  }
  return SQLITE_OK;
}

// The rest of the VFS is the base's.
int x_delete(sqlite3_vfs* v, const char* name, int sync) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xDelete(b, name, sync);
}
int x_access(sqlite3_vfs* v, const char* name, int flags, int* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xAccess(b, name, flags, out);
}
int x_full_pathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xFullPathname(b, name, n, out);
}
void* x_dl_open(sqlite3_vfs* v, const char* name) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xDlOpen(b, name);
}
void x_dl_error(sqlite3_vfs* v, int n, char* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  b->xDlError(b, n, out);
}
void (*x_dl_sym(sqlite3_vfs* v, void* h, const char* sym))() {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xDlSym(b, h, sym);
}
void x_dl_close(sqlite3_vfs* v, void* h) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  b->xDlClose(b, h);
}
int x_randomness(sqlite3_vfs* v, int n, char* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xRandomness(b, n, out);
}
int x_sleep(sqlite3_vfs* v, int us) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xSleep(b, us);
}
int x_current_time(sqlite3_vfs* v, double* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xCurrentTime(b, out);
}
int x_get_last_error(sqlite3_vfs* v, int n, char* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  return b->xGetLastError != nullptr ? b->xGetLastError(b, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs* v, sqlite3_int64* out) {
  auto* b = static_cast<sqlite3_vfs*>(v->pAppData);
  if (b->iVersion >= 2 && b->xCurrentTimeInt64 != nullptr) return b->xCurrentTimeInt64(b, out);
  double now = 0;
  const int rc = b->xCurrentTime(b, &now);
  *out = static_cast<sqlite3_int64>(now * 86400000.0);
  return rc;
}

sqlite3_vfs* make_vfs() {
  static sqlite3_vfs vfs{};
  sqlite3_vfs* base = sqlite3_vfs_find(nullptr);
  if (base == nullptr) return nullptr;
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(real_offset) + base->szOsFile;
  vfs.mxPathname = base->mxPathname;
  vfs.zName = vfs_name;
  vfs.pAppData = base;
  vfs.xOpen = x_open;
  vfs.xDelete = x_delete;
  vfs.xAccess = x_access;
  vfs.xFullPathname = x_full_pathname;
  vfs.xDlOpen = x_dl_open;
  vfs.xDlError = x_dl_error;
  vfs.xDlSym = x_dl_sym;
  vfs.xDlClose = x_dl_close;
  vfs.xRandomness = x_randomness;
  vfs.xSleep = x_sleep;
  vfs.xCurrentTime = x_current_time;
  vfs.xGetLastError = x_get_last_error;
  vfs.xCurrentTimeInt64 = x_current_time_int64;
  return sqlite3_vfs_register(&vfs, 0) == SQLITE_OK ? &vfs : nullptr;
}

}  // namespace

const char* wal_coalescing_vfs() {
  static sqlite3_vfs* const vfs = make_vfs();
  return vfs != nullptr ? vfs_name : nullptr;
}

wal_write_counts wal_write_totals() {
  return {received_writes.load(std::memory_order_relaxed), received_bytes.load(std::memory_order_relaxed),
          issued_writes.load(std::memory_order_relaxed), writebacks.load(std::memory_order_relaxed),
          writeback_bytes.load(std::memory_order_relaxed)};
}

std::uint64_t wal_bytes_written(sqlite3* db) {
  sqlite3_file* f = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || f == nullptr ||
      f->pMethods != &layer_methods) {
    return 0;
  }
  const std::lock_guard lock(registry_mutex);
  const layer_file* wal = self(f)->wal;
  return wal != nullptr ? wal->wal_bytes : 0;
}

}  // namespace eft::switch_core::detail
