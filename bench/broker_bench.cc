// Broker shell throughput, side by side with a queue that has no semantics at all
// (moodycamel::ConcurrentQueue): P producer threads publish N messages in batches
// (publish_batch), C consumer threads take them in batches (fetch_batch) and ack
// them (ack_batch). Wall time per run (manual time), messages/s one-to-one.
//
//   build-release/bench/broker_bench --benchmark_filter='Throughput'
//
// Arguments: /producers/consumers/batch. BM_BrokerQueuePairs/N and
// BM_ShardedQueuePairs/N: N pairs, each on its own queue, on a Broker and on a
// ShardedBroker; BM_BrokerOneThread: the calls from one thread.

#include <benchmark/benchmark.h>
#include <concurrentqueue.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "impl/broker.h"
#include "impl/sharded_broker.h"

namespace {

using namespace mq::impl;
using namespace std::chrono_literals;

constexpr uint64_t kMessages = 1u << 20;  // per run
constexpr char kPayload[] = "payload";

BrokerOptions throughput_options(uint32_t producers, uint32_t consumers, uint32_t batch) {
  BrokerOptions o;
  for (uint32_t p = 0; p < producers; ++p) o.config.producers.push_back({"p" + std::to_string(p)});
  QueueOptions q;
  q.name = "q";
  q.capacity = 1u << 13;  // the id tables stay in cache (1 << 16 measured 0.9-1.0 M/s)
  o.config.queues.push_back(q);
  for (uint32_t c = 0; c < consumers; ++c) {
    o.config.consumers.push_back({"c" + std::to_string(c), "q", 4 * batch, AckMode::kManual});
  }
  return o;
}

template <class B>  // Broker or ShardedBroker
void produce(B& b, ProducerId p, QueueId q, uint64_t count, uint32_t batch) {
  std::vector<MessageSpec> specs(batch);
  const MessageId base = uint64_t{p} << 40;
  for (uint64_t sent = 0; sent < count;) {
    const size_t n = std::min<uint64_t>(batch, count - sent);
    for (size_t k = 0; k < n; ++k) specs[k] = MessageSpec{base + sent + k, kPayload, 0, 0, 0, std::nullopt};
    auto r = b.publish_batch(p, q, std::span<MessageSpec>(specs.data(), n), 10s);
    if (!r.ok() || *r == 0) std::abort();
    sent += *r;
  }
}

template <class B>  // Broker or ShardedBroker
void consume(B& b, ConsumerId c, std::atomic<uint64_t>& left, uint32_t batch) {
  std::vector<MessageId> ids;
  while (left.load(std::memory_order_relaxed) > 0) {
    auto got = b.fetch_batch(c, batch, 1ms);
    if (!got.ok()) std::abort();
    ids.clear();
    for (const Delivery& d : *got) ids.push_back(d.message.id);
    if (!b.ack_batch(c, ids).ok()) std::abort();
    left.fetch_sub(ids.size(), std::memory_order_relaxed);
  }
}

void BM_BrokerThroughput(benchmark::State& state) {
  const auto producers = static_cast<uint32_t>(state.range(0));
  const auto consumers = static_cast<uint32_t>(state.range(1));
  const auto batch = static_cast<uint32_t>(state.range(2));
  for (auto _ : state) {
    auto broker = Broker::open(throughput_options(producers, consumers, batch));
    if (!broker.ok()) std::abort();
    Broker& b = **broker;
    std::atomic<uint64_t> left{kMessages};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (uint32_t p = 0; p < producers; ++p) threads.emplace_back([&, p] { produce(b, p, 0, kMessages / producers, batch); });
    for (uint32_t c = 0; c < consumers; ++c) threads.emplace_back([&, c] { consume(b, c, left, batch); });
    for (std::thread& t : threads) t.join();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessages));
}

// N producer/consumer pairs, each pair on its own queue (N queues, one broker): the
// throughput the goal wants to grow with the pairs on as many cores. A Broker serves
// every queue with one BrokerCore under one lock, so its pairs take turns;
// ShardedBroker gives each unlinked queue a shard (its own core and lock) on a core.
BrokerOptions pair_options(uint32_t pairs, uint32_t batch) {
  BrokerOptions o;
  for (uint32_t k = 0; k < pairs; ++k) {
    o.config.producers.push_back({"p" + std::to_string(k)});
    QueueOptions q;
    q.name = "q" + std::to_string(k);
    q.capacity = 1u << 13;
    o.config.queues.push_back(q);
    o.config.consumers.push_back({"c" + std::to_string(k), q.name, 4 * batch, AckMode::kManual});
  }
  return o;
}

std::unique_ptr<Broker> open_pairs(BrokerOptions o) { return std::move(Broker::open(std::move(o))).value(); }
std::unique_ptr<ShardedBroker> open_sharded_pairs(BrokerOptions o) {
  return std::move(ShardedBroker::open({std::move(o), 0})).value();
}

template <class B, std::unique_ptr<B> (*Open)(BrokerOptions)>
void BM_QueuePairs(benchmark::State& state) {
  const auto pairs = static_cast<uint32_t>(state.range(0));
  constexpr uint32_t kBatch = 256;
  const uint64_t each = kMessages / pairs;
  for (auto _ : state) {
    std::unique_ptr<B> broker = Open(pair_options(pairs, kBatch));
    B& b = *broker;
    std::vector<std::atomic<uint64_t>> left(pairs);
    for (auto& l : left) l = each;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (uint32_t k = 0; k < pairs; ++k) {
      threads.emplace_back([&, k] { produce(b, k, k, each, kBatch); });
      threads.emplace_back([&, k] { consume(b, k, left[k], kBatch); });
    }
    for (std::thread& t : threads) t.join();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * each * pairs));
}

void BM_BrokerQueuePairs(benchmark::State& state) { BM_QueuePairs<Broker, open_pairs>(state); }
void BM_ShardedQueuePairs(benchmark::State& state) { BM_QueuePairs<ShardedBroker, open_sharded_pairs>(state); }

// The same calls from one thread, in turn (publish a batch, fetch it, ack it): no
// lock is ever contended and no thread waits, so the gap to BM_BrokerThroughput/1/1
// is what two threads handing the broker back and forth cost, and the gap to
// broker_core_bench's BM_ShellCycle what the Broker's calls add to the shell.
void BM_BrokerOneThread(benchmark::State& state) {
  const auto batch = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    auto broker = Broker::open(throughput_options(1, 1, batch));
    if (!broker.ok()) std::abort();
    Broker& b = **broker;
    std::vector<MessageSpec> specs(batch);
    std::vector<MessageId> ids;
    const auto t0 = std::chrono::steady_clock::now();
    for (uint64_t sent = 0; sent < kMessages; sent += batch) {
      for (uint32_t k = 0; k < batch; ++k) specs[k] = MessageSpec{sent + k, kPayload, 0, 0, 0, std::nullopt};
      auto r = b.publish_batch(0, 0, std::span<MessageSpec>(specs), 10s);
      if (!r.ok() || *r != batch) std::abort();
      auto got = b.fetch_batch(0, batch, 1s);
      if (!got.ok() || got->size() != batch) std::abort();
      ids.clear();
      for (const Delivery& d : *got) ids.push_back(d.message.id);
      if (!b.ack_batch(0, ids).ok()) std::abort();
    }
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessages));
}

// The no-semantics upper bound: the same message (id + payload) through a
// lock-free MPMC queue, with the same bulk sizes.
void BM_MoodycamelThroughput(benchmark::State& state) {
  const auto producers = static_cast<uint32_t>(state.range(0));
  const auto consumers = static_cast<uint32_t>(state.range(1));
  const auto batch = static_cast<uint32_t>(state.range(2));
  using Item = std::pair<MessageId, std::string>;
  for (auto _ : state) {
    moodycamel::ConcurrentQueue<Item> q;
    std::atomic<uint64_t> left{kMessages};
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (uint32_t p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        moodycamel::ProducerToken tok(q);
        std::vector<Item> items(batch);
        const uint64_t count = kMessages / producers;
        for (uint64_t sent = 0; sent < count; sent += batch) {
          const size_t n = std::min<uint64_t>(batch, count - sent);
          for (size_t k = 0; k < n; ++k) items[k] = Item{(uint64_t{p} << 40) + sent + k, kPayload};
          q.enqueue_bulk(tok, std::make_move_iterator(items.begin()), n);
        }
      });
    }
    for (uint32_t c = 0; c < consumers; ++c) {
      threads.emplace_back([&] {
        moodycamel::ConsumerToken tok(q);
        std::vector<Item> items(batch);
        while (left.load(std::memory_order_relaxed) > 0) {
          const size_t n = q.try_dequeue_bulk(tok, items.begin(), batch);
          benchmark::DoNotOptimize(items.data());
          left.fetch_sub(n, std::memory_order_relaxed);
        }
      });
    }
    for (std::thread& t : threads) t.join();
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kMessages));
}

void ThroughputArgs(benchmark::internal::Benchmark* b) {
  for (int64_t p : {1, 2}) {
    for (int64_t c : {1, 2}) b->Args({p, c, 256});
  }
  b->Args({1, 1, 1});  // no batching: the per-call cost
  b->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
}

BENCHMARK(BM_BrokerThroughput)->Apply(ThroughputArgs);
BENCHMARK(BM_MoodycamelThroughput)->Apply(ThroughputArgs);
BENCHMARK(BM_BrokerQueuePairs)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK(BM_ShardedQueuePairs)->Arg(1)->Arg(2)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK(BM_BrokerOneThread)->Arg(256)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);

}  // namespace
