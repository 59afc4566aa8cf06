#pragma once
// PendingWrites: the un-synced state of one file of the power-loss file system
// (live/powerfs_main.cc). The synced content is the backing file; what was written
// or truncated since the last fsync lives here, in memory, and is either applied to
// the backing file by an fsync or forgotten by a power loss.
//
// State: the logical size; `backing_valid`, the prefix of the backing file that is
// still the file's content (a truncate since the last sync lowers it: bytes past it
// read as zeros unless rewritten); and the written extents, non-overlapping, keyed
// by offset. A write that starts where an extent ends extends that extent, so an
// append-only log costs one extent per sync interval.
//
// Thread-safety: none; the file system guards its map of PendingWrites with a mutex.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace mq::live {

class PendingWrites {
 public:
  // `backing_size`: the backing file's size when the first un-synced change came.
  explicit PendingWrites(off_t backing_size) : size_(backing_size), backing_valid_(backing_size) {}

  void write(off_t offset, std::string_view data);
  void truncate(off_t size);
  off_t size() const { return size_; }
  // The bytes pending, for the control file's report.
  uint64_t bytes() const;

  // Fills buf[0, len) with the file's content at `offset`, given a reader of the
  // backing file (which returns bytes read, short at its end). Returns the bytes
  // the file has there (short at the logical end).
  using BackingReader = std::function<ssize_t(char* buf, size_t len, off_t offset)>;
  ssize_t read(char* buf, size_t len, off_t offset, const BackingReader& backing) const;

  // Applies the pending state to the backing file through these callbacks, in the
  // order that leaves it equal to the logical content: truncate to backing_valid,
  // write every extent, truncate to the logical size. The first error stops it.
  struct BackingWriter {
    std::function<int(off_t size)> truncate;                               // 0 or -errno
    std::function<int(const char* buf, size_t len, off_t offset)> pwrite;  // 0 or -errno
  };
  int apply(const BackingWriter& writer) const;

 private:
  off_t size_;
  off_t backing_valid_;
  std::map<off_t, std::string> extents_;  // offset -> bytes; non-overlapping
};

}  // namespace mq::live
