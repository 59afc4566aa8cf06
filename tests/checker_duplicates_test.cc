// Duplicates checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/duplicates.h"

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

TEST(CheckerDuplicates, SecondDeliveryWithoutCauseFails) {
  const Verdict v = check_duplicates(parse(publish(0, 1) + push(1, "c0", 1, 1) + push(2, "c1", 1, 2)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "duplicates");
  EXPECT_EQ(witness_lines(v), (Lines{3, 4}));
  EXPECT_NE(v.message.find("nothing gave it back"), std::string::npos) << v.message;
}

TEST(CheckerDuplicates, RedeliveryAfterARequeueWithAHigherAttemptPasses) {
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + broker(2, "requeue", 1, R"("consumer":"c0")") +
                        push(2, "c1", 1, 2);
  EXPECT_TRUE(check_duplicates(parse(h)).valid);
}

TEST(CheckerDuplicates, RedeliveryWithTheSameAttemptCountFails) {
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + broker(2, "requeue", 1, R"("consumer":"c0")") +
                        push(2, "c1", 1, 1);
  const Verdict v = check_duplicates(parse(h));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 5}));
  EXPECT_NE(v.message.find("silent duplicate"), std::string::npos) << v.message;
}

TEST(CheckerDuplicates, RedeliveryAfterACrashPasses) {
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + line(2, "nemesis", "ok", "crash", "") +
                        line(3, "nemesis", "ok", "recover", "") + push(4, "c0", 1, 2);
  EXPECT_TRUE(check_duplicates(parse(h)).valid);
}

TEST(CheckerDuplicates, RedeliveryAfterTheHolderDetachesPasses) {
  const std::string detach = R"("queue":"q","consumer":"c0")";
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + line(2, "c0", "invoke", "detach", detach) +
                        line(2, "c0", "ok", "detach", detach) + push(3, "c1", 1, 2);
  EXPECT_TRUE(check_duplicates(parse(h)).valid);
}

TEST(CheckerDuplicates, RedeliveryAfterAnotherConsumerDetachesFails) {
  const std::string detach = R"("queue":"q","consumer":"c1")";
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + line(2, "c1", "invoke", "detach", detach) +
                        line(2, "c1", "ok", "detach", detach) + push(3, "c0", 1, 2);
  const Verdict v = check_duplicates(parse(h));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 6}));
}

}  // namespace
}  // namespace mq
