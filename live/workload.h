#pragma once
// Workload: the client threads of a live run. Producers publish unique integers (as
// decimal payloads, padded to message_bytes) at a total rate; consumers fetch, record
// each delivery, and ack it. Every operation is written to the history as an invoke
// and its completion (live/history_writer.h). The inter-arrival jitter of each
// producer comes from its own sub-seed of the run's printed seed.
//
// Bounds: each thread stops when told, and in any case after kMaxOpsPerThread
// operations; every wait is a bounded sleep; a client that cannot connect retries
// every kReconnectBackoff until told to stop.
//
// Thread-safety: start/stop/drain from one controlling thread; counters may be read
// from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "live/history_writer.h"
#include "live/target.h"

namespace mq::live {

inline constexpr uint64_t kMaxOpsPerThread = 100'000'000;
inline constexpr std::chrono::milliseconds kReconnectBackoff{50};
inline constexpr std::chrono::milliseconds kFailBackoff{10};

struct WorkloadOptions {
  int producers = 2;
  int consumers = 2;
  double rate = 200;  // publishes per second, all producers together; 0: unthrottled
  // Fetches per second, all consumers together, until the drain; 0: unthrottled. Below
  // `rate`, a backlog builds up in the broker, which is what a fault can lose.
  double consume_rate = 150;
  size_t message_bytes = 0;  // payloads padded to this many bytes (0: the digits only)
  uint64_t seed = 1;
  ClientOptions client;         // timeouts; name is set per thread
  bool record_latency = false;  // keep every publish's invoke-to-ok time (bench)
};

struct LatencySummary {
  uint64_t samples = 0;
  double seconds = 0;  // the publishing phase's length
  int64_t p50_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(samples) / seconds : 0; }
};

class Workload {
 public:
  Workload(const Target& target, Endpoint endpoint, HistoryWriter& history, WorkloadOptions options);
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;
  ~Workload();

  void start();
  // Producers finish their operation in progress and stop.
  void stop_producers();
  // Consumers go on until each has been connected and found nothing for `quiet`
  // (after the drain began), or `timeout` passed. True if drained.
  bool drain(std::chrono::milliseconds quiet, std::chrono::milliseconds timeout);
  // Stops and joins every thread.
  void stop();

  LatencySummary latency() const;
  uint64_t ack_failures() const { return ack_failures_.load(); }

 private:
  struct ConsumerState {
    std::atomic<int64_t> last_ok_ns{0};      // last delivery (ns since the workload started)
    std::atomic<int64_t> last_empty_ns{-1};  // last empty fetch
  };
  void producer(int index);
  void consumer(int index);
  bool sleep_unless(const std::atomic<bool>& stop, std::chrono::nanoseconds d) const;
  std::string payload(uint64_t value) const;
  int64_t since_start_ns() const;

  const Target& target_;
  Endpoint endpoint_;
  HistoryWriter& history_;
  WorkloadOptions options_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point producers_stopped_;
  std::atomic<bool> stop_producers_{false};
  std::atomic<bool> stop_consumers_{false};
  std::atomic<uint64_t> next_value_{1};
  std::atomic<uint64_t> ack_failures_{0};
  std::vector<std::unique_ptr<ConsumerState>> consumer_state_;
  std::vector<std::thread> threads_;
  mutable std::mutex latency_mu_;
  std::vector<int64_t> latencies_ns_;  // bounded by kMaxLatencySamples
};

inline constexpr size_t kMaxLatencySamples = 20'000'000;

}  // namespace mq::live
