#include "live/power_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace mq::live {
namespace {

constexpr std::chrono::milliseconds kMountWait{5000};
constexpr std::chrono::milliseconds kPoll{20};

std::string control_path(const std::string& mountpoint) {
  return mountpoint + "/.powerfs";
}

bool is_mounted(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string needle = " " + std::filesystem::weakly_canonical(mountpoint).string() + " ";
  for (int i = 0; i < 100'000 && std::getline(in, line); ++i) {
    if (line.find(needle) != std::string::npos && line.find("powerfs") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::string default_powerfs_binary() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/apps/mqharness or build/tests/x -> build/live/mq-powerfs
    const auto candidate = exe.parent_path().parent_path() / "live" / "mq-powerfs";
    if (std::filesystem::exists(candidate)) return candidate.string();
  }
  return "mq-powerfs";
}

Result<std::unique_ptr<PowerFs>> PowerFs::mount(const std::string& binary, const std::string& backing,
                                                const std::string& mountpoint, const std::string& log_path) {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    return unavailable("power loss needs FUSE: /dev/fuse is not usable (" +
                       std::string(std::strerror(errno)) + "); run as root with the fuse3 package installed");
  }
  std::unique_ptr<PowerFs> fs(new PowerFs());
  fs->mountpoint_ = mountpoint;
  MQ_RETURN_IF_ERROR(fs->daemon_.start({{binary, backing, mountpoint}, {}, log_path, ""}));
  fs->cleanup_slot_ = register_cleanup_command({"fusermount3", "-u", "-z", mountpoint});
  const auto deadline = std::chrono::steady_clock::now() + kMountWait;
  for (int i = 0; i < kMountWait / kPoll + 1; ++i) {
    if (is_mounted(mountpoint) && std::filesystem::exists(control_path(mountpoint))) {
      fs->mounted_ = true;
      return fs;
    }
    if (!fs->daemon_.running()) {
      return io_error("mq-powerfs (" + binary + ") ended at once: " + fs->daemon_.last_exit() + "; see " +
                      log_path);
    }
    if (std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  return io_error("mq-powerfs did not mount " + mountpoint + " within 5 s; see " + log_path);
}

Status PowerFs::drop() {
  const int fd = ::open(control_path(mountpoint_).c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open " + control_path(mountpoint_) + ": " + std::strerror(errno));
  const ssize_t n = ::write(fd, "drop\n", 5);
  const int err = errno;
  ::close(fd);
  if (n != 5) return io_error("drop on " + mountpoint_ + ": " + std::strerror(err));
  return Status();
}

Result<std::string> PowerFs::stats() const {
  std::ifstream in(control_path(mountpoint_));
  if (!in) return io_error("cannot read " + control_path(mountpoint_));
  std::string line;
  std::getline(in, line);
  return line;
}

Status PowerFs::unmount() {
  Status status;
  if (mounted_) {
    mounted_ = false;
    auto rc = run_command({"fusermount3", "-u", mountpoint_}, std::chrono::milliseconds(5000));
    if (!rc.ok() || *rc != 0) {
      (void)run_command({"fusermount3", "-u", "-z", mountpoint_}, std::chrono::milliseconds(5000));
      status = io_error("fusermount3 -u " + mountpoint_ + " failed; unmounted lazily");
    }
  }
  if (daemon_.running()) daemon_.stop(std::chrono::milliseconds(2000));
  unregister_cleanup_command(cleanup_slot_);
  cleanup_slot_ = -1;
  return status;
}

PowerFs::~PowerFs() {
  (void)unmount();
}

}  // namespace mq::live
