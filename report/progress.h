#pragma once
// Progress: the status line of a long command (sweep, walk, explore, audit, mutants,
// live), and the stop signals that end such a command early with a summary.
//
// On a terminal (the status stream is a TTY) one line is redrawn in place, at most
// every `redraw_s`: "sweep: 120/200 seeds, 3.4/s, ETA 23 s, 2 failing | detail".
// Elsewhere (a file, a pipe, a batch job's log) nothing is redrawn: a plain line is
// written every `plain_every_s` instead, so logs stay line-based.
// Result lines (a failing seed and its reproduce line) go to the result stream at
// once, whatever the progress: on a terminal the status line is cleared first and
// drawn again after.
//
// Thread-safety: every member may be called from any thread (one mutex inside).
// Wall-clock time is read here: this is reporting, never part of a run's result.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

namespace mq::report {

struct ProgressOptions {
  std::string verb;             // "sweep", "walk", ...
  std::string unit = "seeds";   // what `total` counts
  uint64_t total = 0;           // 0: unknown (no ETA, no "of N")
  std::FILE* status = stderr;   // where the status line goes
  std::FILE* results = stdout;  // where print() goes
  double redraw_s = 0.2;        // TTY: at most this often
  double plain_every_s = 60;    // not a TTY: one plain status line this often; 0: never
  int force_tty = -1;           // tests: 0 or 1 overrides isatty(status)
};

class Progress {
 public:
  explicit Progress(ProgressOptions options);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();  // clears the status line if still drawn

  // `done` more units finished, `failed` of them failing. Redraws when due.
  void step(uint64_t done = 1, uint64_t failed = 0);
  // Sets the counters outright (a search reports its own totals), and the detail
  // with them when given, so that one redraw shows both.
  void set(uint64_t done, uint64_t failed, std::optional<std::string> detail = std::nullopt);
  // Free text after the counters ("depth 12, 80 MiB", "fault 3/16: ack-wrong-message").
  void set_detail(std::string detail);
  // A result line (no trailing newline needed), written and flushed at once.
  void print(const std::string& line);
  // Redraws if due; call it from a polling loop.
  void tick();
  // Clears the status line; later calls draw nothing more.
  void finish();

  uint64_t done() const;
  uint64_t failed() const;
  double elapsed_s() const;
  bool tty() const { return tty_; }
  // "57 of 200 seeds in 12.3 s (4.6 seeds/s), 2 failing".
  std::string summary() const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string line_locked() const;
  void draw_locked(bool force);
  void clear_locked();

  const ProgressOptions o_;
  const bool tty_;
  const Clock::time_point start_;
  mutable std::mutex mu_;
  uint64_t done_ = 0, failed_ = 0;
  std::string detail_;
  Clock::time_point last_draw_;
  size_t drawn_width_ = 0;  // characters of the status line on screen (TTY)
  bool finished_ = false;
};

// Installs handlers for SIGINT and SIGTERM that only note the signal: a long command
// polls stop_requested(), stops taking new work, and prints the summary of what ran.
// The handlers restore the default action, so a second Ctrl-C ends the process.
void install_stop_handlers();
bool stop_requested();
// The signal that asked to stop (SIGINT, SIGTERM), 0 if none.
int stop_signal();
// Test hook: forget a previous request.
void reset_stop_request();

// The exit status of a command stopped by `signal`: 128 + signal, as a shell reports it.
inline int stopped_exit_status(int signal) {
  return 128 + signal;
}

}  // namespace mq::report
