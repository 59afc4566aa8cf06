// Checker throughput: a large synthetic history (publish, push round-robin to two
// consumers, ack; at most two messages in flight) written to a temp file, then judged
// end to end by every checker (check_streaming: the reader, then each check of
// check_all_properties()), one event at a time. max_rss_mb is the whole process's
// peak resident set (getrusage), read after the run.
//   build/bench/checkers_bench --benchmark_filter='CheckFile|ReadOnly'
#include <benchmark/benchmark.h>

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "formats/history_io.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/stream_check.h"

namespace mq {
namespace {

Topology bench_topology() {
  Topology t;
  t.producers = {ProducerConfig{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = 64;
  q.durable = true;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual}, ConsumerConfig{"c1", "q", 1, AckMode::kManual}};
  return t;
}

// Generates about `events` events, each passed to `sink`; returns how many.
template <typename Sink>
uint64_t generate(uint64_t events, Sink&& sink) {
  uint64_t n = 0;
  TimeNs t = 0;
  auto put = [&](HistoryEvent e) {
    e.index = n++;
    e.time_ns = t;
    sink(e);
  };
  auto ev = [](const char* process, EventType type, EventF f, MessageId id) {
    HistoryEvent e;
    e.process = process;
    e.type = type;
    e.f = f;
    e.queue = "q";
    e.id = id;
    return e;
  };
  for (MessageId id = 1; n < events; id += 2) {
    ++t;
    for (MessageId m = id; m < id + 2; ++m) {
      HistoryEvent inv = ev("p0", EventType::kInvoke, EventF::kPublish, m);
      inv.payload = "payload-" + std::to_string(m);
      put(inv);
      inv.type = EventType::kOk;
      put(inv);
    }
    for (MessageId m = id; m < id + 2; ++m) {
      HistoryEvent d = ev("broker", EventType::kOk, EventF::kDeliver, m);
      d.consumer = m == id ? "c0" : "c1";
      d.payload = "payload-" + std::to_string(m);
      d.attempts = 1;
      put(d);
    }
    for (MessageId m = id; m < id + 2; ++m) {
      const char* c = m == id ? "c0" : "c1";
      HistoryEvent a = ev(c, EventType::kInvoke, EventF::kAck, m);
      a.consumer = c;
      put(a);
      a.type = EventType::kOk;
      put(a);
    }
  }
  return n;
}

uint64_t write_history(const std::string& path, uint64_t events) {
  std::ofstream out(path, std::ios::binary);
  return generate(events, [&](const HistoryEvent& e) { out << *to_json(e) << '\n'; });
}

double max_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

void report(benchmark::State& state, const std::vector<Verdict>& verdicts) {
  for (const auto& v : verdicts) {
    if (!v.valid) state.SkipWithError(to_string(v).c_str());
  }
  if (verdicts.size() != check_all_properties().size()) {
    state.SkipWithError(("expected a verdict of each of the " + std::to_string(check_all_properties().size()) +
                         " checks, got " + std::to_string(verdicts.size()))
                            .c_str());
  }
}

// The checks alone: events generated in memory and fed one at a time.
void BM_StreamingChecksInMemory(benchmark::State& state) {
  const Topology topology = bench_topology();
  uint64_t events = 0;
  for (auto _ : state) {
    StreamingChecks checks(topology, CheckOptions{true, true});
    events = generate(static_cast<uint64_t>(state.range(0)), [&](const HistoryEvent& e) { checks.add(e); });
    report(state, checks.finish());
  }
  state.SetItemsProcessed(static_cast<int64_t>(events) * state.iterations());
  state.counters["max_rss_mb"] = max_rss_mb();
}
BENCHMARK(BM_StreamingChecksInMemory)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

// End to end: a history FILE judged by every checker (the figure in docs/performance.md).
void BM_CheckFile(benchmark::State& state) {
  const std::string path = "/tmp/mq_checkers_bench_" + std::to_string(state.range(0)) + ".jsonl";
  const uint64_t events = write_history(path, static_cast<uint64_t>(state.range(0)));
  const Topology topology = bench_topology();
  for (auto _ : state) {
    auto verdicts = check_streaming(path, topology, CheckOptions{true, true});
    if (!verdicts.ok()) {
      state.SkipWithError(verdicts.status().to_string().c_str());
      break;
    }
    report(state, *verdicts);
    benchmark::DoNotOptimize(verdicts);
  }
  state.SetItemsProcessed(static_cast<int64_t>(events) * state.iterations());
  state.counters["max_rss_mb"] = max_rss_mb();
  std::remove(path.c_str());
}
BENCHMARK(BM_CheckFile)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

// The reader alone (formats/history_io.h), for comparison: what the checks add to it.
void BM_ReadOnly(benchmark::State& state) {
  const std::string path = "/tmp/mq_checkers_bench_read_" + std::to_string(state.range(0)) + ".jsonl";
  const uint64_t events = write_history(path, static_cast<uint64_t>(state.range(0)));
  for (auto _ : state) {
    uint64_t n = 0;
    Status s = for_each_history_event(path, [&](HistoryEvent&&) {
      ++n;
      return Status();
    });
    if (!s.ok()) state.SkipWithError(s.to_string().c_str());
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<int64_t>(events) * state.iterations());
  std::remove(path.c_str());
}
BENCHMARK(BM_ReadOnly)->Arg(1'000'000)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace mq
