#pragma once
// FileStorage: Storage over POSIX files in one data directory. sync() is fdatasync
// on the file, plus fsync on the directory when the file was created since its
// last sync (so that the file's name survives a crash too); remove() unlinks and
// fsyncs the directory.
//
// The directory is locked with flock(LOCK_EX | LOCK_NB) on its file "LOCK" for the
// lifetime of the object, so two brokers (two processes, or two FileStorage objects
// in one process) cannot open it at once. "LOCK" is not listed by list().
// Thread-safety: none (the broker's commit thread is its only user).

#include <map>
#include <memory>
#include <string>

#include "impl/storage.h"

namespace mq::impl {

class FileStorage final : public Storage {
 public:
  // Creates the directory if missing (not its parents) and locks it.
  // Errors: kFailedPrecondition if another holder has the lock; kIoError otherwise.
  static Result<std::unique_ptr<FileStorage>> open(const std::string& dir);
  ~FileStorage() override;
  FileStorage(const FileStorage&) = delete;
  FileStorage& operator=(const FileStorage&) = delete;

  Status append(const std::string& name, std::string_view data) override;
  Status sync(const std::string& name) override;
  Result<std::string> read(const std::string& name) override;
  Result<std::vector<std::string>> list() override;
  Status remove(const std::string& name) override;

  const std::string& dir() const { return dir_; }

 private:
  FileStorage(std::string dir, int dir_fd, int lock_fd) : dir_(std::move(dir)), dir_fd_(dir_fd), lock_fd_(lock_fd) {}
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  Result<int> writer(const std::string& name);

  struct Open {
    int fd = -1;
    bool created = false;  // since the last sync: the directory needs an fsync too
  };
  std::string dir_;
  int dir_fd_ = -1;
  int lock_fd_ = -1;
  std::map<std::string, Open> open_;
};

}  // namespace mq::impl
