#pragma once
// Runs work in child processes: a failure that kills it (an always-on assertion,
// MQ_CHECK, in the broker, the simulator or a checker; a run past its time limit)
// ends that child, not the caller. ChildPool forks one child per task, at most `jobs`
// at a time; a task returns a report (text) that comes back through a pipe with
// whatever the child wrote to stdout and stderr (an MQ_CHECK's message among it).
//
// Forking: the pool forks from the thread that calls it; call it from a process
// with no other threads running (or whose other threads hold no lock the child
// needs).
// Thread-safety: none; one pool per caller.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mq::harness {

// How a child ended: what it wrote (stdout and stderr, at most kMaxChildOutput
// bytes) and its wait status.
struct ChildEnd {
  std::string output;
  int status = 0;
};

class ChildPool {
 public:
  // The child's work: returns the report written back to the parent.
  using Task = std::function<std::string()>;
  // The report of a child's output longer than this is cut (a runaway child).
  static constexpr size_t kMaxChildOutput = size_t{1} << 20;

  // REQUIRES: jobs >= 1. time_limit_s: a child still running after this long is
  // killed (SIGALRM); 0: no limit.
  ChildPool(unsigned jobs, unsigned time_limit_s);
  ~ChildPool();  // kills and reaps the children still running
  ChildPool(const ChildPool&) = delete;
  ChildPool& operator=(const ChildPool&) = delete;

  // Starts `task` in a child. REQUIRES: !full().
  void start(uint64_t tag, const Task& task);
  // Waits until one child has ended; its tag and end. REQUIRES: running() > 0.
  std::pair<uint64_t, ChildEnd> wait_one();
  // The same, waiting at most `timeout_ms` (a caller that redraws its progress);
  // nullopt when no child ended in that time. REQUIRES: running() > 0.
  std::optional<std::pair<uint64_t, ChildEnd>> wait_one_for(int timeout_ms);

  bool full() const { return children_.size() >= jobs_; }
  size_t running() const { return children_.size(); }

 private:
  struct Child {
    uint64_t tag = 0;
    int pid = 0;
    int fd = -1;
    std::string output;
  };
  unsigned jobs_;
  unsigned time_limit_s_;
  std::vector<Child> children_;
};

}  // namespace mq::harness
