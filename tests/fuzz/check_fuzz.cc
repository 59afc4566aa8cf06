// Fuzz target: `mqharness check` end to end, without the process: the format told
// from the first lines (then read again from the same reader, as for standard
// input), the history read one event at a time into every streaming checker, or a
// Jepsen history into total-queue and FIFO linearizability.
//
// The first byte chooses the topology (the example history's, or one with priority
// levels, a dead-letter queue, front redelivery and a topic) and the options
// (complete, queue_retry_budget); the rest is the history. Whatever the bytes: no
// crash, and an mqharness history gets the same verdicts streamed (check_streaming's
// path) as read into memory and judged by check_all, message and witness included:
// the two paths are one implementation and must not drift apart.
#include <sstream>

#include "formats/history_io.h"
#include "formats/json_config.h"
#include "formats/line_reader.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/jepsen_queue.h"
#include "properties/checkers/queue_linearizability.h"
#include "properties/checkers/stream_check.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace mq;

constexpr const char* kTopologies[] = {
    R"({"producers": [{"name": "p0"}],
        "queues": [{"name": "orders", "capacity": 1, "priority_levels": 1, "durable": true, "max_retries": 3}],
        "consumers": [{"name": "c0", "queue": "orders", "prefetch": 1}]})",
    R"({"producers": [{"name": "p0"}, {"name": "p1"}],
        "queues": [{"name": "tasks", "capacity": 4, "priority_levels": 3, "durable": true, "max_retries": 1,
                    "dead_letter_queue": "dead", "redelivery": "front", "visibility_timeout_ns": 1000},
                   {"name": "dead", "capacity": 8, "durable": true}],
        "consumers": [{"name": "c0", "queue": "tasks", "prefetch": 2}, {"name": "c1", "queue": "tasks"},
                      {"name": "d0", "queue": "dead", "ack_mode": "auto"}],
        "topics": [{"name": "all", "queues": ["tasks", "dead"]}]})",
};

Topology topology(size_t k) {
  auto j = parse_json_text(kTopologies[k], "fuzz-topology.json");
  FUZZ_EXPECT(j.ok(), j.status().to_string());
  auto t = topology_from_json(*j, "fuzz-topology.json");
  FUZZ_EXPECT(t.ok(), t.status().to_string());
  return std::move(t).value();
}

std::string text(const std::vector<Verdict>& verdicts) {
  std::string s;
  for (const auto& v : verdicts) s += to_string(v) + "\n";
  return s;
}

void check_ours(LineReader& lines, std::string_view history_text, const Topology& t, const CheckOptions& options) {
  StreamingChecks streaming(t, options);
  const Status read = read_history_lines(lines, [&](HistoryEvent&& e) {
    streaming.add(std::move(e));
    return Status();
  });
  auto in_memory = parse_history(history_text, "fuzz.jsonl");
  FUZZ_EXPECT(read.ok() == in_memory.ok(), "the two readers disagree: " + read.to_string());
  if (!read.ok()) {
    FUZZ_EXPECT(read == in_memory.status(), read.to_string() + " vs " + in_memory.status().to_string());
    fuzz::expect_reader_error(read, "fuzz.jsonl:", {Code::kCorruption});
    return;
  }
  const std::string streamed = text(streaming.finish());
  const std::string judged = text(check_all(*in_memory, t, options));
  FUZZ_EXPECT(streamed == judged, "streamed:\n" + streamed + "in memory:\n" + judged);
}

void check_jepsen(LineReader& lines) {
  TotalQueueChecker total;
  std::vector<JepsenOp> ops;
  const Status read = read_jepsen_lines(lines, [&](JepsenOp&& op) {
    total.add(op);
    ops.push_back(std::move(op));
    return Status();
  });
  if (!read.ok()) {
    fuzz::expect_reader_error(read, "fuzz.jsonl:", {Code::kCorruption});
    return;
  }
  FUZZ_EXPECT(!to_string(total.finish()).empty(), "no report");
  auto history = queue_history_from_jepsen(ops, "fuzz.jsonl");
  if (history.ok()) FUZZ_EXPECT(!to_string(check_queue_linearizability(*history)).empty(), "no report");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Topology kTopology[] = {topology(0), topology(1)};
  const uint8_t choice = data[0];
  const CheckOptions options{.complete = (choice & 2) != 0, .queue_retry_budget = (choice & 4) != 0};
  const std::string_view history_text = fuzz::text_of(data + 1, size - 1);
  std::istringstream in{std::string(history_text)};
  LineReader lines(in, "fuzz.jsonl", kMaxHistoryLineBytes, "a history line");
  auto format = detect_history_format(lines);
  if (!format.ok()) {
    fuzz::expect_reader_error(format.status(), "fuzz.jsonl:", {Code::kCorruption});
    return 0;
  }
  FUZZ_EXPECT(lines.line() == 0, "the reader was not rewound");
  if (*format == HistoryFormat::kMqHarness) {
    check_ours(lines, history_text, kTopology[choice & 1], options);
  } else {
    check_jepsen(lines);
  }
  return 0;
}
