#pragma once
// LiveServer: one running server of a Target, with the handles every fault needs:
// its process (kill, pause), the network namespace it runs in (partition), fiu-run's
// control (disk faults) and the power-loss file system under its data directory
// (power loss). Whatever it set up is torn down on destruction: the server stopped
// by pid, the mount removed, the namespace deleted.
//
// Thread-safety: one thread at a time (the nemesis while the workload runs, then the
// run's main thread); clients use endpoint(), fixed after create().

#include <signal.h>

#include <memory>
#include <string>

#include "base/status.h"
#include "live/netns.h"
#include "live/power_fs.h"
#include "live/process.h"
#include "live/target.h"

namespace mq::live {

struct ServerOptions {
  std::string run_dir;         // exists; logs, configs and the data directory go here
  bool netns = false;          // run inside a network namespace (partition needs it)
  bool fiu = false;            // run under `fiu-run -x` (disk faults need it)
  bool powerfs = false;        // data directory on mq-powerfs (power loss needs it)
  std::string powerfs_binary;  // empty: default_powerfs_binary()
};

class LiveServer {
 public:
  // Sets up namespace, mount and data directory; does not start the server.
  static Result<std::unique_ptr<LiveServer>> create(const Target& target, const ServerOptions& options);
  LiveServer(const LiveServer&) = delete;
  LiveServer& operator=(const LiveServer&) = delete;
  ~LiveServer();

  // Starts the server and waits until it accepts connections (the target's
  // ready_timeout). Errors name the server's log.
  Status start();
  Endpoint endpoint() const { return endpoint_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& log_path() const { return log_path_; }
  bool running() { return process_.running(); }
  pid_t pid() const { return process_.pid(); }

  Status kill();  // SIGKILL, wait until gone
  Status pause() { return process_.signal(SIGSTOP); }
  Status resume() { return process_.signal(SIGCONT); }
  Status partition();
  Status heal_partition();
  Status disk_faults(bool on);
  Status power_loss();  // SIGKILL, then forget every un-synced write
  // Stops the server at the end of the run: SIGTERM, then SIGKILL past the grace.
  void stop();
  bool has_netns() const { return netns_ != nullptr; }
  std::string netns_name() const { return netns_ ? netns_->name() : ""; }
  bool has_powerfs() const { return powerfs_ != nullptr; }
  Result<std::string> powerfs_stats() const;

 private:
  LiveServer(const Target& target, ServerOptions options) : target_(target), options_(std::move(options)) {}
  std::string log_tail() const;

  const Target& target_;
  ServerOptions options_;
  std::unique_ptr<NetNamespace> netns_;
  std::unique_ptr<PowerFs> powerfs_;
  ServerProcess process_;
  std::vector<std::unique_ptr<ServerProcess>> helpers_;
  uint16_t aux_ports_[kAuxPorts] = {};
  Endpoint endpoint_;
  std::string data_dir_;
  std::string log_path_;
  std::string fiu_prefix_;
  int starts_ = 0;
};

}  // namespace mq::live
