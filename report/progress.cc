#include "report/progress.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace mq::report {
namespace {

std::atomic<int> g_stop_signal{0};

extern "C" void note_stop_signal(int signal) {
  g_stop_signal.store(signal);
  std::signal(signal, SIG_DFL);  // the next one is not caught: a second Ctrl-C ends at once
}

std::string seconds_text(double s) {
  char buf[32];
  if (s < 100) {
    std::snprintf(buf, sizeof buf, "%.1f s", s);
  } else if (s < 6000) {
    const long whole = static_cast<long>(s);
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", whole / 60, whole % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f h", s / 3600);
  }
  return buf;
}

}  // namespace

Progress::Progress(ProgressOptions options)
    : o_(std::move(options)),
      tty_(o_.force_tty >= 0 ? o_.force_tty == 1 : isatty(fileno(o_.status)) != 0),
      start_(Clock::now()),
      last_draw_(start_) {}

Progress::~Progress() {
  finish();
}

void Progress::step(uint64_t done, uint64_t failed) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += done;
  failed_ += failed;
  draw_locked(false);
}

void Progress::set(uint64_t done, uint64_t failed, std::optional<std::string> detail) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ = done;
  failed_ = failed;
  if (detail) detail_ = std::move(*detail);
  draw_locked(false);
}

void Progress::set_detail(std::string detail) {
  std::lock_guard<std::mutex> lock(mu_);
  detail_ = std::move(detail);
  draw_locked(false);
}

void Progress::print(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  clear_locked();
  std::fputs(line.c_str(), o_.results);
  if (line.empty() || line.back() != '\n') std::fputc('\n', o_.results);
  std::fflush(o_.results);
  draw_locked(true);
}

void Progress::tick() {
  std::lock_guard<std::mutex> lock(mu_);
  draw_locked(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  clear_locked();
  finished_ = true;
}

uint64_t Progress::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return done_;
}

uint64_t Progress::failed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

std::string Progress::summary() const {
  std::lock_guard<std::mutex> lock(mu_);
  const double s = elapsed_s();
  char buf[160];
  std::snprintf(buf, sizeof buf, "%llu%s%s %s in %s (%.1f %s/s), %llu failing",
                static_cast<unsigned long long>(done_), o_.total > 0 ? " of " : "",
                o_.total > 0 ? std::to_string(o_.total).c_str() : "", o_.unit.c_str(),
                seconds_text(s).c_str(), s > 0 ? static_cast<double>(done_) / s : 0.0, o_.unit.c_str(),
                static_cast<unsigned long long>(failed_));
  return buf;
}

std::string Progress::line_locked() const {
  const double s = elapsed_s();
  const double rate = s > 0 ? static_cast<double>(done_) / s : 0;
  std::string line = o_.verb + ": " + std::to_string(done_);
  if (o_.total > 0) line += "/" + std::to_string(o_.total);
  char buf[96];
  std::snprintf(buf, sizeof buf, " %s, %.1f/s", o_.unit.c_str(), rate);
  line += buf;
  if (o_.total > 0 && rate > 0 && done_ < o_.total) {
    line += ", ETA " + seconds_text(static_cast<double>(o_.total - done_) / rate);
  }
  line += ", " + std::to_string(failed_) + " failing";
  if (!detail_.empty()) line += " | " + detail_;
  return line;
}

void Progress::draw_locked(bool force) {
  if (finished_) return;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (!tty_) {
    if (o_.plain_every_s <= 0 || since < o_.plain_every_s) return;
    last_draw_ = now;
    std::fprintf(o_.status, "%s\n", line_locked().c_str());
    std::fflush(o_.status);
    return;
  }
  if (!force && since < o_.redraw_s) return;
  last_draw_ = now;
  const std::string line = line_locked();
  // Pad over what the previous line left on screen.
  const size_t pad = drawn_width_ > line.size() ? drawn_width_ - line.size() : 0;
  std::fprintf(o_.status, "\r%s%*s", line.c_str(), static_cast<int>(pad), "");
  std::fflush(o_.status);
  drawn_width_ = line.size();
}

void Progress::clear_locked() {
  if (!tty_ || drawn_width_ == 0) return;
  std::fprintf(o_.status, "\r%*s\r", static_cast<int>(drawn_width_), "");
  std::fflush(o_.status);
  drawn_width_ = 0;
}

void install_stop_handlers() {
  std::signal(SIGINT, note_stop_signal);
  std::signal(SIGTERM, note_stop_signal);
}

bool stop_requested() {
  return g_stop_signal.load() != 0;
}

int stop_signal() {
  return g_stop_signal.load();
}

void reset_stop_request() {
  g_stop_signal.store(0);
}

}  // namespace mq::report
