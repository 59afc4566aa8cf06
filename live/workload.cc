#include "live/workload.h"

#include <algorithm>

#include "base/prng.h"

namespace mq::live {
namespace {

constexpr std::chrono::milliseconds kDrainPoll{50};

int64_t percentile(const std::vector<int64_t>& sorted, int per_thousand) {
  if (sorted.empty()) return 0;
  const size_t i = std::min(sorted.size() - 1, sorted.size() * static_cast<size_t>(per_thousand) / 1000);
  return sorted[i];
}

}  // namespace

Workload::Workload(const Target& target, Endpoint endpoint, HistoryWriter& history, WorkloadOptions options)
    : target_(target), endpoint_(std::move(endpoint)), history_(history), options_(std::move(options)) {
  MQ_CHECK(options_.producers >= 0 && options_.consumers >= 0);
  for (int i = 0; i < options_.consumers; ++i) consumer_state_.push_back(std::make_unique<ConsumerState>());
}

Workload::~Workload() {
  stop();
}

int64_t Workload::since_start_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_)
      .count();
}

void Workload::start() {
  start_ = std::chrono::steady_clock::now();
  for (int i = 0; i < options_.producers; ++i) threads_.emplace_back([this, i] { producer(i); });
  for (int i = 0; i < options_.consumers; ++i) threads_.emplace_back([this, i] { consumer(i); });
}

bool Workload::sleep_unless(const std::atomic<bool>& stop, std::chrono::nanoseconds d) const {
  constexpr auto kSlice = std::chrono::milliseconds(20);
  const auto until = std::chrono::steady_clock::now() + d;
  for (int i = 0; i < 1'000'000 && !stop.load(); ++i) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= until) return true;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(until - now, kSlice));
  }
  return !stop.load();
}

std::string Workload::payload(uint64_t value) const {
  std::string p = std::to_string(value);
  if (p.size() + 1 < options_.message_bytes) {
    p += ' ';
    p.resize(options_.message_bytes, 'x');
  }
  return p;
}

void Workload::producer(int index) {
  ClientOptions co = options_.client;
  co.name = "p" + std::to_string(index);
  co.consumer = false;
  auto client = target_.client(endpoint_, co);
  Prng prng(derive_seed(options_.seed, co.name));
  // Each producer's share of the rate, with inter-arrival times jittered in [0.5, 1.5).
  const int64_t interval_ns =
      options_.rate > 0 ? static_cast<int64_t>(1e9 * options_.producers / options_.rate) : 0;
  auto next = std::chrono::steady_clock::now();
  std::vector<int64_t> latencies;
  for (uint64_t op = 0; op < kMaxOpsPerThread && !stop_producers_.load(); ++op) {
    if (!client->connected() && !client->connect().is_ok()) {
      sleep_unless(stop_producers_, kReconnectBackoff);
      continue;
    }
    if (interval_ns > 0) {
      next += std::chrono::nanoseconds(interval_ns * (500 + static_cast<int64_t>(prng.uniform(1000))) / 1000);
      if (!sleep_unless(stop_producers_, next - std::chrono::steady_clock::now())) break;
    }
    const uint64_t value = next_value_.fetch_add(1);
    history_.enqueue(index, EventType::kInvoke, value);
    const auto t0 = std::chrono::steady_clock::now();
    const Outcome out = client->publish(payload(value));
    const auto t1 = std::chrono::steady_clock::now();
    history_.enqueue(index, out.type, value, out.error);
    if (out.is_ok() && options_.record_latency && latencies.size() < kMaxLatencySamples) {
      latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    if (!out.is_ok()) sleep_unless(stop_producers_, kFailBackoff);
  }
  client->disconnect();
  std::lock_guard lock(latency_mu_);
  latencies_ns_.insert(latencies_ns_.end(), latencies.begin(), latencies.end());
}

void Workload::consumer(int index) {
  ClientOptions co = options_.client;
  co.name = "c" + std::to_string(index);
  co.consumer = true;
  auto client = target_.client(endpoint_, co);
  ConsumerState& state = *consumer_state_[static_cast<size_t>(index)];
  const int process = options_.producers + index;
  Prng prng(derive_seed(options_.seed, co.name));
  const int64_t interval_ns =
      options_.consume_rate > 0 ? static_cast<int64_t>(1e9 * options_.consumers / options_.consume_rate) : 0;
  auto next = std::chrono::steady_clock::now();
  for (uint64_t op = 0; op < kMaxOpsPerThread && !stop_consumers_.load(); ++op) {
    if (!client->connected() && !client->connect().is_ok()) {
      sleep_unless(stop_consumers_, kReconnectBackoff);
      continue;
    }
    // Throttled until the drain; the drain takes everything as fast as it comes.
    if (interval_ns > 0 && !stop_producers_.load()) {
      next = std::max(next, std::chrono::steady_clock::now() - std::chrono::seconds(1));
      next += std::chrono::nanoseconds(interval_ns * (500 + static_cast<int64_t>(prng.uniform(1000))) / 1000);
      sleep_unless(stop_producers_, next - std::chrono::steady_clock::now());
    }
    history_.dequeue_invoke(process);
    Fetch f = client->fetch();
    if (f.outcome.is_ok()) {
      MQ_CHECK(f.delivery.has_value());
      history_.dequeue(process, EventType::kOk, f.delivery->value, f.delivery->attempts, co.name);
      state.last_ok_ns.store(since_start_ns());
      if (!client->ack(*f.delivery).is_ok()) ack_failures_.fetch_add(1);
      continue;
    }
    history_.dequeue(process, f.outcome.type, "", 0, co.name, f.outcome.error);
    if (f.outcome.type == EventType::kFail && f.outcome.error == kEmpty) {
      state.last_empty_ns.store(since_start_ns());
    } else {
      sleep_unless(stop_consumers_, kFailBackoff);
    }
  }
  client->disconnect();
}

void Workload::stop_producers() {
  stop_producers_.store(true);
  producers_stopped_ = std::chrono::steady_clock::now();
}

bool Workload::drain(std::chrono::milliseconds quiet, std::chrono::milliseconds timeout) {
  const int64_t began = since_start_ns();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int64_t i = 0; i < timeout / kDrainPoll + 1; ++i) {
    const int64_t now = since_start_ns();
    bool all_quiet = options_.consumers > 0;
    for (const auto& s : consumer_state_) {
      const int64_t empty = s->last_empty_ns.load();
      const int64_t quiet_since = std::max(began, s->last_ok_ns.load());
      all_quiet = all_quiet && empty >= quiet_since && now - quiet_since >= quiet.count() * 1'000'000;
    }
    if (all_quiet) return true;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(kDrainPoll);
  }
  return false;
}

void Workload::stop() {
  stop_producers_.store(true);
  stop_consumers_.store(true);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

LatencySummary Workload::latency() const {
  std::lock_guard lock(latency_mu_);
  std::vector<int64_t> sorted = latencies_ns_;
  std::sort(sorted.begin(), sorted.end());
  LatencySummary s;
  s.samples = sorted.size();
  const auto end = producers_stopped_ > start_ ? producers_stopped_ : std::chrono::steady_clock::now();
  s.seconds = std::chrono::duration<double>(end - start_).count();
  s.p50_ns = percentile(sorted, 500);
  s.p99_ns = percentile(sorted, 990);
  s.p999_ns = percentile(sorted, 999);
  s.max_ns = sorted.empty() ? 0 : sorted.back();
  return s;
}

}  // namespace mq::live
