// Cost per operation is measured as the thread's processor time for a batch of
// operations (CLOCK_THREAD_CPUTIME_ID: time spent descheduled does not count),
// repeated, keeping the median: this machine has no instruction counters (perf
// reports them as not supported), and the median of several batches is what stays
// stable when another process shares the cores. Cache contention from other
// processes still shows; run it on a quiet machine for figures to publish.
#include "apps/complexity_command.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "apps/complexity_fit.h"
#include "impl/broker_core.h"
#include "impl/mem_storage.h"
#include "impl/wal.h"

namespace mq::app {
namespace {

double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}
using impl::BrokerCore;
using impl::ConsumerId;
using impl::MessageId;

BrokerCore make_core(uint32_t capacity, uint32_t consumers, uint32_t prefetch, bool durable = false) {
  impl::BrokerConfig c;
  c.producers.push_back({"p"});
  impl::QueueOptions q;
  q.name = "q";
  q.capacity = capacity;
  q.durable = durable;
  c.queues.push_back(q);
  for (uint32_t i = 0; i < consumers; ++i) {
    c.consumers.push_back({"c" + std::to_string(i), "q", prefetch, impl::AckMode::kManual});
  }
  auto core = BrokerCore::create(std::move(c));
  MQ_CHECK(core.ok());
  return std::move(core).value();
}

void must(const Status& s) {
  MQ_CHECK_MSG(s.ok(), s.to_string().c_str());
}

void fill(BrokerCore& core, uint64_t n, MessageId& next_id, impl::Effects& fx) {
  for (uint64_t i = 0; i < n; ++i) {
    fx.clear();
    must(core.send(0, 0, 0, impl::MessageSpec{next_id++, "payload", 0, 0, 0, {}}, fx));
  }
}

template <typename Body>
double median_ns_per_op(uint32_t repeats, uint32_t ops, Body body) {
  std::vector<double> samples;
  for (uint32_t r = 0; r < repeats; ++r) {
    const double start = thread_cpu_ns();
    body();
    samples.push_back((thread_cpu_ns() - start) / ops);
  }
  std::sort(samples.begin(), samples.end());
  return samples[samples.size() / 2];
}

// Publish into a queue that already holds n messages.
double send_cost(uint64_t n, const ComplexityOptions& o) {
  BrokerCore core = make_core(static_cast<uint32_t>(n + uint64_t{o.ops} * o.repeats), 1, 0);
  impl::Effects fx;
  MessageId next_id = 1;
  fill(core, n, next_id, fx);
  return median_ns_per_op(o.repeats, o.ops, [&] { fill(core, o.ops, next_id, fx); });
}

// Fetch and ack from a queue that holds n messages (refilled after each sample).
double receive_cost(uint64_t n, const ComplexityOptions& o) {
  BrokerCore core = make_core(static_cast<uint32_t>(n + o.ops), 1, 0);
  impl::Effects fx;
  MessageId next_id = 1;
  fill(core, n + o.ops, next_id, fx);
  return median_ns_per_op(o.repeats, o.ops, [&] {
    for (uint32_t i = 0; i < o.ops; ++i) {
      fx.clear();
      must(core.fetch(0, 0, fx));
      const MessageId id = fx.back().message.id;
      fx.clear();
      must(core.ack(0, 0, id, fx));
    }
    fill(core, o.ops, next_id, fx);  // timed too, but equally at every size
  });
}

// Round-robin dispatch and ack with c consumers of prefetch 1, queue size fixed.
double dispatch_cost(uint64_t consumers, const ComplexityOptions& o) {
  const uint64_t n = uint64_t{1} << o.min_log2;
  BrokerCore core = make_core(static_cast<uint32_t>(n + o.ops), static_cast<uint32_t>(consumers), 1);
  impl::Effects fx;
  MessageId next_id = 1;
  fill(core, n + o.ops, next_id, fx);
  return median_ns_per_op(o.repeats, o.ops, [&] {
    for (uint32_t i = 0; i < o.ops; ++i) {
      fx.clear();
      must(core.dispatch(0, 0, fx));
      const auto& d = fx.back();
      const ConsumerId c = d.consumer;
      const MessageId id = d.message.id;
      fx.clear();
      must(core.ack(0, c, id, fx));
    }
    fill(core, o.ops, next_id, fx);
  });
}

// Persisting one durable publish (the core's effects appended to the write-ahead log
// and committed) into a queue that holds n durable messages. The log is in memory
// (impl::MemStorage), so this is the data structure's cost, not the disk's; segments
// roll over and are never checkpointed, as in a log between two checkpoints.
double persist_cost(uint64_t n, const ComplexityOptions& o) {
  BrokerCore core = make_core(static_cast<uint32_t>(n + uint64_t{o.ops} * o.repeats), 1, 0, /*durable=*/true);
  impl::MemStorage disk;
  auto started = impl::Wal::start(disk, impl::WalOptions{}, core.durable_image());
  MQ_CHECK(started.ok());
  impl::Wal wal = std::move(started).value();
  impl::LogBuffer log;
  impl::Effects fx;
  MessageId next_id = 1;
  auto publish = [&](uint64_t count, uint64_t commit_every) {
    for (uint64_t i = 0; i < count; ++i) {
      fx.clear();
      must(core.send(0, 0, 0, impl::MessageSpec{next_id++, "payload", 0, 0, 0, {}}, fx));
      log.add(fx);
      if ((i + 1) % commit_every == 0) must(wal.write(log.take()));
    }
    must(wal.write(log.take()));
  };
  publish(n, 4096);
  return median_ns_per_op(o.repeats, o.ops, [&] { publish(o.ops, 1); });
}

void report(const char* claim, const char* stated, const char* axis, const std::vector<CostPoint>& pts) {
  std::printf("\n%s (stated %s), cost per operation by %s:\n", claim, stated, axis);
  for (const auto& p : pts) std::printf("  %10.0f  %8.1f ns\n", p.n, p.cost);
  std::printf("  fits %s\n", describe(fit_complexity(pts)).c_str());
}

}  // namespace

void add_complexity_command(CLI::App& app, ComplexityOptions& o) {
  auto* cmd = app.add_subcommand("complexity",
                                 "Measure the broker core's cost per operation across sizes "
                                 "and fit each complexity claim of Theorem 4.2");
  cmd->add_option("--min-log2", o.min_log2, "Smallest queue size, as a power of 2")
      ->default_val(o.min_log2)
      ->check(CLI::Range(4, 24));
  cmd->add_option("--max-log2", o.max_log2, "Largest queue size, as a power of 2")
      ->default_val(o.max_log2)
      ->check(CLI::Range(4, 24));
  cmd->add_option("--ops", o.ops, "Operations per timed sample")
      ->default_val(o.ops)
      ->check(CLI::Range(64, 1 << 20));
  cmd->add_option("--repeats", o.repeats, "Samples per size (the median is kept)")
      ->default_val(o.repeats)
      ->check(CLI::Range(1, 101));
}

int run_complexity_command(const ComplexityOptions& o) {
  if (o.max_log2 - o.min_log2 < 2) {
    std::fprintf(stderr, "complexity: need at least 3 sizes (--max-log2 >= --min-log2 + 2)\n");
    return 2;
  }
  std::printf(
      "complexity: sizes 2^%d..2^%d, %u operations per sample, median of %u samples (thread processor "
      "time)\n",
      o.min_log2, o.max_log2, o.ops, o.repeats);
  std::vector<CostPoint> send, receive, dispatch, persist;
  for (int k = o.min_log2; k <= o.max_log2; ++k) {
    const uint64_t n = uint64_t{1} << k;
    send.push_back({static_cast<double>(n), send_cost(n, o)});
    receive.push_back({static_cast<double>(n), receive_cost(n, o)});
    persist.push_back({static_cast<double>(n), persist_cost(n, o)});
  }
  for (uint64_t c : {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}) {
    dispatch.push_back({static_cast<double>(c), dispatch_cost(c, o)});
  }
  report("send", "O(1) average", "messages in the queue", send);
  report("receive (fetch + ack, then refill)", "O(1) average", "messages in the queue", receive);
  report("load balancing (round-robin dispatch + ack)", "O(|C|)", "consumers", dispatch);
  report("persistence (durable publish, logged and committed, log in memory)", "O(log |M|)",
         "messages stored", persist);
  std::printf("\nThe disk's own cost (fdatasync) is measured by bench/durable_bench.cc; see docs/performance.md.\n");
  return 0;
}

}  // namespace mq::app
