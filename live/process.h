#pragma once
// Supervision of the server processes a live run starts: a child process started
// from an argv (optionally inside a network namespace, optionally under fiu-run),
// its output to a log file, and stopped by its pid, also when the run fails or is
// interrupted. A free TCP port on 127.0.0.1 and a temporary directory removed on
// destruction complete what a run needs to start a server without touching anything
// it did not create.
//
// Cleanup on SIGINT/SIGTERM: every live ServerProcess is in a process-wide registry;
// install_interrupt_cleanup() installs a handler that SIGKILLs each registered pid
// (async-signal-safe: kill(2) on a fixed array), runs the registered cleanup commands
// (namespaces, mounts) and exits with 130. A start that races with the handler is
// waited for, and one after it is refused, so no server outlives an interrupted run.
// Destructors stop what is still running.
//
// Thread-safety: a ServerProcess is used by one thread at a time (the run's nemesis
// thread after start); the registry is safe from any thread and from the handler.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq::live {

// A port on 127.0.0.1 that was free a moment ago (bound with port 0, then closed).
Result<uint16_t> free_port();

// Whether something accepts TCP connections at host:port within `timeout`.
bool tcp_accepts(const std::string& host, uint16_t port, std::chrono::milliseconds timeout);

// A directory made with mkdtemp under $TMPDIR (or /tmp); removed with its content on
// destruction unless keep() was called (the run's --report keeps its server logs).
class TempDir {
 public:
  static Result<TempDir> make(const std::string& prefix);
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
    other.path_.clear();
  }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
  bool keep_ = false;
};

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0]: the program, looked up in PATH
  std::vector<std::string> env;   // extra KEY=VALUE entries
  std::string log_path;           // stdout and stderr are appended here
  std::string cwd;                // empty: inherit
};

// A child process. Not copyable; stops the child (SIGKILL, then waits) on destruction.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  // Starts the child. REQUIRES: not running. Errors: kInvalidArgument (empty argv),
  // kIoError (fork or the log file failed; exec failures show as an exit with 127
  // and the reason in the log).
  Status start(const ProcessSpec& spec);
  bool running();  // reaps the child if it exited
  pid_t pid() const { return pid_; }
  // The exit status text of the last child that ended ("exit 0", "signal 9").
  const std::string& last_exit() const { return last_exit_; }

  Status signal(int sig);  // kFailedPrecondition if not running
  // SIGKILL and wait for the child to be gone (bounded by kStopWait).
  void kill_and_wait();
  // SIGTERM, wait up to `grace`, then SIGKILL; true if it left on SIGTERM.
  bool stop(std::chrono::milliseconds grace);

 private:
  void reaped(int wstatus);
  pid_t pid_ = -1;
  std::string last_exit_;
};

inline constexpr std::chrono::milliseconds kStopWait{10'000};

// Runs a command to completion (bounded by `timeout`, then SIGKILL); returns its
// exit code, or an error if it could not run. Output goes to `log_path` (or
// /dev/null). Used for `ip`, `fiu-ctrl`, `fusermount3`.
Result<int> run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                        const std::string& log_path = "");
// The same, capturing stdout (at most kMaxCapturedBytes).
Result<std::string> capture_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);
inline constexpr size_t kMaxCapturedBytes = 64 * 1024;

// Cleanup on interrupt. register/unregister are called by ServerProcess; cleanup
// commands (an argv run by the handler through fork/exec) by the namespace and the
// power-loss file system. At most kMaxRegistered of each.
inline constexpr int kMaxRegistered = 32;
void install_interrupt_cleanup();
int register_cleanup_command(const std::vector<std::string>& argv);  // returns a slot, -1 if full
void unregister_cleanup_command(int slot);

}  // namespace mq::live
