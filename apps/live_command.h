#pragma once
// `mqharness live`: runs real brokers under real faults and judges their histories
// (live/live_run.h, docs/live.md). Several targets and seeds run one after another;
// a `summary:` line per run (key=value) and a table at the end. With --bench, no
// nemesis: throughput and publish-to-ack latency per target, same driver for all.

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace mq::app {

struct LiveCommandOptions {
  std::string targets;  // "redis-list/aof-always,redis-stream/none" or "all"
  std::string config;   // with a single --target NAME
  std::string duration = "30s";
  std::string nemesis = "none";  // "kill,pause,partition,disk,power" or "none"
  std::string seeds;             // "A..B" or "S"; empty: one seed from the clock, printed
  int producers = 2;
  int consumers = 2;
  double rate = -1;          // -1: 200/s, or unthrottled with --bench
  double consume_rate = -1;  // -1: 3/4 of the rate (a backlog builds up), unthrottled with --bench
  size_t message_bytes = 0;
  int64_t op_timeout_ms = 1000;
  int64_t drain_timeout_s = 60;
  std::string history = "live-history.jsonl";
  std::string report;
  bool bench = false;
  bool strict = false;
  bool fifo = false;
};

void add_live_command(CLI::App& app, LiveCommandOptions& options);
// Exit status: 0 every run consistent with its configuration's claims, 1 a
// violation, 2 bad options or a target that cannot run here.
int run_live_command(const LiveCommandOptions& options);

}  // namespace mq::app
