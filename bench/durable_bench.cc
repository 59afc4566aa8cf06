// Durable publish with group commit (Broker + Wal + FileStorage) against a raw
// append + fdatasync loop writing records of the same size (128 B) to the same disk.
//
//   build-release/bench/durable_bench                  (data under ./mq_durable_bench)
//   MQ_BENCH_DIR=/some/disk build-release/bench/durable_bench
//
// BM_RawAppendSync/B      one write of B records + fdatasync per iteration
// BM_DurablePublishBatch/B one publish_batch of B messages (returns after the sync)
// BM_DurableSyncPublishers 8 threads, each waiting for every confirm (publish)
// BM_DurableAsyncPublishers 8 threads, each keeping up to 64 publish_async in flight

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "impl/broker.h"
#include "impl/wal_record.h"

namespace {

using namespace mq::impl;
using namespace std::chrono_literals;

constexpr size_t kRecordBytes = 128;

std::filesystem::path bench_dir(const std::string& tag) {
  const char* env = std::getenv("MQ_BENCH_DIR");
  auto dir = std::filesystem::path(env != nullptr ? env : "mq_durable_bench") / tag;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir.parent_path());
  return dir;
}

// The payload size that makes a put record (frame header included) 128 bytes.
size_t payload_bytes() {
  Effect e;
  e.kind = EffectKind::kAccepted;
  e.persist = true;
  e.message.payload = std::make_shared<const std::string>();
  std::string out;
  encode_record(record_of(e), out);
  if (out.size() > kRecordBytes) std::abort();
  return kRecordBytes - out.size();
}

BrokerOptions durable_options(const std::string& dir, uint32_t producers, uint32_t max_unconfirmed) {
  BrokerOptions o;
  o.data_dir = dir;
  o.max_unconfirmed = max_unconfirmed;
  for (uint32_t p = 0; p < producers; ++p) o.config.producers.push_back({"p" + std::to_string(p)});
  QueueOptions q;
  q.name = "q";
  q.capacity = 1u << 22;
  q.durable = true;
  o.config.queues.push_back(q);
  return o;
}

void BM_RawAppendSync(benchmark::State& state) {
  const auto batch = static_cast<size_t>(state.range(0));
  const auto dir = bench_dir("raw");
  std::filesystem::create_directories(dir);
  const int fd = ::open((dir / "raw.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  const std::string buf(batch * kRecordBytes, 'r');
  for (auto _ : state) {
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size())) std::abort();
    if (::fdatasync(fd) != 0) std::abort();
  }
  ::close(fd);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * buf.size()));
}

void BM_DurablePublishBatch(benchmark::State& state) {
  const auto batch = static_cast<size_t>(state.range(0));
  const auto dir = bench_dir("batch");
  auto broker = Broker::open(durable_options(dir.string(), 1, 64));
  if (!broker.ok()) std::abort();
  const std::string payload(payload_bytes(), 'p');
  std::vector<MessageSpec> specs(batch);
  MessageId id = 0;
  for (auto _ : state) {
    for (MessageSpec& s : specs) s = MessageSpec{++id, payload, 0, 0, 0, std::nullopt};
    auto n = (*broker)->publish_batch(0, 0, specs, 10s);
    if (!n.ok() || *n != batch) std::abort();
  }
  broker.value().reset();
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
}

// Runs `per_thread` publishes on each of 8 threads; wall time is the result.
template <typename Publish>
void run_publishers(benchmark::State& state, uint32_t max_unconfirmed, uint64_t per_thread, Publish publish) {
  constexpr uint32_t kThreads = 8;
  const std::string payload(payload_bytes(), 'p');
  for (auto _ : state) {
    const auto dir = bench_dir("publishers");
    auto broker = Broker::open(durable_options(dir.string(), kThreads, max_unconfirmed));
    if (!broker.ok()) std::abort();
    Broker& b = **broker;
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (uint32_t p = 0; p < kThreads; ++p) {
      threads.emplace_back([&, p] {
        for (uint64_t k = 0; k < per_thread; ++k) {
          publish(b, p, MessageSpec{(uint64_t{p} << 40) + k, payload, 0, 0, 0, std::nullopt});
        }
      });
    }
    for (std::thread& t : threads) t.join();
    b.close();  // delivers every outstanding confirm
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    broker.value().reset();
    std::filesystem::remove_all(dir);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kThreads * per_thread));
}

void BM_DurableSyncPublishers(benchmark::State& state) {
  run_publishers(state, 1, 400, [](Broker& b, ProducerId p, MessageSpec s) {
    auto r = b.publish(p, 0, std::move(s), 10s);
    if (!r.ok() || *r != Confirm::kStored) std::abort();
  });
}

void BM_DurableAsyncPublishers(benchmark::State& state) {
  std::atomic<uint64_t> confirmed{0};
  run_publishers(state, 64, 40000, [&](Broker& b, ProducerId p, MessageSpec s) {
    const mq::Status st = b.publish_async(p, 0, std::move(s), [&](mq::Result<Confirm> r) {
      if (!r.ok() || *r != Confirm::kStored) std::abort();
      confirmed.fetch_add(1, std::memory_order_relaxed);
    });
    if (!st.ok()) std::abort();
  });
  state.counters["confirmed"] = static_cast<double>(confirmed.load());
}

BENCHMARK(BM_RawAppendSync)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_DurablePublishBatch)->Arg(1)->Arg(16)->Arg(256)->UseRealTime();
BENCHMARK(BM_DurableSyncPublishers)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_DurableAsyncPublishers)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
