#pragma once
// PowerFs: a mount of the power-loss file system (mq-powerfs, live/powerfs_main.cc)
// that a run puts under its target's data directory. drop() forgets every write not
// yet fsynced, as a power cut does; the nemesis calls it between SIGKILL and restart.
//
// Needs root and /dev/fuse; mount() says exactly what is missing. The mount is
// removed on destruction and, if the run is interrupted, by the interrupt handler
// (a lazy `fusermount3 -u -z`), and the daemon is started with auto_unmount so a
// killed daemon leaves no mount behind either.
// Thread-safety: one thread at a time.

#include <memory>
#include <string>

#include "base/status.h"
#include "live/process.h"

namespace mq::live {

class PowerFs {
 public:
  // Mounts `binary` (the mq-powerfs executable) at `mountpoint` over `backing`;
  // both directories must exist. Waits until the control file answers.
  static Result<std::unique_ptr<PowerFs>> mount(const std::string& binary, const std::string& backing,
                                                const std::string& mountpoint, const std::string& log_path);
  PowerFs(const PowerFs&) = delete;
  PowerFs& operator=(const PowerFs&) = delete;
  ~PowerFs();

  const std::string& mountpoint() const { return mountpoint_; }
  // Forgets every un-synced write. REQUIRES: no process of the target still writes.
  Status drop();
  // The control file's report: "files N bytes M drops D syncs S".
  Result<std::string> stats() const;
  Status unmount();

 private:
  PowerFs() = default;
  std::string mountpoint_;
  ServerProcess daemon_;
  int cleanup_slot_ = -1;
  bool mounted_ = false;
};

// Where the mq-powerfs binary is: beside the running executable's build tree
// (build/live/mq-powerfs, found from /proc/self/exe), else in PATH.
std::string default_powerfs_binary();

}  // namespace mq::live
