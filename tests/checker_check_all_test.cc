// check_all checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/check_all.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "model/history_io.h"
#include "model/topology.h"

namespace mq {
namespace {

// Hand-written histories, one JSON line per event (docs/history-format.md).
[[maybe_unused]] std::string line(TimeNs t, std::string_view process, std::string_view type, std::string_view f,
                 std::string_view rest) {
  std::string s = "{\"v\":1,\"time\":" + std::to_string(t) + ",\"process\":\"" + std::string(process) +
                  "\",\"type\":\"" + std::string(type) + "\",\"f\":\"" + std::string(f) + "\"";
  if (!rest.empty()) s += "," + std::string(rest);
  return s + "}\n";
}
[[maybe_unused]] std::string msg(MessageId id, std::string_view queue = "q") {
  return "\"queue\":\"" + std::string(queue) + "\",\"id\":" + std::to_string(id) + ",\"payload\":\"m" +
         std::to_string(id) + "\"";
}
[[maybe_unused]] std::string with(std::string_view extra) { return extra.empty() ? "" : "," + std::string(extra); }
// Two lines: the producer's invoke and ok.
[[maybe_unused]] std::string publish(TimeNs t, MessageId id, std::string_view extra = "", std::string_view queue = "q") {
  return line(t, "p0", "invoke", "publish", msg(id, queue) + with(extra)) +
         line(t, "p0", "ok", "publish", msg(id, queue) + with(extra));
}
// One line: the broker pushes a message to a consumer.
[[maybe_unused]] std::string push(TimeNs t, std::string_view consumer, MessageId id, int attempts = 1,
                 std::string_view queue = "q") {
  return line(t, "broker", "ok", "deliver",
              msg(id, queue) + ",\"consumer\":\"" + std::string(consumer) + "\",\"attempts\":" +
                  std::to_string(attempts));
}
// Two lines: the consumer's invoke and ok.
[[maybe_unused]] std::string ack(TimeNs t, std::string_view consumer, MessageId id, std::string_view queue = "q") {
  const std::string rest = "\"queue\":\"" + std::string(queue) + "\",\"consumer\":\"" + std::string(consumer) +
                           "\",\"id\":" + std::to_string(id);
  return line(t, consumer, "invoke", "ack", rest) + line(t, consumer, "ok", "ack", rest);
}
[[maybe_unused]] std::string broker(TimeNs t, std::string_view f, MessageId id, std::string_view extra = "",
                   std::string_view queue = "q") {
  return line(t, "broker", "ok", f,
              "\"queue\":\"" + std::string(queue) + "\",\"id\":" + std::to_string(id) + with(extra));
}
[[maybe_unused]] History parse(const std::string& text) {
  auto h = parse_history(text, "t.jsonl");
  EXPECT_TRUE(h.ok()) << h.status().to_string();
  return h.ok() ? std::move(h).value() : History{};
}
[[maybe_unused]] std::vector<uint64_t> witness_lines(const Verdict& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v.witness) out.push_back(e.line);
  return out;
}
using Lines = std::vector<uint64_t>;
// One queue "q" (capacity 10, 3 priority levels), consumers c0 and c1, prefetch 1.
[[maybe_unused]] Topology topology(bool durable = false, uint32_t capacity = 10) {
  Topology t;
  t.producers = {ProducerConfig{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = 3;
  q.durable = durable;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual}, ConsumerConfig{"c1", "q", 1, AckMode::kManual}};
  return t;
}

TEST(CheckerCheckAll, AGoodHistoryGetsEveryVerdictValid) {
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + push(1, "c1", 2) + ack(2, "c0", 1) +
                        ack(2, "c1", 2);
  const auto verdicts = check_all(parse(h), topology(), CheckOptions{.complete = true});
  std::vector<std::string> names;
  for (const auto& v : verdicts) {
    names.push_back(v.property);
    EXPECT_TRUE(v.valid) << to_string(v);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"well-formed", "integrity", "no-loss", "duplicates", "capacity",
                                             "ttl-delay", "priority", "order", "load-balance",
                                             "completeness", "refinement"}));
  EXPECT_TRUE(all_valid(verdicts));
}

TEST(CheckerCheckAll, AnUnknownQueueMakesTheHistoryMalformed) {
  const auto verdicts = check_all(parse(publish(0, 1) + publish(0, 2, "", "nowhere")), topology());
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].valid);
  EXPECT_EQ(witness_lines(verdicts[0]), (Lines{3}));
  EXPECT_NE(verdicts[0].message.find("unknown queue 'nowhere'"), std::string::npos) << verdicts[0].message;
  EXPECT_FALSE(all_valid(verdicts));
}

TEST(CheckerCheckAll, AConsumerOfAnotherQueueMakesTheHistoryMalformed) {
  const auto verdicts = check_all(parse(publish(0, 1, "", "other") + push(1, "c0", 1, 1, "other")), topology());
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].valid);
  EXPECT_NE(verdicts[0].message.find("unknown queue 'other'"), std::string::npos) << verdicts[0].message;
}

TEST(CheckerCheckAll, AnInMemoryHistoryWithBrokenPairingIsMalformed) {
  History h = parse(publish(0, 1));
  h.events[0].type = EventType::kOk;  // an ok without invoke
  const Verdict v = check_well_formed(h, topology());
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.message.find("field 'type'"), std::string::npos) << v.message;
}

TEST(CheckerCheckAll, EveryBugIsReportedByItsChecker) {
  // Two bugs: a lower priority first, and a duplicate delivery; the model allows
  // neither, so refinement sees them too.
  const std::string h = publish(0, 1, R"("priority":0)") + publish(0, 2, R"("priority":2)") + push(1, "c0", 1) +
                        push(2, "c1", 1);
  std::vector<std::string> failed;
  for (const auto& v : check_all(parse(h), topology())) {
    if (!v.valid) failed.push_back(v.property);
  }
  EXPECT_EQ(failed, (std::vector<std::string>{"duplicates", "priority", "refinement"}));
}

}  // namespace
}  // namespace mq
