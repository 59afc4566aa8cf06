// Jepsen queue histories: the reader, format detection, and total-queue's counts.
#include "properties/checkers/jepsen_queue.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace mq {
namespace {

std::string op(int process, const char* type, const char* f, const std::string& value) {
  return "{\"process\":" + std::to_string(process) + ",\"type\":\"" + type + "\",\"f\":\"" + f + "\",\"value\":" +
         value + "}\n";
}

std::vector<JepsenOp> parse(const std::string& text) {
  auto ops = parse_jepsen_history(text, "j.jsonl");
  EXPECT_TRUE(ops.ok()) << ops.status().to_string();
  return ops.ok() ? std::move(ops).value() : std::vector<JepsenOp>{};
}

TEST(CheckerJepsen, TotalQueueCountsAsJepsenDoes) {
  // 1 ok, 2 info, 3 ok, 4 failed; dequeued: 1 twice, 2, and 5 (never enqueued).
  const std::string h = op(0, "invoke", "enqueue", "1") + op(0, "ok", "enqueue", "1") + op(0, "invoke", "enqueue", "2") +
                        op(0, "info", "enqueue", "2") + op(1, "invoke", "enqueue", "3") + op(1, "ok", "enqueue", "3") +
                        op(1, "invoke", "enqueue", "4") + op(1, "fail", "enqueue", "4") + op(2, "invoke", "dequeue", "null") +
                        op(2, "ok", "dequeue", "1") + op(2, "invoke", "dequeue", "null") + op(2, "ok", "dequeue", "2") +
                        op(2, "invoke", "dequeue", "null") + op(2, "ok", "dequeue", "1") +
                        op(2, "invoke", "dequeue", "null") + op(2, "ok", "dequeue", "5");
  const TotalQueueReport r = check_total_queue(parse(h));
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.attempt_count, 4u);       // 1 2 3 4
  EXPECT_EQ(r.acknowledged_count, 2u);  // 1 3
  EXPECT_EQ(r.ok_count, 2u);            // 1 2
  EXPECT_EQ(r.unexpected_count, 1u);    // 5
  EXPECT_EQ(r.duplicated_count, 1u);    // 1 (dequeued twice, attempted once)
  EXPECT_EQ(r.lost_count, 1u);          // 3
  EXPECT_EQ(r.recovered_count, 1u);     // 2
  EXPECT_EQ(r.lost, (ValueMultiset{{"3", 1}}));
  EXPECT_EQ(r.unexpected, (ValueMultiset{{"5", 1}}));
  EXPECT_EQ(r.duplicated, (ValueMultiset{{"1", 1}}));
  EXPECT_EQ(r.recovered, (ValueMultiset{{"2", 1}}));
  ASSERT_EQ(r.witness.size(), 2u);
  EXPECT_EQ(r.witness[0].line, 6u);   // the enqueue ok of the lost 3
  EXPECT_EQ(r.witness[1].line, 16u);  // the dequeue of the unexpected 5
  // The bugs removed (3 dequeued, 5 not): valid, though 1 is still duplicated.
  const std::string fixed = h.substr(0, h.rfind("{\"process\":2,\"type\":\"ok\",\"f\":\"dequeue\",\"value\":5")) +
                            op(2, "ok", "dequeue", "3");
  const TotalQueueReport ok = check_total_queue(parse(fixed));
  EXPECT_TRUE(ok.valid) << to_string(ok);
  EXPECT_EQ(ok.duplicated_count, 1u);
}

TEST(CheckerJepsen, DrainsAndKeywordsAreRead) {
  const std::string h = "{\"process\":0,\"type\":\":invoke\",\"f\":\":enqueue\",\"value\":\"a\"}\n"
                        "{\"process\":0,\"type\":\":ok\",\"f\":\":enqueue\",\"value\":\"a\"}\n"
                        "{\"process\":\"nemesis\",\"type\":\"info\",\"f\":\"start\"}\n"
                        "{\"process\":1,\"type\":\"invoke\",\"f\":\"drain\"}\n"
                        "{\"process\":1,\"type\":\"ok\",\"f\":\"drain\",\"value\":[\"a\"],\"time\":5}\n";
  const TotalQueueReport r = check_total_queue(parse(h));
  EXPECT_TRUE(r.valid) << to_string(r);
  EXPECT_EQ(r.ok_count, 1u);
}

TEST(CheckerJepsen, ErrorsNameFileLineAndField) {
  auto bad = parse_jepsen_history("{\"process\":0,\"type\":\"ok\",\"f\":\"enqueue\",\"value\":1}\n"
                                  "{\"process\":0,\"type\":\"done\",\"f\":\"enqueue\",\"value\":1}\n",
                                  "j.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("j.jsonl:2: field 'type'"), std::string::npos) << bad.status().to_string();
  auto no_f = parse_jepsen_history("{\"process\":0,\"type\":\"ok\"}\n", "j.jsonl");
  ASSERT_FALSE(no_f.ok());
  EXPECT_NE(no_f.status().message().find("j.jsonl:1: field 'f': missing"), std::string::npos);
  auto drain = parse_jepsen_history("{\"process\":0,\"type\":\"info\",\"f\":\"drain\"}\n", "j.jsonl");
  ASSERT_FALSE(drain.ok());
  EXPECT_NE(drain.status().message().find("field 'type'"), std::string::npos);
}

TEST(CheckerJepsen, TheFormatIsToldPerFile) {
  auto ours = detect_history_format(MQ_TEST_DATA_DIR "/histories/example.jsonl");
  ASSERT_TRUE(ours.ok()) << ours.status().to_string();
  EXPECT_EQ(*ours, HistoryFormat::kMqHarness);
  auto jepsen = detect_history_format(MQ_TEST_DATA_DIR "/jepsen/queue-ok.jsonl");
  ASSERT_TRUE(jepsen.ok()) << jepsen.status().to_string();
  EXPECT_EQ(*jepsen, HistoryFormat::kJepsen);
  auto lost = read_jepsen_history(MQ_TEST_DATA_DIR "/jepsen/queue-lost.jsonl");
  ASSERT_TRUE(lost.ok());
  const TotalQueueReport r = check_total_queue(*lost);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.lost_count, 1u);
  EXPECT_EQ(r.unexpected_count, 1u);
  EXPECT_FALSE(detect_history_format(MQ_TEST_DATA_DIR "/nowhere.jsonl").ok());
}

// Issue 14's first example: a value nested 100,000 deep crashed `check` (dump()
// recursed); it is now refused at the limit, naming the file and line.
TEST(CheckerJepsen, DeepValueIsRefusedWithItsLine) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto r = parse_jepsen_history(op(0, "invoke", "enqueue", "1") + op(0, "ok", "enqueue", deep), "j.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kCorruption);
  EXPECT_NE(r.status().message().find("j.jsonl:2: nested deeper than"), std::string::npos) << r.status().to_string();
}

// A line that is no JSON object gets the same precise message on line 1 as on any
// other line (it used to be "cannot tell the history's format" on line 1 only).
TEST(CheckerJepsen, LineOneErrorsArePrecise) {
  const std::string dir = ::testing::TempDir();
  auto detect = [&](const std::string& name, const std::string& text) {
    const std::string path = dir + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return detect_history_format(path);
  };
  auto bad_json = detect("bad1.jsonl", "{\"v\":1,\"time\":\n");
  ASSERT_FALSE(bad_json.ok());
  EXPECT_NE(bad_json.status().message().find("bad1.jsonl:1: not valid JSON at byte"), std::string::npos)
      << bad_json.status().to_string();
  auto array = detect("array1.jsonl", "[1,2]\n");
  ASSERT_FALSE(array.ok());
  EXPECT_NE(array.status().message().find("array1.jsonl:1: not a JSON object (got array)"), std::string::npos)
      << array.status().to_string();
  auto empty_line = detect("empty1.jsonl", "\n");
  ASSERT_FALSE(empty_line.ok());
  EXPECT_NE(empty_line.status().message().find("empty1.jsonl:1: empty line"), std::string::npos);
  auto deep = detect("deep1.jsonl", "{\"f\":" + std::string(1000, '[') + std::string(1000, ']') + "}\n");
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.status().message().find("deep1.jsonl:1: nested deeper than"), std::string::npos);
  auto dir_given = detect_history_format(dir);
  ASSERT_FALSE(dir_given.ok());
  EXPECT_NE(dir_given.status().message().find("is a directory"), std::string::npos);
}

// One hand-written history per total-queue category (tests/data/jepsen/), with the
// counts jepsen.checker/total-queue gives it. Jepsen's semantics, which these pin
// down: every enqueue invoke is an attempt, whatever its completion (ok, fail, info
// or none); only ok enqueues are acknowledged; only ok dequeues and the elements of
// ok drains are dequeues (a fail or info dequeue, a failed drain, a nemesis op count
// for nothing); values are equal only as JSON values (1 is not "1").
struct TotalQueueCase {
  const char* file;
  bool valid;
  uint64_t attempt, acknowledged, ok, lost, unexpected, duplicated, recovered;
  ValueMultiset lost_values, unexpected_values, duplicated_values, recovered_values;
  std::vector<uint64_t> witness_lines;
};

class CheckerJepsenTotalQueue : public ::testing::TestWithParam<TotalQueueCase> {};

TEST_P(CheckerJepsenTotalQueue, CountsAsJepsenDoes) {
  const TotalQueueCase& c = GetParam();
  auto ops = read_jepsen_history(std::string(MQ_TEST_DATA_DIR "/jepsen/") + c.file);
  ASSERT_TRUE(ops.ok()) << ops.status().to_string();
  const TotalQueueReport r = check_total_queue(*ops);
  EXPECT_EQ(r.valid, c.valid) << to_string(r);
  EXPECT_EQ(r.attempt_count, c.attempt);
  EXPECT_EQ(r.acknowledged_count, c.acknowledged);
  EXPECT_EQ(r.ok_count, c.ok);
  EXPECT_EQ(r.lost_count, c.lost);
  EXPECT_EQ(r.unexpected_count, c.unexpected);
  EXPECT_EQ(r.duplicated_count, c.duplicated);
  EXPECT_EQ(r.recovered_count, c.recovered);
  EXPECT_EQ(r.lost, c.lost_values);
  EXPECT_EQ(r.unexpected, c.unexpected_values);
  EXPECT_EQ(r.duplicated, c.duplicated_values);
  EXPECT_EQ(r.recovered, c.recovered_values);
  std::vector<uint64_t> lines;
  for (const auto& op : r.witness) lines.push_back(op.line);
  EXPECT_EQ(lines, c.witness_lines);
  // Streaming gives the same report as the whole history.
  TotalQueueChecker streamed;
  ASSERT_TRUE(for_each_jepsen_op(std::string(MQ_TEST_DATA_DIR "/jepsen/") + c.file, [&](JepsenOp&& op) {
                streamed.add(op);
                return Status();
              }).ok());
  EXPECT_EQ(to_string(streamed.finish()), to_string(r));
}

INSTANTIATE_TEST_SUITE_P(
    Categories, CheckerJepsenTotalQueue,
    ::testing::Values(
        // 1, 2, 5, 5 acknowledged; 1 and one 5 dequeued: 2 and the other 5 lost. The
        // info 3 and the failed 4, never dequeued, are not lost.
        TotalQueueCase{"total-queue-lost.jsonl", false, 6, 4, 2, 2, 0, 0, 0, {{"2", 1}, {"5", 1}}, {}, {}, {},
                       {4, 10}},
        // 9 twice and the string "1" were never attempted: every copy is unexpected,
        // none is duplicated. The fail dequeue and the info dequeue (of 7) count for
        // nothing.
        TotalQueueCase{"total-queue-unexpected.jsonl", false, 1, 1, 1, 0, 3, 0, 0, {}, {{"9", 2}, {"\"1\"", 1}},
                       {}, {}, {6, 14}},
        // 1 attempted once, dequeued three times: two duplicates; 2 attempted and
        // dequeued twice: none. Duplicates alone leave the history valid.
        TotalQueueCase{"total-queue-duplicated.jsonl", true, 3, 3, 3, 0, 0, 2, 0, {}, {}, {{"1", 2}}, {}, {}},
        // Dequeued though not acknowledged: the info 1, the failed 2 (Jepsen counts
        // every attempt, so a failed enqueue that comes out is recovered, not
        // unexpected) and 3, whose invoke never completed. The info 5 that never came
        // out is neither lost nor recovered.
        TotalQueueCase{"total-queue-recovered.jsonl", true, 5, 1, 4, 0, 0, 0, 3, {}, {}, {},
                       {{"1", 1}, {"2", 1}, {"3", 1}}, {}},
        // Every category once: a, b, e acknowledged, c info, d failed; a dequeued
        // twice, z from nowhere, c and e drained; b lost.
        TotalQueueCase{"total-queue-all.jsonl", false, 5, 3, 3, 1, 1, 1, 1, {{"\"b\"", 1}}, {{"\"z\"", 1}},
                       {{"\"a\"", 1}}, {{"\"c\"", 1}}, {5, 17}}),
    [](const ::testing::TestParamInfo<TotalQueueCase>& param) {
      std::string name = param.param.file;
      name = name.substr(std::string("total-queue-").size());
      return name.substr(0, name.find('.'));
    });

}  // namespace
}  // namespace mq
