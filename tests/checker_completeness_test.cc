// Completeness checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/completeness.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "checker_test_util.h"
#include "formats/history_io.h"

namespace mq {
namespace {

using test::line;
using test::Lines;
using test::parse;
using test::witness_lines;

std::string msg(MessageId id) { return "\"queue\":\"q\",\"id\":" + std::to_string(id) + ",\"payload\":\"m" + std::to_string(id) + "\""; }
std::string publish(TimeNs t, MessageId id) { return line(t, "p0", "invoke", "publish", msg(id)) + line(t, "p0", "ok", "publish", msg(id)); }
std::string push(TimeNs t, MessageId id, int attempts) {
  return line(t, "broker", "ok", "deliver", msg(id) + ",\"consumer\":\"c0\",\"attempts\":" + std::to_string(attempts));
}
std::string client(TimeNs t, std::string_view f, MessageId id, std::string_view extra = "") {
  const std::string rest = "\"queue\":\"q\",\"consumer\":\"c0\",\"id\":" + std::to_string(id) + std::string(extra);
  return line(t, "c0", "invoke", f, rest) + line(t, "c0", "ok", f, rest);
}
std::string broker(TimeNs t, std::string_view f, MessageId id, std::string_view extra = "") {
  return line(t, "broker", "ok", f, "\"queue\":\"q\",\"id\":" + std::to_string(id) + std::string(extra));
}
Topology topology(uint32_t max_retries = 3) {
  Topology t;
  t.producers = {ProducerConfig{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = 10;
  q.max_retries = max_retries;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual}};
  return t;
}

TEST(CheckerCompleteness, ADeliveryNeverAckedInACompleteHistoryIsStuck) {
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, 1, 1) + client(2, "ack", 1) + push(3, 2, 1);
  const Verdict v = check_completeness(parse(h), topology(), {.complete = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{8})) << to_string(v);
  EXPECT_NE(v.message.find("message 2 in 'q' is stuck"), std::string::npos) << v.message;
  EXPECT_NE(v.message.find("in flight at 'c0'"), std::string::npos) << v.message;
  // Not complete: nothing is judged stuck.
  EXPECT_TRUE(check_completeness(parse(h), topology(), {}).valid);
  // The bug removed: the second delivery is acked too.
  EXPECT_TRUE(check_completeness(parse(h + client(4, "ack", 2)), topology(), {.complete = true}).valid);
}

TEST(CheckerCompleteness, AMessageNeverDeliveredIsStuckAtItsPublish) {
  const Verdict v = check_completeness(parse(publish(0, 1)), topology(), {.complete = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2}));
  EXPECT_NE(v.message.find("never delivered"), std::string::npos) << v.message;
}

TEST(CheckerCompleteness, AGivenBackDeliveryMustBeRequeuedOrDeadLettered) {
  const std::string h = publish(0, 1) + push(1, 1, 1) + client(2, "nack", 1, ",\"requeue\":true");
  const Verdict v = check_completeness(parse(h), topology(), {.complete = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 5})) << to_string(v);
  EXPECT_NE(v.message.find("never requeued or dead-lettered"), std::string::npos) << v.message;
  const std::string fixed = h + broker(2, "requeue", 1, ",\"consumer\":\"c0\",\"attempts\":1") + push(3, 1, 2) +
                            client(4, "ack", 1);
  EXPECT_TRUE(check_completeness(parse(fixed), topology(), {.complete = true}).valid);
}

TEST(CheckerCompleteness, ANackWithoutRequeueIsNeverRequeued) {
  const std::string h = publish(0, 1) + push(1, 1, 1) + client(2, "nack", 1, ",\"requeue\":false");
  const Verdict v = check_completeness(parse(h + broker(2, "requeue", 1, ",\"consumer\":\"c0\"")), topology(), {});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{5, 6})) << to_string(v);
  EXPECT_TRUE(check_completeness(parse(h + broker(2, "dead-letter", 1, ",\"consumer\":\"c0\"")), topology(),
                                 {.complete = true}).valid);
}

TEST(CheckerCompleteness, TheQueueRetryBudgetBoundsRedeliveries) {
  // max_retries 1: two deliveries allowed, then dead-letter; requeued again instead.
  const std::string h = publish(0, 1) + push(1, 1, 1) + broker(2, "requeue", 1, ",\"attempts\":1") + push(3, 1, 2);
  const std::string bug = h + broker(4, "requeue", 1, ",\"attempts\":2");
  const Verdict v = check_completeness(parse(bug), topology(1), {.queue_retry_budget = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{5, 6})) << to_string(v);
  EXPECT_NE(v.message.find("must be dead-lettered"), std::string::npos) << v.message;
  // Without the budget option the message's own max_retries is unknown: not judged.
  EXPECT_TRUE(check_completeness(parse(bug), topology(1), {}).valid);
  const std::string fixed = h + broker(4, "dead-letter", 1, ",\"attempts\":2");
  EXPECT_TRUE(check_completeness(parse(fixed), topology(1), {.complete = true, .queue_retry_budget = true}).valid);
  // Dead-lettered with retries left is the opposite bug.
  const Verdict early = check_completeness(parse(publish(0, 1) + push(1, 1, 1) + broker(2, "dead-letter", 1)),
                                           topology(1), {.queue_retry_budget = true});
  EXPECT_FALSE(early.valid);
  EXPECT_EQ(witness_lines(early), (Lines{3, 4})) << to_string(early);
}

}  // namespace
}  // namespace mq
