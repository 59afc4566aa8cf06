#include "impl/file_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace mq::impl {
namespace {

constexpr const char* kLockName = "LOCK";
// Bound on retries of a write or read interrupted by a signal or cut short.
constexpr int kMaxIoRounds = 1 << 20;

Status errno_status(const std::string& what, const std::string& path, int err) {
  return io_error(what + " '" + path + "': " + std::strerror(err));
}

}  // namespace

Result<std::unique_ptr<FileStorage>> FileStorage::open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return errno_status("mkdir", dir, errno);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return errno_status("open directory", dir, errno);
  const std::string lock_path = dir + "/" + kLockName;
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    const int err = errno;
    ::close(dir_fd);
    return errno_status("open", lock_path, err);
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(lock_fd);
    ::close(dir_fd);
    if (err == EWOULDBLOCK) {
      return failed_precondition("data directory '" + dir + "' is locked by another broker");
    }
    return errno_status("flock", lock_path, err);
  }
  return std::unique_ptr<FileStorage>(new FileStorage(dir, dir_fd, lock_fd));
}

FileStorage::~FileStorage() {
  for (auto& [name, o] : open_) ::close(o.fd);
  ::close(lock_fd_);  // releases the flock
  ::close(dir_fd_);
}

Result<int> FileStorage::writer(const std::string& name) {
  MQ_CHECK(name.find('/') == std::string::npos && name != kLockName);
  auto it = open_.find(name);
  if (it != open_.end()) return it->second.fd;
  const std::string p = path(name);
  struct stat st {};
  const bool existed = ::stat(p.c_str(), &st) == 0;
  const int fd = ::open(p.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("open", p, errno);
  open_[name] = Open{fd, !existed};
  return fd;
}

Status FileStorage::append(const std::string& name, std::string_view data) {
  auto fd = writer(name);
  if (!fd.ok()) return fd.status();
  for (int round = 0; !data.empty(); ++round) {
    MQ_CHECK(round < kMaxIoRounds);
    const ssize_t n = ::write(*fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status("append to", path(name), errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status();
}

Status FileStorage::sync(const std::string& name) {
  auto it = open_.find(name);
  if (it == open_.end()) {
    // Nothing appended through this object: the bytes were made durable before.
    if (::access(path(name).c_str(), F_OK) != 0) return not_found("sync: no file '" + path(name) + "'");
    return Status();
  }
  if (::fdatasync(it->second.fd) != 0) return errno_status("fdatasync", path(name), errno);
  if (it->second.created) {
    if (::fsync(dir_fd_) != 0) return errno_status("fsync directory", dir_, errno);
    it->second.created = false;
  }
  return Status();
}

Result<std::string> FileStorage::read(const std::string& name) {
  const std::string p = path(name);
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found("read: no file '" + p + "'");
    return errno_status("open", p, errno);
  }
  std::string out;
  char buf[1 << 16];
  for (int round = 0;; ++round) {
    MQ_CHECK(round < kMaxIoRounds);
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return errno_status("read", p, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Result<std::vector<std::string>> FileStorage::list() {
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return errno_status("opendir", dir_, errno);
  std::vector<std::string> names;
  for (int round = 0;; ++round) {
    MQ_CHECK(round < kMaxIoRounds);
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    const std::string name = e->d_name;
    if (name == "." || name == ".." || name == kLockName) continue;
    names.push_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

Status FileStorage::remove(const std::string& name) {
  auto it = open_.find(name);
  if (it != open_.end()) {
    ::close(it->second.fd);
    open_.erase(it);
  }
  const std::string p = path(name);
  if (::unlink(p.c_str()) != 0) {
    if (errno == ENOENT) return not_found("remove: no file '" + p + "'");
    return errno_status("unlink", p, errno);
  }
  if (::fsync(dir_fd_) != 0) return errno_status("fsync directory", dir_, errno);
  return Status();
}

}  // namespace mq::impl
