// BrokerCore cost curves: publish, fetch+ack and round-robin dispatch, from 2^10 to
// 2^20 messages and 1 to 1000 consumers; and the cost of one message's whole cycle
// (publish, deliver, ack) beside a plain mutex + deque push/pop, the floor. The
// design's complexity claims (send, receive and dispatch O(1) amortized) show as a
// flat ns-per-item column across sizes and consumer counts. BM_QueuedMemory reports
// the memory a queued message costs, as the allocator sees it.

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <deque>
#include <mutex>
#include <string>

#include "impl/broker_core.h"
#include "impl/server_shell.h"

namespace {

using namespace mq::impl;

BrokerCore make_core(uint32_t capacity, uint32_t consumers, uint32_t prefetch) {
  BrokerConfig c;
  c.producers.push_back({"p"});
  QueueOptions q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = 4;
  c.queues.push_back(q);
  for (uint32_t i = 0; i < consumers; ++i) {
    c.consumers.push_back({"c" + std::to_string(i), "q", prefetch, AckMode::kManual});
  }
  return std::move(BrokerCore::create(std::move(c))).value();
}

MessageSpec spec(MessageId id) { return MessageSpec{id, "payload", static_cast<Priority>(id % 4), 0, 0, {}}; }

void fill(BrokerCore& core, int64_t n, Effects& out) {
  for (int64_t i = 0; i < n; ++i) {
    out.clear();
    if (!core.send(0, 0, 0, spec(static_cast<MessageId>(i)), out).ok()) std::abort();
  }
}

void BM_Publish(benchmark::State& state) {
  const int64_t n = state.range(0);
  Effects out;
  out.reserve(8);
  for (auto _ : state) {
    state.PauseTiming();
    BrokerCore core = make_core(static_cast<uint32_t>(n), 1, 1);
    state.ResumeTiming();
    fill(core, n, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_FetchAck(benchmark::State& state) {
  const int64_t n = state.range(0);
  Effects out;
  out.reserve(8);
  for (auto _ : state) {
    state.PauseTiming();
    BrokerCore core = make_core(static_cast<uint32_t>(n), 1, 1);
    fill(core, n, out);
    state.ResumeTiming();
    for (int64_t i = 0; i < n; ++i) {
      out.clear();
      if (!core.fetch(0, 0, out).ok() || out.empty()) std::abort();
      if (!core.ack(0, 0, out.front().message.id, out).ok()) std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// Every consumer holds one unacked message except the one the cursor reaches last,
// so round-robin must skip all the others each time: the model's scan is O(|C|)
// here, the core's credit ring is not.
void BM_Dispatch(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto consumers = static_cast<uint32_t>(state.range(1));
  Effects out;
  out.reserve(8);
  for (auto _ : state) {
    state.PauseTiming();
    BrokerCore core = make_core(static_cast<uint32_t>(n + consumers), consumers, 1);
    fill(core, n + consumers - 1, out);
    for (uint32_t c = 0; c + 1 < consumers; ++c) {
      out.clear();
      if (!core.fetch(0, c, out).ok()) std::abort();
    }
    state.ResumeTiming();
    for (int64_t i = 0; i < n; ++i) {
      out.clear();
      if (!core.dispatch(0, 0, out).ok() || out.empty()) std::abort();
      const Effect& d = out.front();
      if (!core.ack(0, d.consumer, d.message.id, out).ok()) std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// One message's whole life, one thread: publish, deliver (fetch), ack. The queue
// stays empty between cycles, so this is the fixed cost per message.
void BM_CoreCycle(benchmark::State& state) {
  BrokerCore core = make_core(1024, 1, 1);
  Effects out;
  out.reserve(8);
  MessageId id = 0;
  for (auto _ : state) {
    out.clear();
    if (!core.send(0, 0, 0, MessageSpec{++id, "payload", 0, 0, 0, {}}, out).ok()) std::abort();
    out.clear();
    if (!core.fetch(0, 0, out).ok() || out.empty()) std::abort();
    out.clear();
    if (!core.ack(0, 0, id, out).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations());
}

// The floor of cost: a plain std::mutex + std::deque push/pop cycle of an id and
// the same payload, with no semantics at all.
void BM_MutexDequeCycle(benchmark::State& state) {
  std::mutex mu;
  std::deque<std::pair<MessageId, std::string>> q;
  MessageId id = 0;
  for (auto _ : state) {
    {
      std::lock_guard<std::mutex> lk(mu);
      q.emplace_back(++id, "payload");
    }
    std::unique_lock<std::mutex> lk(mu);
    std::pair<MessageId, std::string> m(std::move(q.front()));
    q.pop_front();
    lk.unlock();
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
}

// Fetch + ack from a queue of n messages spread over c consumers, each pulling in
// turn: the cost per message must not grow with the queue or the consumer count.
void BM_FetchAckConsumers(benchmark::State& state) {
  const int64_t n = state.range(0);
  const auto consumers = static_cast<uint32_t>(state.range(1));
  Effects out;
  out.reserve(8);
  for (auto _ : state) {
    state.PauseTiming();
    BrokerCore core = make_core(static_cast<uint32_t>(n), consumers, 1);
    fill(core, n, out);
    state.ResumeTiming();
    for (int64_t i = 0; i < n; ++i) {
      const auto c = static_cast<ConsumerId>(i % consumers);
      out.clear();
      if (!core.fetch(0, c, out).ok() || out.empty()) std::abort();
      if (!core.ack(0, c, out.front().message.id, out).ok()) std::abort();
    }
  }
  state.SetItemsProcessed(state.iterations() * n);
}

// The same cycle through the server shell that every driver runs (the simulator,
// mqd, the embedded Broker), one thread and no locks: a publish, a fetch of the
// pull session's delivery and its ack, each a request whose actions are taken. Its
// distance from BM_CoreCycle is the shell's own cost per message (sessions, the
// output commit, responses). Argument: record_every_command (the simulator's 1,
// the embedded Broker's and mqd's 0).
void BM_ShellCycle(benchmark::State& state) {
  ShellOptions o;
  o.config = make_core(1024, 1, 1).config();
  o.initial_sessions.push_back({0, 1, SessionMode::kPull});
  o.record_every_command = state.range(0) != 0;
  ServerShell shell(std::move(o));
  std::vector<Action> actions;
  shell.take_actions(actions);
  shell.log_started(0, mq::Status());
  const ConsumerRef who{0, 1, SessionMode::kPull};
  MessageId id = 0;
  TimeNs now = 0;
  for (auto _ : state) {
    ++now;
    actions.clear();
    shell.request(now, 1, req::Publish{0, false, 0, MessageSpec{++id, "payload", 0, 0, 0, {}}});
    shell.request(now, 2, req::Fetch{who, 1, 0});
    shell.request(now, 3, req::Settle{who, id, false, true});
    shell.take_actions(actions);
    benchmark::DoNotOptimize(actions.data());
  }
  if (shell.stats().acks != static_cast<uint64_t>(state.iterations())) std::abort();
  state.SetItemsProcessed(state.iterations());
}

// Bytes in use from the allocator's view (glibc): the main arena's allocated
// chunks plus the separately mmapped ones (large vectors).
size_t allocated_bytes() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// n messages queued (ready, default idempotency window), the core built and filled
// between two readings of the allocator: bytes_per_msg is everything the core
// allocated for them (slots, id tables, window, lists, payload buffers) divided by
// n; payload_bytes is the payload's own length, the part the goal does not count.
void BM_QueuedMemory(benchmark::State& state) {
  const int64_t n = state.range(0);
  Effects out;
  out.reserve(8);
  size_t bytes = 0;
  for (auto _ : state) {
    const size_t before = allocated_bytes();
    BrokerCore core = make_core(static_cast<uint32_t>(n), 1, 1);
    fill(core, n, out);
    bytes = allocated_bytes() - before;
    if (core.size(0) != static_cast<uint64_t>(n)) std::abort();
  }
  state.counters["bytes_per_msg"] = static_cast<double>(bytes) / static_cast<double>(n);
  state.counters["payload_bytes"] = static_cast<double>(spec(0).payload.size());
  state.SetItemsProcessed(state.iterations() * n);
}

BENCHMARK(BM_CoreCycle);
BENCHMARK(BM_ShellCycle)->ArgName("record_every_command")->Arg(1)->Arg(0);
BENCHMARK(BM_MutexDequeCycle);
BENCHMARK(BM_Publish)->RangeMultiplier(4)->Range(1 << 10, 1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FetchAck)->RangeMultiplier(4)->Range(1 << 10, 1 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FetchAckConsumers)
    ->ArgsProduct({{1000, 10000, 100000, 1000000}, {1, 10, 100, 1000}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Dispatch)
    ->ArgsProduct({{1 << 10, 1 << 14, 1 << 18, 1 << 20}, {1, 10, 100, 1000}})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QueuedMemory)->Arg(1000)->Arg(1000000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
