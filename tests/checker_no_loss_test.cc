// no_loss checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/no_loss.h"

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

[[maybe_unused]] std::string refused(TimeNs t, MessageId id) {
  return line(t, "p0", "invoke", "publish", msg(id)) +
         line(t, "p0", "fail", "publish", msg(id) + R"(,"error":"full")");
}
[[maybe_unused]] std::string fetch_empty(TimeNs t, std::string_view c) {
  const std::string rest = "\"queue\":\"q\",\"consumer\":\"" + std::string(c) + "\"";
  return line(t, c, "invoke", "deliver", rest) + line(t, c, "fail", "deliver", rest + R"(,"error":"empty")");
}
[[maybe_unused]] std::string crash(TimeNs t) { return line(t, "nemesis", "ok", "crash", ""); }

TEST(CheckerNoLoss, ARefusedMessageThatAppearsFails) {
  const Verdict v = check_no_loss(parse(refused(0, 1) + push(1, "c0", 1)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "no-loss");
  EXPECT_EQ(witness_lines(v), (Lines{2, 3}));
}

TEST(CheckerNoLoss, ARefusedMessageThatStaysAwayPasses) {
  EXPECT_TRUE(check_no_loss(parse(refused(0, 1) + publish(1, 2) + push(1, "c0", 2)), topology()).valid);
}

TEST(CheckerNoLoss, ARefusedDuplicateIdOfAnAcceptedMessageMayAppear) {
  const std::string dup = line(1, "p0", "invoke", "publish", msg(1)) +
                          line(1, "p0", "fail", "publish", msg(1) + R"(,"error":"AlreadyExists: duplicate")");
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + dup + push(2, "c0", 1)), topology()).valid);
}

TEST(CheckerNoLoss, ADurableQueueThatLosesAMessageFails) {
  const std::string h = publish(0, 1) + crash(1) + broker(1, "lost", 1);
  const Verdict v = check_no_loss(parse(h), topology(/*durable=*/true));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2, 4}));
}

TEST(CheckerNoLoss, ANonDurableQueueMayLoseAMessageInACrash) {
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + crash(1) + broker(1, "lost", 1)), topology()).valid);
}

TEST(CheckerNoLoss, ALossWithoutACrashFails) {
  const Verdict v = check_no_loss(parse(publish(0, 1) + broker(1, "lost", 1)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3}));
}

TEST(CheckerNoLoss, AnEmptyFetchWhileAMessageIsReadyFails) {
  const Verdict v = check_no_loss(parse(publish(0, 1) + fetch_empty(1, "c0")), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2, 3, 4}));
}

TEST(CheckerNoLoss, AFetchThatGetsTheMessagePasses) {
  const std::string fetch = line(1, "c0", "invoke", "deliver", R"("queue":"q","consumer":"c0")") +
                            line(1, "c0", "ok", "deliver", msg(1) + R"(,"consumer":"c0","attempts":1)");
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + fetch), topology()).valid);
}

TEST(CheckerNoLoss, AnEmptyFetchWithoutCreditPasses) {
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + fetch_empty(1, "c0")), topology())
                  .valid);
}

TEST(CheckerNoLoss, ACompleteHistoryMustEndEveryMessage) {
  const History h = parse(publish(0, 1));
  EXPECT_TRUE(check_no_loss(h, topology()).valid);
  const Verdict v = check_no_loss(h, topology(), NoLossOptions{.complete = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2}));
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + push(1, "c0", 1) + ack(2, "c0", 1)), topology(),
                            NoLossOptions{.complete = true})
                  .valid);
}

TEST(CheckerNoLoss, AnInfoPublishMayGoEitherWay) {
  const std::string h = line(0, "p0", "invoke", "publish", msg(1)) +
                        line(1, "p0", "info", "publish", msg(1) + R"(,"error":"timeout")");
  EXPECT_TRUE(check_no_loss(parse(h), topology(), NoLossOptions{.complete = true}).valid);
}

}  // namespace
}  // namespace mq
