// Stress test of the Broker shell: producers using every publish API (blocking,
// batched, asynchronous), consumers that fetch in batches and nack at random, one
// small durable queue (so publishers block on a full queue), and a clean restart
// from the same data directory while everyone is running. The recorded history
// (a Jepsen queue history: enqueue invoke/ok/fail, and a dequeue for every
// successful ack) must show no lost, duplicated, invented or resurrected message
// (Jepsen's total-queue checker, properties/checkers/jepsen_queue.h), and explicit
// bookkeeping checks integrity (payload) and that every redelivery is marked
// (the attempts a message is delivered with never repeat).
//
// Reproduce: the seed is printed; MQ_STRESS_SEED=<seed> reruns with the same random
// choices (the thread interleaving is the OS's).

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "base/prng.h"
#include "impl/broker.h"
#include "properties/checkers/jepsen_queue.h"

namespace mq::impl {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kProducers = 4;
constexpr uint32_t kConsumers = 3;
constexpr uint64_t kPerProducer = 1500;
constexpr uint32_t kNackPpm = 150'000;  // 15% of deliveries are nacked (requeued)
constexpr auto kDrainBudget = 30s;

BrokerOptions stress_options(const std::string& dir) {
  BrokerOptions o;
  for (uint32_t p = 0; p < kProducers; ++p) o.config.producers.push_back({"p" + std::to_string(p)});
  QueueOptions q;
  q.name = "jobs";
  q.capacity = 64;
  q.durable = true;
  q.max_retries = 1'000'000;  // random nacks must never dead-letter
  o.config.queues.push_back(q);
  for (uint32_t c = 0; c < kConsumers; ++c) {
    o.config.consumers.push_back({"c" + std::to_string(c), "jobs", 8, AckMode::kManual});
  }
  o.data_dir = dir;
  o.max_unconfirmed = 16;
  return o;
}

// The broker in service; swapped by the restart. Threads keep the one they
// fetched from (a shared_ptr), so an ack never goes to a broker that did not
// deliver the message.
class Current {
 public:
  std::shared_ptr<Broker> get() {
    std::lock_guard<std::mutex> lk(mu_);
    return broker_;
  }
  void set(std::shared_ptr<Broker> b) {
    std::lock_guard<std::mutex> lk(mu_);
    broker_ = std::move(b);
  }

 private:
  std::mutex mu_;
  std::shared_ptr<Broker> broker_;
};

// One thread's part of the history, merged at the end (the total-queue checker
// counts multisets, so the interleaving of threads does not matter to it).
struct Log {
  std::vector<JepsenOp> ops;
  void add(const std::string& process, EventType type, const char* f, MessageId id) {
    JepsenOp op;
    op.process = process;
    op.type = type;
    op.f = f;
    op.value = std::to_string(id);
    ops.push_back(std::move(op));
  }
};

std::string payload_of(MessageId id) { return "job-" + std::to_string(id); }
MessageSpec spec(MessageId id) { return MessageSpec{id, payload_of(id), 0, 0, 0, std::nullopt}; }

struct Shared {
  Current current;
  std::atomic<uint64_t> confirmed{0}, acked{0};
  std::atomic<bool> producers_done{false};
};

// Waits for the restart to put a new broker in place of `old`.
std::shared_ptr<Broker> next_broker(Shared& s, const std::shared_ptr<Broker>& old) {
  for (int k = 0; k < 2000; ++k) {
    auto b = s.current.get();
    if (b != old) return b;
    std::this_thread::sleep_for(1ms);
  }
  return s.current.get();
}

void produce(Shared& s, ProducerId p, Log& log) {
  const std::string who = "p" + std::to_string(p);
  Prng rng(p + 1);
  std::shared_ptr<Broker> b = s.current.get();
  std::mutex async_mu;  // async confirms arrive on the commit thread
  MessageId next = uint64_t{p + 1} * 1'000'000;
  const MessageId end = next + kPerProducer;
  // Bounded: each round consumes at least one id.
  while (next < end) {
    const size_t n = std::min<uint64_t>(end - next, 1 + rng.uniform(16));
    std::vector<MessageSpec> specs;
    for (size_t k = 0; k < n; ++k) specs.push_back(spec(next + k));
    {
      std::lock_guard<std::mutex> lk(async_mu);
      for (size_t k = 0; k < n; ++k) log.add(who, EventType::kInvoke, "enqueue", next + k);
    }
    size_t ok = 0;
    bool unavailable = false;
    if (p % 3 == 0) {  // the blocking single publish
      for (; ok < n; ++ok) {
        auto r = b->publish(p, 0, specs[ok], 50ms);
        if (!r.ok()) MQ_CHECK_MSG(r.status().code() == Code::kUnavailable, r.status().to_string().c_str());
        if (!r.ok() || *r == Confirm::kFull) break;
      }
      unavailable = ok < n;
    } else if (p % 3 == 1) {  // batches
      auto r = b->publish_batch(p, 0, specs, 50ms);
      if (!r.ok()) MQ_CHECK_MSG(r.status().code() == Code::kUnavailable, r.status().to_string().c_str());
      ok = r.ok() ? *r : 0;
      unavailable = !r.ok();
    } else {  // asynchronous confirms, recorded when they arrive
      for (; ok < n; ++ok) {
        const MessageId id = next + ok;
        const Status st = b->publish_async(p, 0, specs[ok], [&log, &async_mu, &s, who, id](Result<Confirm> r) {
          MQ_CHECK(r.ok());
          std::lock_guard<std::mutex> lk(async_mu);
          const bool stored = *r != Confirm::kFull;
          log.add(who, stored ? EventType::kOk : EventType::kFail, "enqueue", id);
          if (stored) s.confirmed++;
        });
        if (!st.ok()) {
          MQ_CHECK_MSG(st.code() == Code::kUnavailable, st.to_string().c_str());
          break;
        }
      }
      std::lock_guard<std::mutex> lk(async_mu);
      for (size_t k = ok; k < n; ++k) log.add(who, EventType::kFail, "enqueue", next + k);
      unavailable = ok < n;
    }
    if (p % 3 != 2) {
      for (size_t k = 0; k < n; ++k) log.add(who, k < ok ? EventType::kOk : EventType::kFail, "enqueue", next + k);
      s.confirmed += ok;
    }
    next += n;
    if (unavailable) b = next_broker(s, b);
  }
  // The async confirms of the last broker: it must not be closed under us, and
  // the callbacks reference this frame, so wait for them here.
  for (int k = 0; k < 10000; ++k) {
    {
      std::lock_guard<std::mutex> lk(async_mu);
      size_t invokes = 0, ends = 0;
      for (const JepsenOp& op : log.ops) (op.type == EventType::kInvoke ? invokes : ends)++;
      if (invokes == ends) return;
    }
    std::this_thread::sleep_for(1ms);
  }
  MQ_CHECK_MSG(false, "asynchronous confirms did not arrive");
}

struct Seen {
  std::map<MessageId, std::vector<uint32_t>> attempts;  // per id, as delivered
  uint64_t bad_payloads = 0;
};

void consume(Shared& s, ConsumerId c, uint64_t seed, Log& log, Seen& seen) {
  const std::string who = "c" + std::to_string(c);
  Prng rng(seed + 100 + c);
  std::shared_ptr<Broker> b = s.current.get();
  const auto give_up = std::chrono::steady_clock::now() + kDrainBudget;
  // Bounded by kDrainBudget.
  while (std::chrono::steady_clock::now() < give_up) {
    if (s.producers_done && s.acked.load() >= s.confirmed.load()) return;
    auto got = b->fetch_batch(c, 8, 20ms);
    if (!got.ok()) {
      MQ_CHECK_MSG(got.status().code() == Code::kUnavailable, got.status().to_string().c_str());
      b = next_broker(s, b);
      continue;
    }
    for (const Delivery& d : *got) {
      seen.attempts[d.message.id].push_back(d.message.attempts);
      if (d.message.payload_view() != payload_of(d.message.id)) seen.bad_payloads++;
      const bool nack = rng.chance_ppm(kNackPpm);
      const Status st = nack ? b->nack(c, d.message.id, true) : b->ack(c, d.message.id);
      if (!st.ok()) {
        // The broker closed under us: the delivery comes back after the restart.
        MQ_CHECK_MSG(st.code() == Code::kUnavailable, st.to_string().c_str());
        continue;
      }
      if (!nack) {
        log.add(who, EventType::kOk, "dequeue", d.message.id);
        s.acked++;
      }
    }
  }
}

uint64_t stress_seed() {
  const char* env = std::getenv("MQ_STRESS_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : 20261127;
}

TEST(BrokerStress, ConcurrentHistoryWithRestartLosesNothing) {
  const uint64_t seed = stress_seed();
  std::printf("broker_stress_test: MQ_STRESS_SEED=%llu\n", static_cast<unsigned long long>(seed));
  const auto dir = (std::filesystem::temp_directory_path() / ("mq_broker_stress_" + std::to_string(::getpid())));
  std::filesystem::remove_all(dir);
  Shared s;
  {
    auto b = Broker::open(stress_options(dir.string()));
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    s.current.set(std::move(b).value());
  }
  std::vector<Log> plogs(kProducers), clogs(kConsumers);
  std::vector<Seen> seen(kConsumers);
  std::vector<std::thread> threads;
  for (ProducerId p = 0; p < kProducers; ++p) threads.emplace_back([&, p] { produce(s, p, plogs[p]); });
  for (ConsumerId c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] { consume(s, c, seed, clogs[c], seen[c]); });
  }
  // The restart, in the middle of the run: close (syncs everything), reopen.
  for (int k = 0; k < 20000 && s.confirmed.load() < kProducers * kPerProducer / 2; ++k) {
    std::this_thread::sleep_for(1ms);
  }
  {
    auto old = s.current.get();
    old->close();
    auto b = Broker::open(stress_options(dir.string()));
    ASSERT_TRUE(b.ok()) << b.status().to_string();
    s.current.set(std::move(b).value());
  }
  for (ProducerId p = 0; p < kProducers; ++p) threads[p].join();
  s.producers_done = true;
  for (size_t k = kProducers; k < threads.size(); ++k) threads[k].join();
  const QueueStats end = s.current.get()->stats(0);
  s.current.get()->close();

  std::vector<JepsenOp> history;
  for (auto* logs : {&plogs, &clogs}) {
    for (Log& l : *logs) history.insert(history.end(), l.ops.begin(), l.ops.end());
  }
  const TotalQueueReport r = check_total_queue(history);
  std::printf("%s\n", to_string(r).c_str());
  EXPECT_TRUE(r.valid);
  EXPECT_EQ(r.lost_count, 0u);
  EXPECT_EQ(r.duplicated_count, 0u);
  EXPECT_EQ(r.unexpected_count, 0u);
  EXPECT_EQ(r.recovered_count, 0u);  // a publish that failed was never stored
  EXPECT_EQ(r.acknowledged_count, s.confirmed.load());
  EXPECT_EQ(r.ok_count, s.confirmed.load());  // every confirmed message was consumed
  EXPECT_EQ(end.size, 0u);
  uint64_t deliveries = 0, redeliveries = 0;
  std::map<MessageId, std::set<uint32_t>> all;
  for (const Seen& sc : seen) {
    EXPECT_EQ(sc.bad_payloads, 0u);
    for (const auto& [id, as] : sc.attempts) {
      for (uint32_t a : as) {
        EXPECT_TRUE(all[id].insert(a).second) << "message #" << id << " delivered twice with attempts " << a;
        deliveries++;
        redeliveries += a > 1;
      }
    }
  }
  std::printf("deliveries %llu, redeliveries %llu\n", static_cast<unsigned long long>(deliveries),
              static_cast<unsigned long long>(redeliveries));
  EXPECT_GT(redeliveries, 0u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mq::impl
