// mq-powerfs: a FUSE file system on libfuse3 that forgets, when told to, every write
// not yet fsynced: the power-loss fault of live runs (the idea of LazyFS, written
// here on libfuse3). Usage:
//
//   mq-powerfs BACKING_DIR MOUNTPOINT
//
// It runs in the foreground until unmounted (fusermount3 -u MOUNTPOINT) or killed
// (auto_unmount then removes the mount). The control file MOUNTPOINT/.powerfs takes
// one command per write: "drop" forgets every un-synced write (what a power cut
// does); reading it gives "files N bytes M drops D syncs S" (files and bytes not yet
// synced, drops and file syncs so far).
//
// Semantics (docs/live.md, tested in tests/live_powerfs_test.cc):
//  - file data and sizes (write, truncate, open with O_TRUNC) are durable only once
//    an fsync or fdatasync of that file returned; until then they live in this
//    process's memory (live/pending_writes.h), visible to every reader;
//  - metadata (create, mkdir, rename, unlink, link, symlink, chmod, utimens) is
//    durable when the call returns (as LazyFS by default): a file created and never
//    synced survives a drop with its synced size, 0; a file renamed before its data
//    was synced keeps the new name and loses the data;
//  - fsync of a directory is accepted and adds nothing (its entries are durable);
//  - files are served with direct_io and no attribute caching, so the kernel's page
//    cache never hides a drop; shared writable mmap is therefore not supported.
#define FUSE_USE_VERSION 35
#include <dirent.h>
#include <fcntl.h>
#include <fuse.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "live/pending_writes.h"

namespace {

using mq::live::PendingWrites;
using Key = std::pair<dev_t, ino_t>;

constexpr const char* kControlPath = "/.powerfs";

struct Handle {
  int fd = -1;
  int flags = 0;
  Key key{};
  bool control = false;
};

std::string g_backing;
std::mutex g_mu;  // guards everything below
std::map<Key, PendingWrites> g_pending;
uint64_t g_drops = 0;
uint64_t g_syncs = 0;

std::string real(const char* path) {
  return g_backing + path;
}
Handle* handle(fuse_file_info* fi) {
  return reinterpret_cast<Handle*>(fi->fh);
}
Key key_of(const struct stat& st) {
  return {st.st_dev, st.st_ino};
}

std::string control_text() {
  uint64_t bytes = 0;
  for (const auto& [k, p] : g_pending) bytes += p.bytes();
  return "files " + std::to_string(g_pending.size()) + " bytes " + std::to_string(bytes) + " drops " +
         std::to_string(g_drops) + " syncs " + std::to_string(g_syncs) + "\n";
}

// Applies a file's pending state to its backing file and fsyncs it. REQUIRES: g_mu held.
int sync_key(const Key& key, int fd) {
  auto it = g_pending.find(key);
  if (it != g_pending.end()) {
    // The handle may be read-only (an fsync on a read-only fd is allowed): reopen.
    int wfd = ::open(("/proc/self/fd/" + std::to_string(fd)).c_str(), O_WRONLY | O_CLOEXEC);
    if (wfd < 0) return -errno;
    PendingWrites::BackingWriter w{[&](off_t size) { return ::ftruncate(wfd, size) == 0 ? 0 : -errno; },
                                   [&](const char* buf, size_t len, off_t off) {
                                     for (size_t done = 0; done < len;) {
                                       const ssize_t n = ::pwrite(wfd, buf + done, len - done,
                                                                  off + static_cast<off_t>(done));
                                       if (n < 0) return -errno;
                                       done += static_cast<size_t>(n);
                                     }
                                     return 0;
                                   }};
    const int rc = it->second.apply(w);
    if (rc == 0 && ::fsync(wfd) != 0) {
      const int err = errno;
      ::close(wfd);
      return -err;
    }
    ::close(wfd);
    if (rc != 0) return rc;
    g_pending.erase(it);
  } else if (::fsync(fd) != 0) {
    return -errno;
  }
  ++g_syncs;
  return 0;
}

// The pending state of a file, made on its first un-synced change. REQUIRES: g_mu held.
PendingWrites& pending_for(const Key& key, int fd) {
  auto it = g_pending.find(key);
  if (it != g_pending.end()) return it->second;
  struct stat st {};
  const off_t size = ::fstat(fd, &st) == 0 ? st.st_size : 0;
  return g_pending.emplace(key, PendingWrites(size)).first->second;
}

int fs_getattr(const char* path, struct stat* st, fuse_file_info* fi) {
  if (std::strcmp(path, kControlPath) == 0) {
    std::memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | 0644;
    st->st_nlink = 1;
    return 0;
  }
  const int rc =
      fi != nullptr && handle(fi)->fd >= 0 ? ::fstat(handle(fi)->fd, st) : ::lstat(real(path).c_str(), st);
  if (rc != 0) return -errno;
  std::lock_guard lock(g_mu);
  if (auto it = g_pending.find(key_of(*st)); it != g_pending.end()) st->st_size = it->second.size();
  return 0;
}

int fs_readdir(const char* path, void* buf, fuse_fill_dir_t filler, off_t, fuse_file_info*,
               fuse_readdir_flags) {
  DIR* d = ::opendir(real(path).c_str());
  if (d == nullptr) return -errno;
  constexpr int kMaxEntries = 1'000'000;
  for (int i = 0; i < kMaxEntries; ++i) {
    const dirent* e = ::readdir(d);
    if (e == nullptr) break;
    if (filler(buf, e->d_name, nullptr, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  ::closedir(d);
  return 0;
}

int open_handle(const char* path, fuse_file_info* fi, mode_t mode, bool create) {
  if (std::strcmp(path, kControlPath) == 0) {
    auto* h = new Handle;
    h->control = true;
    fi->fh = reinterpret_cast<uint64_t>(h);
    fi->direct_io = 1;
    return 0;
  }
  // O_TRUNC must not reach the backing file: the truncation is un-synced data.
  const int flags = (fi->flags & ~O_TRUNC) | O_CLOEXEC;
  const int fd =
      create ? ::open(real(path).c_str(), flags | O_CREAT, mode) : ::open(real(path).c_str(), flags);
  if (fd < 0) return -errno;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return -err;
  }
  auto* h = new Handle{fd, fi->flags, key_of(st), false};
  if ((fi->flags & O_TRUNC) != 0) {
    std::lock_guard lock(g_mu);
    pending_for(h->key, fd).truncate(0);
  }
  fi->fh = reinterpret_cast<uint64_t>(h);
  fi->direct_io = 1;
  return 0;
}

int fs_open(const char* path, fuse_file_info* fi) {
  return open_handle(path, fi, 0, false);
}
int fs_create(const char* path, mode_t mode, fuse_file_info* fi) {
  return open_handle(path, fi, mode, true);
}

int fs_release(const char*, fuse_file_info* fi) {
  Handle* h = handle(fi);
  if (h->fd >= 0) ::close(h->fd);
  delete h;
  return 0;
}

int fs_read(const char*, char* buf, size_t size, off_t off, fuse_file_info* fi) {
  Handle* h = handle(fi);
  std::lock_guard lock(g_mu);
  if (h->control) {
    const std::string text = control_text();
    if (off >= static_cast<off_t>(text.size())) return 0;
    const size_t n = std::min(size, text.size() - static_cast<size_t>(off));
    std::memcpy(buf, text.data() + off, n);
    return static_cast<int>(n);
  }
  auto backing = [&](char* b, size_t len, off_t o) -> ssize_t {
    const ssize_t n = ::pread(h->fd, b, len, o);
    return n < 0 ? -errno : n;
  };
  auto it = g_pending.find(h->key);
  const ssize_t n =
      it != g_pending.end() ? it->second.read(buf, size, off, backing) : backing(buf, size, off);
  return static_cast<int>(n);
}

int control_command(const std::string& cmd) {
  if (cmd == "drop") {
    g_pending.clear();
    ++g_drops;
    return 0;
  }
  return -EINVAL;
}

int fs_write(const char*, const char* buf, size_t size, off_t off, fuse_file_info* fi) {
  Handle* h = handle(fi);
  std::lock_guard lock(g_mu);
  if (h->control) {
    std::string cmd(buf, size);
    while (!cmd.empty() && (cmd.back() == '\n' || cmd.back() == ' ')) cmd.pop_back();
    const int rc = control_command(cmd);
    return rc == 0 ? static_cast<int>(size) : rc;
  }
  PendingWrites& p = pending_for(h->key, h->fd);
  if ((h->flags & O_APPEND) != 0) off = p.size();
  p.write(off, std::string_view(buf, size));
  return static_cast<int>(size);
}

int fs_fsync(const char*, int, fuse_file_info* fi) {
  Handle* h = handle(fi);
  if (h->control) return 0;
  std::lock_guard lock(g_mu);
  return sync_key(h->key, h->fd);
}

int fs_fsyncdir(const char*, int, fuse_file_info*) {
  return 0;
}
int fs_flush(const char*, fuse_file_info*) {
  return 0;
}

int fs_truncate(const char* path, off_t size, fuse_file_info* fi) {
  int fd = fi != nullptr ? handle(fi)->fd : ::open(real(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct stat st {};
  int rc = ::fstat(fd, &st) == 0 ? 0 : -errno;
  if (rc == 0) {
    std::lock_guard lock(g_mu);
    pending_for(key_of(st), fd).truncate(size);
  }
  if (fi == nullptr) ::close(fd);
  return rc;
}

// Forgets the pending data of the file at `path` if this call removes its last link.
void forget_if_last_link(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) return;
  std::lock_guard lock(g_mu);
  g_pending.erase(key_of(st));
}

int fs_unlink(const char* path) {
  forget_if_last_link(real(path));
  return ::unlink(real(path).c_str()) == 0 ? 0 : -errno;
}
int fs_rename(const char* from, const char* to, unsigned int flags) {
  if (flags != 0) return -EINVAL;
  forget_if_last_link(real(to));
  return ::rename(real(from).c_str(), real(to).c_str()) == 0 ? 0 : -errno;
}
int fs_mkdir(const char* path, mode_t mode) {
  return ::mkdir(real(path).c_str(), mode) == 0 ? 0 : -errno;
}
int fs_rmdir(const char* path) {
  return ::rmdir(real(path).c_str()) == 0 ? 0 : -errno;
}
int fs_link(const char* from, const char* to) {
  return ::link(real(from).c_str(), real(to).c_str()) == 0 ? 0 : -errno;
}
int fs_symlink(const char* target, const char* link) {
  return ::symlink(target, real(link).c_str()) == 0 ? 0 : -errno;
}
int fs_readlink(const char* path, char* buf, size_t size) {
  const ssize_t n = ::readlink(real(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}
int fs_chmod(const char* path, mode_t mode, fuse_file_info*) {
  return ::chmod(real(path).c_str(), mode) == 0 ? 0 : -errno;
}
int fs_chown(const char* path, uid_t uid, gid_t gid, fuse_file_info*) {
  return ::lchown(real(path).c_str(), uid, gid) == 0 ? 0 : -errno;
}
int fs_utimens(const char* path, const timespec tv[2], fuse_file_info*) {
  return ::utimensat(AT_FDCWD, real(path).c_str(), tv, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}
int fs_access(const char* path, int mask) {
  if (std::strcmp(path, kControlPath) == 0) return 0;
  return ::access(real(path).c_str(), mask) == 0 ? 0 : -errno;
}
int fs_statfs(const char*, struct statvfs* st) {
  return ::statvfs(g_backing.c_str(), st) == 0 ? 0 : -errno;
}

void* fs_init(fuse_conn_info*, fuse_config* cfg) {
  cfg->use_ino = 1;
  cfg->direct_io = 1;
  cfg->kernel_cache = 0;
  cfg->attr_timeout = 0;
  cfg->entry_timeout = 0;
  cfg->negative_timeout = 0;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mq-powerfs BACKING_DIR MOUNTPOINT\n");
    return 2;
  }
  char* backing = ::realpath(argv[1], nullptr);
  if (backing == nullptr) {
    std::fprintf(stderr, "mq-powerfs: %s: %s\n", argv[1], std::strerror(errno));
    return 2;
  }
  g_backing = backing;
  std::free(backing);
  fuse_operations ops{};
  ops.getattr = fs_getattr;
  ops.readdir = fs_readdir;
  ops.open = fs_open;
  ops.create = fs_create;
  ops.release = fs_release;
  ops.read = fs_read;
  ops.write = fs_write;
  ops.fsync = fs_fsync;
  ops.fsyncdir = fs_fsyncdir;
  ops.flush = fs_flush;
  ops.truncate = fs_truncate;
  ops.unlink = fs_unlink;
  ops.rename = fs_rename;
  ops.mkdir = fs_mkdir;
  ops.rmdir = fs_rmdir;
  ops.link = fs_link;
  ops.symlink = fs_symlink;
  ops.readlink = fs_readlink;
  ops.chmod = fs_chmod;
  ops.chown = fs_chown;
  ops.utimens = fs_utimens;
  ops.access = fs_access;
  ops.statfs = fs_statfs;
  ops.init = fs_init;
  char arg0[] = "mq-powerfs";
  char fg[] = "-f";
  char o[] = "-o";
  char opts[] = "fsname=mq-powerfs,subtype=powerfs,auto_unmount";
  char* fargv[] = {arg0, fg, o, opts, argv[2], nullptr};
  return fuse_main(5, fargv, &ops, nullptr);
}
