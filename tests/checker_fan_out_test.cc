// The checkers of history format 2's additions, each shown to catch the bug it is
// for: fan-out (a topic publish that skips a bound queue), recovery (a failed
// recovery nothing injected explains), drops (only a full drop-oldest queue drops),
// and the new message a bounded idempotency window lets a finished id become.
#include <gtest/gtest.h>

#include "checker_test_util.h"
#include "properties/checkers/capacity.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/duplicates.h"
#include "properties/checkers/fan_out.h"
#include "properties/checkers/no_loss.h"
#include "properties/checkers/recovery.h"

namespace mq {
namespace {

using namespace mq::test;

// Two lines: a topic publish's invoke and completion for one bound queue.
std::string topic_publish(TimeNs t, MessageId id, std::string_view queue, std::string_view type = "ok",
                          std::string_view process = "p0", std::string_view bound = R"(["a","b"])") {
  const std::string rest = std::string(R"("queue":")") + std::string(queue) + R"(","topic":"t","bound":)" +
                           std::string(bound) + R"(,"id":)" + std::to_string(id) + R"(,"payload":"m")";
  return line(t, process, "invoke", "publish", rest) +
         line(t, process, type, "publish", rest + (type == "fail" ? R"(,"error":"full")" : ""));
}

Topology two_queues() {
  Topology t;
  t.producers = {ProducerConfig{"p0"}, ProducerConfig{"p1"}};
  for (const char* name : {"a", "b"}) {
    QueueConfig q;
    q.name = name;
    q.capacity = 2;
    t.queues.push_back(q);
  }
  t.topics = {TopicConfig{"t", {"a", "b"}}};
  return t;
}

TEST(CheckerFanOut, EveryBoundQueueAcceptedOrRefused) {
  const std::string h = topic_publish(0, 1, "a") + topic_publish(0, 1, "b", "fail") +
                        // A resend of the same publish: a second run over both queues.
                        topic_publish(5, 1, "a", "fail") + topic_publish(5, 1, "b", "fail") +
                        topic_publish(6, 2, "a", "ok", "p1") + topic_publish(6, 2, "b", "ok", "p1");
  const Verdict v = check_fan_out(parse(h));
  EXPECT_TRUE(v.valid) << to_string(v);
  EXPECT_NE(v.message.find("3 topic publishes"), std::string::npos) << v.message;
}

TEST(CheckerFanOut, ASkippedBoundQueueIsCaught) {
  // The broker answered for 'a' only; the next publish of p0 closes the first.
  const std::string h = topic_publish(0, 1, "a") + topic_publish(1, 2, "a") + topic_publish(1, 2, "b");
  const Verdict v = check_fan_out(parse(h));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("never reached bound queue 'b'"), std::string::npos) << v.message;
  EXPECT_EQ(witness_lines(v), (Lines{1, 2}));
  // At the end of the history too.
  EXPECT_FALSE(check_fan_out(parse(topic_publish(0, 1, "b"))).valid);
  // And through check_all, without any model: the history alone shows it.
  const auto all = check_all(parse(topic_publish(0, 1, "a")), two_queues());
  bool caught = false;
  for (const auto& x : all) caught |= x.property == kFanOut && !x.valid;
  EXPECT_TRUE(caught);
}

TEST(CheckerFanOut, AQueueNotBoundIsCaught) {
  const std::string h = topic_publish(0, 1, "a") + topic_publish(0, 1, "b", "ok", "p0", R"(["b","c"])");
  const Verdict v = check_fan_out(parse(h));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("disagree"), std::string::npos) << v.message;
}

TEST(CheckerFanOut, AnOpenPublishAtTheEndIsNotJudged) {
  const std::string h = topic_publish(0, 1, "a") + line(1, "p0", "invoke", "publish",
                                                       R"("queue":"b","topic":"t","bound":["a","b"],"id":1,"payload":"m")");
  EXPECT_TRUE(check_fan_out(parse(h)).valid);
}

std::string nemesis(TimeNs t, std::string_view f, std::string_view error = "") {
  return line(t, "nemesis", "ok", f, error.empty() ? "" : "\"error\":\"" + std::string(error) + "\"");
}

TEST(CheckerRecovery, AFailedRecoveryIsAViolation) {
  const Verdict v = check_recovery(parse(nemesis(0, "crash") + nemesis(1, "recovery-failed", "release of message #9")));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("release of message #9"), std::string::npos) << v.message;
}

TEST(CheckerRecovery, DetectedCorruptionNeedsAFlippedBit) {
  EXPECT_TRUE(check_recovery(parse(nemesis(0, "bit-flip", "wal byte 9") + nemesis(0, "crash") +
                                   nemesis(0, "corruption-detected", "checksum mismatch")))
                  .valid);
  // A flip before the last recover does not explain a later detection.
  const Verdict v = check_recovery(parse(nemesis(0, "bit-flip") + nemesis(0, "crash") + nemesis(1, "recover") +
                                         nemesis(2, "crash") + nemesis(2, "corruption-detected", "checksum mismatch")));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("no bit of the log was flipped"), std::string::npos) << v.message;
}

Topology drop_oldest(uint32_t capacity) {
  Topology t = topology(false, capacity);
  t.queues[0].overflow = Overflow::kDropOldest;
  return t;
}

TEST(CheckerDrops, AFullDropOldestQueueDropsRightAfterTheAcceptance) {
  const std::string h = publish(0, 1) + publish(1, 2) + broker(1, "drop", 1);
  for (const auto& v : check_all(parse(h), drop_oldest(1))) EXPECT_TRUE(v.valid) << to_string(v);
}

TEST(CheckerDrops, ADropByARejectingQueueIsALoss) {
  const std::string h = publish(0, 1) + publish(1, 2) + broker(1, "drop", 1);
  const Verdict v = check_no_loss(parse(h), topology(false, 1));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("only a drop-oldest queue drops"), std::string::npos) << v.message;
}

TEST(CheckerDrops, ADropOldestQueueOverCapacityWithoutTheDropIsCaught) {
  const std::string h = publish(0, 1) + publish(1, 2) + push(2, "c0", 1);
  const Verdict v = check_capacity(parse(h), drop_oldest(1));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("not the drop that makes room"), std::string::npos) << v.message;
}

TEST(CheckerDrops, ADropWhileNotFullIsCaught) {
  const Verdict v = check_capacity(parse(publish(0, 1) + broker(1, "drop", 1)), drop_oldest(3));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("only makes room in a full queue"), std::string::npos) << v.message;
}

TEST(CheckerDrops, ARefusalWhileADroppableMessageIsReadyIsCaught) {
  const std::string h = publish(0, 1) + line(1, "p0", "invoke", "publish", msg(2)) +
                        line(1, "p0", "fail", "publish", msg(2) + R"(,"error":"full")");
  const Verdict v = check_capacity(parse(h), drop_oldest(1));
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("could drop message 1"), std::string::npos) << v.message;
  // Everything in flight: the refusal is right.
  const std::string in_flight = publish(0, 1) + push(0, "c0", 1) + line(1, "p0", "invoke", "publish", msg(2)) +
                                line(1, "p0", "fail", "publish", msg(2) + R"(,"error":"full")");
  EXPECT_TRUE(check_capacity(parse(in_flight), drop_oldest(1)).valid);
}

TEST(CheckerWindow, AFinishedIdAcceptedAgainIsANewMessageOnlyInAWindowedQueue) {
  const std::string h = publish(0, 1) + push(1, "c0", 1) + ack(2, "c0", 1) + publish(3, 1) + push(4, "c1", 1);
  Topology windowed = topology();
  windowed.queues[0].dedup_window_ids = 4;
  EXPECT_TRUE(check_duplicates(parse(h), windowed).valid);
  // A queue that remembers every id: the second acceptance is a silent duplicate.
  const Verdict v = check_duplicates(parse(h), topology());
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("delivered again"), std::string::npos) << v.message;
}

}  // namespace
}  // namespace mq
