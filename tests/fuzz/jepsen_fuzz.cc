// Fuzz target: the Jepsen queue history reader and Jepsen's total-queue checker
// (properties/checkers/jepsen_queue.h), and the FIFO linearizability checker on what
// they read. Whatever the bytes: ops, or kCorruption naming the file and the line,
// never a crash (a value nested 100,000 deep once was one). On what is read, the
// report's counts obey the definitions: every dequeued value is ok, unexpected or
// duplicated, the counts are the sizes of the lists, valid iff nothing is lost or
// unexpected; the linearizability verdict names a pattern iff it is invalid.
#include "properties/checkers/jepsen_queue.h"
#include "properties/checkers/queue_linearizability.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mq;
  const std::string_view text = fuzz::text_of(data, size);
  auto ops = parse_jepsen_history(text, "fuzz.jsonl");
  if (!ops.ok()) {
    fuzz::expect_reader_error(ops.status(), "fuzz.jsonl:", {Code::kCorruption});
    return 0;
  }
  uint64_t dequeued = 0;
  for (const JepsenOp& op : *ops) {
    if (op.type != EventType::kOk) continue;
    if (op.f == "dequeue") ++dequeued;
    if (op.f == "drain") dequeued += op.drained.size();
  }
  const TotalQueueReport r = check_total_queue(*ops);
  FUZZ_EXPECT(r.ok_count + r.unexpected_count + r.duplicated_count == dequeued, to_string(r));
  FUZZ_EXPECT(r.lost_count == total(r.lost) && r.unexpected_count == total(r.unexpected), to_string(r));
  FUZZ_EXPECT(r.valid == (r.lost.empty() && r.unexpected.empty()), to_string(r));
  FUZZ_EXPECT(r.recovered_count <= r.ok_count, to_string(r));
  auto history = queue_history_from_jepsen(*ops, "fuzz.jsonl");
  if (!history.ok()) {
    fuzz::expect_reader_error(history.status(), "fuzz.jsonl:", {Code::kCorruption});
    return 0;
  }
  const LinearizabilityReport lin = check_queue_linearizability(*history);
  FUZZ_EXPECT(lin.valid == lin.pattern.empty(), to_string(lin));
  FUZZ_EXPECT(!to_string(lin).empty(), "no report");
  return 0;
}
