#include "mutants/isolated_run.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <sstream>

#include "properties/checkers/check_all.h"
#include "sim/shrink.h"
#include "sim/simulator.h"

namespace mq::mutants {
namespace {

constexpr const char* kShadow = "shadow";
constexpr const char* kLiveness = "liveness";
// The child's report is a few lines; an assertion message or two more. Anything
// beyond this is noise (a runaway child) and is not kept.
constexpr size_t kMaxChildOutput = 1u << 20;

std::string one_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  constexpr size_t kMaxLine = 300;
  if (line.size() > kMaxLine) line = line.substr(0, kMaxLine) + "...";
  return line;
}

// The child: run, judge, report on stdout (the pipe), exit.
[[noreturn]] void child(const sim::Scenario& scenario, uint64_t seed, const sim::SimOverrides& overrides,
                        uint64_t stop_after_events) {
  sim::SimOptions options;
  options.overrides = overrides;
  options.stop_after_events = stop_after_events;
  const sim::SimResult r = sim::simulate(scenario, seed, options);
  std::string report = "events " + std::to_string(r.history_events) + "\n";
  if (r.corruption) report += "corruption\n";
  if (r.divergence) report += "violation_events " + std::to_string(sim::events_until(r.history, r.divergence->time_ns)) + "\n";
  for (const Verdict& v : judge(scenario, r)) {
    if (!v.valid) report += "failed " + v.property + " " + one_line(v.message) + "\n";
  }
  report += "done\n";
  size_t off = 0;
  // Bounded: each round writes at least one byte or gives up.
  while (off < report.size()) {
    const ssize_t n = write(STDOUT_FILENO, report.data() + off, report.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  _exit(0);
}

RunVerdict parse(const std::string& output, int status) {
  RunVerdict v;
  bool done = false;
  std::string assertion;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("events ")) v.history_events = std::stoull(line.substr(7));
    if (line == "corruption") v.corruption_detected = true;
    if (line.starts_with("violation_events ")) v.violation_events = std::stoull(line.substr(17));
    if (line == "done") done = true;
    if (line.find("MQ_CHECK(") != std::string::npos && assertion.empty()) assertion = one_line(line);
    if (!line.starts_with("failed ")) continue;
    const std::string rest = line.substr(7);
    const size_t space = rest.find(' ');
    v.failed.push_back(rest.substr(0, space));
    if (v.first_failure.empty()) v.first_failure = space == std::string::npos ? "" : rest.substr(space + 1);
  }
  const bool clean_exit = WIFEXITED(status) && WEXITSTATUS(status) == 0 && done;
  if (clean_exit) return v;
  v.failed.clear();
  v.history_events = 0;
  v.violation_events = 0;
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
    v.failed.push_back(kWatchdog);
    v.first_failure = "the run exceeded its time limit";
  } else {
    v.failed.push_back(kAssertion);
    v.first_failure = assertion.empty() ? "the run died (status " + std::to_string(status) + ")" : assertion;
  }
  return v;
}

}  // namespace

// The verdicts `mqharness run` gives (apps/sim_commands.cc judge()): the shadow's,
// liveness, then check_all's.
std::vector<Verdict> judge(const sim::Scenario& s, const sim::SimResult& r) {
  std::vector<Verdict> out;
  if (r.divergence) {
    out.push_back(fail(kShadow, "core and model diverge at " + r.divergence->to_string(), {}));
  } else {
    out.push_back(pass(kShadow, "core and model agree"));
  }
  if (r.cut) {
    out.push_back(pass(kLiveness, "not judged: the run was cut (a shrunk reproducer's prefix)"));
  } else if (r.liveness.empty()) {
    out.push_back(pass(kLiveness, "every message finished"));
  } else {
    out.push_back(fail(kLiveness, r.liveness.front(), {}));
  }
  for (auto& v : check_all(r.history, s.topology, CheckOptions{.complete = r.quiescent})) out.push_back(std::move(v));
  return out;
}

bool RunVerdict::caught_without_shadow() const {
  for (const auto& p : failed) {
    if (p != kShadow) return true;
  }
  return false;
}

RunVerdict run_isolated(const sim::Scenario& scenario, uint64_t seed, const sim::SimOverrides& overrides,
                        unsigned time_limit_s, uint64_t stop_after_events) {
  int fds[2];
  MQ_CHECK_MSG(pipe(fds) == 0, "pipe() for a child run");
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t pid = fork();
  MQ_CHECK_MSG(pid >= 0, "fork() for a child run");
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);  // an MQ_CHECK failure's message comes back too
    close(fds[1]);
    alarm(time_limit_s);
    child(scenario, seed, overrides, stop_after_events);
  }
  close(fds[1]);
  std::string output;
  char buf[4096];
  // Bounded by the child's output: read until it closes the pipe (exit or death).
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (output.size() < kMaxChildOutput) output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return parse(output, status);
}

}  // namespace mq::mutants
