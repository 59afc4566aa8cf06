#include "live/nemesis.h"

#include <cstdio>

#include "base/prng.h"

namespace mq::live {
namespace {

constexpr int kMaxRestartTries = 5;
constexpr std::chrono::milliseconds kRestartRetry{500};

std::string seconds(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fs", static_cast<double>(ms) / 1000.0);
  return buf;
}

}  // namespace

std::vector<FaultWindow> draw_schedule(uint64_t seed, const std::vector<FaultKind>& kinds,
                                       int64_t duration_ms) {
  MQ_CHECK(!kinds.empty());
  Prng prng(derive_seed(seed, "nemesis"));
  std::vector<FaultWindow> out;
  int64_t t = prng.range(kMinGapMs, kMaxGapMs);
  for (size_t i = 0; i < kMaxWindows; ++i) {
    FaultWindow w;
    w.kind = kinds[prng.uniform(kinds.size())];
    w.start_ms = t;
    w.length_ms = prng.range(kMinFaultMs, kMaxFaultMs);
    if (w.start_ms + w.length_ms > duration_ms - kEndMarginMs) break;
    out.push_back(w);
    t = w.start_ms + w.length_ms + prng.range(kMinGapMs, kMaxGapMs);
  }
  return out;
}

std::string to_string(const std::vector<FaultWindow>& schedule) {
  std::string s;
  for (const auto& w : schedule) {
    s += (s.empty() ? "" : ", ") + std::string(fault_kind_name(w.kind)) + "@" + seconds(w.start_ms) + "+" +
         seconds(w.length_ms);
  }
  return s.empty() ? "(no faults)" : s;
}

void Nemesis::start() {
  start_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this] { run(); });
}

void Nemesis::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

NemesisStats Nemesis::stats() const {
  return stats_;
}

bool Nemesis::wait_until(std::chrono::steady_clock::time_point t) {
  std::unique_lock lock(mu_);
  return !cv_.wait_until(lock, t, [this] { return stopping_; });
}

void Nemesis::error(const std::string& what) {
  std::fprintf(stderr, "nemesis: %s\n", what.c_str());
  stats_.errors.push_back(what);
  history_.nemesis("error", what);
}

void Nemesis::run() {
  // A slow restart (RabbitMQ boots in seconds) can push the schedule back: a window
  // starts no sooner than kMinGapMs after the previous one healed, keeps its length,
  // and is skipped if it would then end past the run's last window's end.
  const int64_t last_end_ms = schedule_.empty() ? 0 : schedule_.back().start_ms + schedule_.back().length_ms;
  auto earliest = start_;
  for (const FaultWindow& w : schedule_) {
    const auto begin = std::max(start_ + std::chrono::milliseconds(w.start_ms), earliest);
    if (begin + std::chrono::milliseconds(w.length_ms) > start_ + std::chrono::milliseconds(last_end_ms)) {
      history_.nemesis("skipped", std::string(fault_kind_name(w.kind)) + ": the schedule ran late");
      ++stats_.skipped;
      continue;
    }
    if (!wait_until(begin)) break;
    inject(w);
    wait_until(begin + std::chrono::milliseconds(w.length_ms));
    heal(w);  // also when stopping: a fault never outlives its window
    earliest = std::chrono::steady_clock::now() + std::chrono::milliseconds(kMinGapMs);
  }
  ensure_running("at the end of the run");
}

void Nemesis::inject(const FaultWindow& w) {
  ++stats_.injected[static_cast<int>(w.kind)];
  const std::string pid = std::to_string(server_.pid());
  Status s;
  switch (w.kind) {
    case FaultKind::kKill:
      history_.nemesis("kill", "pid " + pid);
      s = server_.kill();
      break;
    case FaultKind::kPause:
      history_.nemesis("pause", "pid " + pid);
      s = server_.pause();
      break;
    case FaultKind::kPartition:
      history_.nemesis("partition", "veth down");
      s = server_.partition();
      break;
    case FaultKind::kDisk:
      history_.nemesis("disk-faults", "fsync and fdatasync fail, pwrite 10%");
      s = server_.disk_faults(true);
      break;
    case FaultKind::kPowerLoss: {
      history_.nemesis("power-loss", "pid " + pid);
      s = server_.power_loss();
      break;
    }
  }
  if (!s.ok()) error(std::string(fault_kind_name(w.kind)) + ": " + s.message());
}

void Nemesis::heal(const FaultWindow& w) {
  Status s;
  switch (w.kind) {
    case FaultKind::kKill:
    case FaultKind::kPowerLoss:
      break;  // ensure_running restarts it
    case FaultKind::kPause:
      s = server_.resume();
      history_.nemesis("resume", "");
      break;
    case FaultKind::kPartition:
      s = server_.heal_partition();
      history_.nemesis("heal", "veth up");
      break;
    case FaultKind::kDisk:
      if (server_.running()) s = server_.disk_faults(false);
      history_.nemesis("disk-heal", "");
      break;
  }
  if (!s.ok()) error(std::string("healing ") + fault_kind_name(w.kind) + ": " + s.message());
  ensure_running(w.kind == FaultKind::kKill || w.kind == FaultKind::kPowerLoss ? nullptr
                                                                               : "died during a fault");
}

// Restarts the server if it is not running. `why` non-null: it was not supposed to
// be down (a self-death), counted and recorded as such.
void Nemesis::ensure_running(const char* why) {
  if (server_.running()) return;
  if (why != nullptr) {
    ++stats_.self_deaths;
    history_.nemesis("server-died", why);
  }
  for (int i = 0; i < kMaxRestartTries; ++i) {
    const Status s = server_.start();
    if (s.ok()) {
      ++stats_.restarts;
      history_.nemesis("restart", "pid " + std::to_string(server_.pid()));
      return;
    }
    error("restart: " + s.message());
    std::this_thread::sleep_for(kRestartRetry);
  }
}

}  // namespace mq::live
