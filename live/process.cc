#include "live/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

extern char** environ;

namespace mq::live {
namespace {

std::string errno_text(int err) {
  return std::strerror(err);
}

// ---- the registry the interrupt handler reads (fixed arrays: async-signal-safe) ----
std::array<std::atomic<pid_t>, kMaxRegistered> g_pids{};

constexpr int kMaxCleanupArgs = 12;
constexpr size_t kMaxCleanupArgBytes = 256;
struct CleanupSlot {
  std::atomic<bool> claimed{false};  // taken by a registering thread
  std::atomic<bool> used{false};     // filled in: the handler runs it
  char args[kMaxCleanupArgs][kMaxCleanupArgBytes] = {};
  char* argv[kMaxCleanupArgs + 1] = {};
};
std::array<CleanupSlot, kMaxRegistered> g_cleanup;

void register_pid(pid_t pid) {
  for (auto& slot : g_pids) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pid)) return;
  }
}
void unregister_pid(pid_t pid) {
  for (auto& slot : g_pids) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

// A server started while the handler runs would outlive the run: its pid registered
// after the handler's pass over g_pids, or not at all (a nemesis restarting the
// server it just saw die, while the handler runs the cleanup commands). So a start
// is a window, from before the fork until its pid is registered, counted in
// g_spawning, with the interrupt signals blocked on its thread (the handler never runs
// inside it); the handler first sets g_interrupted, which every later start refuses,
// then waits for the windows open to close.
std::atomic<bool> g_interrupted{false};
std::atomic<int> g_spawning{0};
constexpr int kSpawnWaitMs = 2000;  // a spawn takes well under a millisecond

class SpawnWindow {
 public:
  SpawnWindow() {
    sigset_t interrupts;
    sigemptyset(&interrupts);
    sigaddset(&interrupts, SIGINT);
    sigaddset(&interrupts, SIGTERM);
    MQ_CHECK(pthread_sigmask(SIG_BLOCK, &interrupts, &old_) == 0);
    g_spawning.fetch_add(1);
  }
  ~SpawnWindow() {
    g_spawning.fetch_sub(1);
    MQ_CHECK(pthread_sigmask(SIG_SETMASK, &old_, nullptr) == 0);
  }
  SpawnWindow(const SpawnWindow&) = delete;
  SpawnWindow& operator=(const SpawnWindow&) = delete;

 private:
  sigset_t old_;
};

void on_interrupt(int sig) {
  g_interrupted.store(true);
  for (int ms = 0; ms < kSpawnWaitMs && g_spawning.load() > 0; ++ms) {
    const timespec one_ms{0, 1'000'000};
    ::nanosleep(&one_ms, nullptr);
  }
  for (auto& slot : g_pids) {
    const pid_t pid = slot.load();
    if (pid <= 0) continue;
    ::kill(pid, SIGCONT);  // a paused server must be able to die
    ::kill(pid, SIGKILL);
    int ws = 0;
    ::waitpid(pid, &ws, 0);
  }
  for (auto& slot : g_cleanup) {
    if (!slot.used.load()) continue;
    const pid_t child = ::fork();
    if (child == 0) {
      // Quiet: a mount the killed daemon already removed makes fusermount3 complain.
      const int null_fd = ::open("/dev/null", O_WRONLY);
      if (null_fd >= 0) {
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
      }
      ::execve(slot.argv[0], slot.argv, environ);
      ::_exit(127);
    }
    if (child > 0) {
      int ws = 0;
      ::waitpid(child, &ws, 0);
    }
  }
  static const char kMsg[] =
      "mqharness: interrupted; servers stopped, namespaces and mounts removed (the run directory is kept)\n";
  [[maybe_unused]] const ssize_t n = ::write(2, kMsg, sizeof(kMsg) - 1);
  ::_exit(128 + sig);
}

// The absolute path of `program` (searched in PATH), for the handler's execve.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  for (int i = 0; i < 64 && start <= dirs.size(); ++i) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

std::string exit_text(int ws) {
  if (WIFEXITED(ws)) return "exit " + std::to_string(WEXITSTATUS(ws));
  if (WIFSIGNALED(ws)) return "signal " + std::to_string(WTERMSIG(ws));
  return "status " + std::to_string(ws);
}

// posix_spawnp with stdin from /dev/null, stdout+stderr to `out_fd` or `log_path`,
// other descriptors closed, its own process group, default signal dispositions.
Result<pid_t> spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                    const std::string& log_path, int out_fd, const std::string& cwd) {
  if (argv.empty()) return invalid_argument("empty command");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const auto& e : extra_env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out_fd >= 0) {
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, log_path.empty() ? "/dev/null" : log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return io_error("cannot start '" + argv[0] + "': " + errno_text(rc));
  return pid;
}

// Waits for `pid` up to `timeout`; SIGKILLs it past that. Returns the wait status.
int wait_bounded(pid_t pid, std::chrono::milliseconds timeout, bool* timed_out) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  constexpr auto kPoll = std::chrono::milliseconds(5);
  const auto max_polls = timeout / kPoll + 2;
  int ws = 0;
  for (int64_t i = 0; i < max_polls; ++i) {
    const pid_t r = ::waitpid(pid, &ws, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return ws;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  *timed_out = true;
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &ws, 0);
  return ws;
}

}  // namespace

Result<uint16_t> free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return io_error("socket: " + errno_text(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    return io_error("cannot find a free port on 127.0.0.1: " + errno_text(err));
  }
  ::close(fd);
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

bool tcp_accepts(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return false;
  }
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      ok = ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
    }
  }
  ::close(fd);
  return ok;
}

Result<TempDir> TempDir::make(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) return io_error("mkdtemp " + templ + ": " + errno_text(errno));
  return TempDir(std::string(buf.data()));
}

TempDir::~TempDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) kill_and_wait();
}

Status ServerProcess::start(const ProcessSpec& spec) {
  MQ_CHECK(pid_ <= 0);
  SpawnWindow window;
  if (g_interrupted.load()) return unavailable("interrupted: no server is started any more");
  auto pid = spawn(spec.argv, spec.env, spec.log_path, -1, spec.cwd);
  if (!pid.ok()) return pid.status();
  pid_ = *pid;
  register_pid(pid_);
  return Status();
}

void ServerProcess::reaped(int wstatus) {
  last_exit_ = exit_text(wstatus);
  unregister_pid(pid_);
  pid_ = -1;
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int ws = 0;
  const pid_t r = ::waitpid(pid_, &ws, WNOHANG);
  if (r == pid_) {
    reaped(ws);
    return false;
  }
  return true;
}

Status ServerProcess::signal(int sig) {
  if (!running()) return failed_precondition("the server is not running (" + last_exit_ + ")");
  if (::kill(pid_, sig) != 0) return io_error("kill " + std::to_string(pid_) + ": " + errno_text(errno));
  return Status();
}

void ServerProcess::kill_and_wait() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGKILL);
  bool timed_out = false;
  reaped(wait_bounded(pid_, kStopWait, &timed_out));
}

bool ServerProcess::stop(std::chrono::milliseconds grace) {
  if (!running()) return false;
  ::kill(pid_, SIGCONT);
  ::kill(pid_, SIGTERM);
  bool timed_out = false;
  reaped(wait_bounded(pid_, grace, &timed_out));
  return !timed_out;
}

Result<int> run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                        const std::string& log_path) {
  auto pid = spawn(argv, {}, log_path, -1, "");
  if (!pid.ok()) return pid.status();
  bool timed_out = false;
  const int ws = wait_bounded(*pid, timeout, &timed_out);
  if (timed_out)
    return io_error("'" + argv[0] + "' did not finish within " + std::to_string(timeout.count()) + " ms");
  if (!WIFEXITED(ws)) return io_error("'" + argv[0] + "' ended by " + exit_text(ws));
  return WEXITSTATUS(ws);
}

Result<std::string> capture_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return io_error("pipe: " + errno_text(errno));
  auto pid = spawn(argv, {}, "", fds[1], "");
  ::close(fds[1]);
  if (!pid.ok()) {
    ::close(fds[0]);
    return pid.status();
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (size_t reads = 0; out.size() < kMaxCapturedBytes && reads < kMaxCapturedBytes; ++reads) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  bool timed_out = false;
  const int ws = wait_bounded(*pid, std::chrono::milliseconds(1000), &timed_out);
  if (timed_out || !WIFEXITED(ws)) return io_error("'" + argv[0] + "' did not finish: " + exit_text(ws));
  return out;
}

void install_interrupt_cleanup() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // a server killed mid-write must not kill the harness
}

int register_cleanup_command(const std::vector<std::string>& argv) {
  if (argv.empty() || argv.size() > kMaxCleanupArgs) return -1;
  for (size_t i = 0; i < g_cleanup.size(); ++i) {
    CleanupSlot& slot = g_cleanup[i];
    bool expected = false;
    if (!slot.claimed.compare_exchange_strong(expected, true)) continue;
    for (size_t a = 0; a < argv.size(); ++a) {
      const std::string arg = a == 0 ? resolve(argv[0]) : argv[a];
      if (arg.size() >= kMaxCleanupArgBytes) {
        slot.claimed.store(false);
        return -1;
      }
      std::memcpy(slot.args[a], arg.c_str(), arg.size() + 1);
      slot.argv[a] = slot.args[a];
    }
    slot.argv[argv.size()] = nullptr;
    slot.used.store(true);
    return static_cast<int>(i);
  }
  return -1;
}

void unregister_cleanup_command(int slot) {
  if (slot < 0 || slot >= kMaxRegistered) return;
  g_cleanup[static_cast<size_t>(slot)].used.store(false);
  g_cleanup[static_cast<size_t>(slot)].claimed.store(false);
}

}  // namespace mq::live
