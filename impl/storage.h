#pragma once
// Storage: the few file operations the write-ahead log needs, behind an interface
// so that the simulator and the tests can substitute a disk that loses unsynced
// bytes, tears a write or runs out of space (MemStorage), while production uses
// POSIX files with fsync (FileStorage).
//
// Files are flat names within one directory (no slashes). Durability contract:
// bytes appended to a file survive a crash only once sync(name) has returned ok
// after the append; a file created by append exists after a crash only once synced;
// remove() is durable when it returns.
//
// Errors: kNotFound (read, sync or remove of a missing file), kIoError (the disk
// refused: ENOSPC, EIO; the message names the file and the errno text). After a
// failed append, a prefix of the bytes may have been written.
// Thread-safety: implementations are not thread-safe; the caller serializes.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mq::impl {

class Storage {
 public:
  virtual ~Storage() = default;
  // Appends data at the end of `name`, creating it if missing.
  virtual Status append(const std::string& name, std::string_view data) = 0;
  // Makes every byte appended to `name` so far (and its existence) durable.
  virtual Status sync(const std::string& name) = 0;
  // The whole content of `name`.
  virtual Result<std::string> read(const std::string& name) = 0;
  // Every file, sorted by name.
  virtual Result<std::vector<std::string>> list() = 0;
  virtual Status remove(const std::string& name) = 0;
};

}  // namespace mq::impl
