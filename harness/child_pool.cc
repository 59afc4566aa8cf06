#include "harness/child_pool.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "base/check.h"

// clang's profile runtime: writes the coverage counts (an _exit skips that). Weak: null
// unless the binary links the runtime (the coverage build does, and pulls this in with
// -u __llvm_profile_write_file), so the other builds compile this file as it does.
extern "C" int __llvm_profile_write_file(void) __attribute__((weak));

namespace mq::harness {
namespace {

void write_all(int fd, const std::string& text) {
  size_t off = 0;
  // Bounded: each round writes at least one byte or gives up.
  while (off < text.size()) {
    const ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

// Reads what is there; false at the end of the child's output.
bool drain(int fd, std::string& out) {
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) return false;
  if (out.size() < ChildPool::kMaxChildOutput) out.append(buf, static_cast<size_t>(n));
  return true;
}

}  // namespace

// ---- the pool ----

ChildPool::ChildPool(unsigned jobs, unsigned time_limit_s)
    : jobs_(std::max(1u, jobs)), time_limit_s_(time_limit_s) {}

ChildPool::~ChildPool() {
  for (Child& c : children_) {
    kill(c.pid, SIGKILL);
    close(c.fd);
    int status = 0;
    while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void ChildPool::start(uint64_t tag, const Task& task) {
  MQ_CHECK(!full());
  int fds[2];
  MQ_CHECK_MSG(pipe(fds) == 0, "pipe() for a child run");
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t pid = fork();
  MQ_CHECK_MSG(pid >= 0, "fork() for a child run");
  if (pid == 0) {
    close(fds[0]);
    for (const Child& c : children_) close(c.fd);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);  // an MQ_CHECK failure's message comes back too
    close(fds[1]);
    if (time_limit_s_ > 0) alarm(time_limit_s_);
    const std::string report = task();
    std::fflush(nullptr);
    write_all(STDOUT_FILENO, report);
    if (__llvm_profile_write_file != nullptr) (void)__llvm_profile_write_file();
    _exit(0);
  }
  close(fds[1]);
  children_.push_back(Child{tag, pid, fds[0], {}});
}

std::pair<uint64_t, ChildEnd> ChildPool::wait_one() {
  // Bounded by the children: each of them ends (or its time limit kills it).
  for (;;) {
    if (auto end = wait_one_for(-1)) return std::move(*end);
  }
}

std::optional<std::pair<uint64_t, ChildEnd>> ChildPool::wait_one_for(int timeout_ms) {
  MQ_CHECK(!children_.empty());
  // Bounded by the children's output: every round reads some of it, or sees one end,
  // or the timeout passes (one poll that returns nothing).
  for (;;) {
    std::vector<pollfd> fds;
    for (const Child& c : children_) fds.push_back(pollfd{c.fd, POLLIN, 0});
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0) {
      MQ_CHECK_MSG(errno == EINTR, "poll() on the children's pipes");
      return std::nullopt;  // a signal: the caller looks at its stop request
    }
    if (ready == 0) return std::nullopt;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      Child& c = children_[i];
      if (drain(c.fd, c.output)) continue;
      close(c.fd);
      ChildEnd end{std::move(c.output), 0};
      while (waitpid(c.pid, &end.status, 0) < 0 && errno == EINTR) {
      }
      const uint64_t tag = c.tag;
      children_.erase(children_.begin() + static_cast<std::ptrdiff_t>(i));
      return std::make_pair(tag, std::move(end));
    }
  }
}

}  // namespace mq::harness
