// Refinement checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/refinement.h"

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

std::string msg(MessageId id, std::string_view extra = "") {
  return "\"queue\":\"q\",\"id\":" + std::to_string(id) + ",\"payload\":\"m" + std::to_string(id) + "\"" + std::string(extra);
}
std::string invoke(TimeNs t, MessageId id, std::string_view extra = "") { return line(t, "p0", "invoke", "publish", msg(id, extra)); }
std::string publish(TimeNs t, MessageId id, std::string_view extra = "") {
  return invoke(t, id, extra) + line(t, "p0", "ok", "publish", msg(id, extra));
}
std::string push(TimeNs t, std::string_view consumer, MessageId id, int attempts = 1) {
  return line(t, "broker", "ok", "deliver",
              msg(id) + ",\"consumer\":\"" + std::string(consumer) + "\",\"attempts\":" + std::to_string(attempts));
}
std::string client(TimeNs t, std::string_view consumer, std::string_view f, MessageId id, std::string_view extra = "") {
  const std::string rest = "\"queue\":\"q\",\"consumer\":\"" + std::string(consumer) + "\",\"id\":" + std::to_string(id) +
                           std::string(extra);
  return line(t, consumer, "invoke", f, rest) + line(t, consumer, "ok", f, rest);
}
std::string broker(TimeNs t, std::string_view f, MessageId id, std::string_view extra = "") {
  return line(t, "broker", "ok", f, "\"queue\":\"q\",\"id\":" + std::to_string(id) + std::string(extra));
}
// Queue "q" (durable, 3 priority levels, max_retries 3), consumers c0 and c1 with prefetch 1.
Topology topology(uint32_t capacity = 10) { return test::topology(/*durable=*/true, capacity); }

TEST(CheckerRefinement, AHistoryOfTheModelIsAllowed) {
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + push(1, "c1", 2) +
                        client(2, "c0", "ack", 1) + client(2, "c1", "ack", 2);
  const Verdict v = check_refinement(parse(h), topology(), {.complete = true});
  EXPECT_TRUE(v.valid) << to_string(v);
}

TEST(CheckerRefinement, APushToTheWrongConsumerIsCaught) {
  // Round-robin: after c0 got message 1 (and has no credit left), message 2 goes to c1.
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1);
  const Verdict v = check_refinement(parse(h + client(2, "c0", "ack", 1) + push(3, "c0", 2)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{4, 8})) << to_string(v);
  EXPECT_NE(v.message.find("delivers message 2 to 'c1'"), std::string::npos) << v.message;
  EXPECT_TRUE(check_refinement(parse(h + client(2, "c0", "ack", 1) + push(3, "c1", 2)), topology()).valid);
}

TEST(CheckerRefinement, ARefusalWhileNotFullIsCaught) {
  const std::string h = publish(0, 1) + invoke(1, 2) + line(1, "p0", "fail", "publish", msg(2) + ",\"error\":\"full\"");
  const Verdict v = check_refinement(parse(h), topology(2));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 4})) << to_string(v);
  EXPECT_NE(v.message.find("the model accepts it"), std::string::npos) << v.message;
  EXPECT_TRUE(check_refinement(parse(h), topology(1)).valid);
}

TEST(CheckerRefinement, ARefusalAsMalformedMustBeOfAMalformedMessage) {
  // Queue "q" has 3 priority levels: priority 3 is malformed there, priority 2 is not.
  const auto refused = [](int priority) {
    const std::string extra = ",\"priority\":" + std::to_string(priority);
    return invoke(0, 1, extra) +
           line(0, "p0", "fail", "publish",
                msg(1, extra) + ",\"error\":\"InvalidArgument: queue 'q', message #1: priority out of range\"");
  };
  EXPECT_TRUE(check_refinement(parse(refused(3)), topology(), {.complete = true}).valid);
  const Verdict v = check_refinement(parse(refused(2)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{1, 2})) << to_string(v);
  EXPECT_NE(v.message.find("refused message 1 as malformed"), std::string::npos) << v.message;
  // Any other failure says nothing of the message (the broker was down, a timeout).
  const std::string other = invoke(0, 1) + line(0, "p0", "fail", "publish", msg(1) + ",\"error\":\"Unavailable: down\"");
  EXPECT_TRUE(check_refinement(parse(other), topology()).valid);
  // And a malformed message the broker accepted is caught as well.
  const Verdict accepted = check_refinement(parse(publish(0, 1, ",\"priority\":3")), topology());
  EXPECT_FALSE(accepted.valid);
  EXPECT_NE(accepted.message.find("the model rejects the publish"), std::string::npos) << accepted.message;
}

TEST(CheckerRefinement, AnInfoPublishMayHaveBeenAccepted) {
  const std::string h = invoke(0, 1) + line(1, "p0", "info", "publish", msg(1) + ",\"error\":\"timeout\"");
  EXPECT_TRUE(check_refinement(parse(h + push(2, "c0", 1) + client(3, "c0", "ack", 1)), topology(),
                               {.complete = true}).valid);
  EXPECT_TRUE(check_refinement(parse(h), topology(), {.complete = true}).valid);  // or not
  // A message nobody published cannot be pushed.
  const Verdict v = check_refinement(parse(h + push(2, "c0", 9)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3})) << to_string(v);
}

TEST(CheckerRefinement, ABrokerEventTheModelDoesNotOweIsCaught) {
  // Message 1 has no TTL: the model never expires it.
  const Verdict v = check_refinement(parse(publish(0, 1) + broker(5, "expire", 1)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2, 3})) << to_string(v);
  EXPECT_NE(v.message.find("no expire of message 1"), std::string::npos) << v.message;
  // With a TTL of 5 ns it expires at 5.
  EXPECT_TRUE(check_refinement(parse(publish(0, 1, ",\"ttl_ns\":5") + broker(5, "expire", 1)), topology(),
                               {.complete = true}).valid);
}

TEST(CheckerRefinement, TheRetryBudgetIsACandidateUnlessTheQueueFixesIt) {
  // Nacked once and dead-lettered: allowed if the message was sent with max_retries 0.
  const std::string h = publish(0, 1) + push(1, "c0", 1) + client(2, "c0", "nack", 1, ",\"requeue\":true") +
                        broker(2, "dead-letter", 1, ",\"consumer\":\"c0\"");
  EXPECT_TRUE(check_refinement(parse(h), topology(), {.complete = true}).valid);
  const Verdict v = check_refinement(parse(h), topology(), {.queue_retry_budget = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{5, 6})) << to_string(v);
}

TEST(CheckerRefinement, ACompleteHistoryMustShowWhatTheModelOwes) {
  // The nack requeues message 1, but the history never shows the requeue.
  const std::string h = publish(0, 1) + push(1, "c0", 1) + client(2, "c0", "nack", 1, ",\"requeue\":true");
  const Verdict v = check_refinement(parse(h), topology(), {.complete = true, .queue_retry_budget = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{5})) << to_string(v);
  EXPECT_NE(v.message.find("owes requeued"), std::string::npos) << v.message;
  const std::string fixed = h + broker(2, "requeue", 1, ",\"consumer\":\"c0\"") + push(3, "c1", 1, 2) +
                            client(4, "c1", "ack", 1);
  EXPECT_TRUE(check_refinement(parse(fixed), topology(), {.complete = true, .queue_retry_budget = true}).valid);
}

TEST(CheckerRefinement, APublishIsJudgedAtTheBrokersAcceptanceTime) {
  // Invoked at 0, accepted at 1 (the broker's stamp), confirmed at 10; TTL 5 ns: it
  // expired at 6, so an expire at 12 is owed and a push at 12 is not allowed. Judged
  // at the confirmation (10), the expiry would be due only at 15.
  const std::string ttl = ",\"ttl_ns\":5";
  const std::string stamped = ttl + ",\"timestamp_ns\":1,\"not_before_ns\":1";
  const std::string h = invoke(0, 1, ttl) + line(10, "p0", "ok", "publish", msg(1, stamped));
  EXPECT_TRUE(check_refinement(parse(h + broker(12, "expire", 1)), topology(), {.complete = true}).valid);
  const Verdict late = check_refinement(parse(h + push(12, "c0", 1)), topology());
  EXPECT_FALSE(late.valid);
  EXPECT_EQ(witness_lines(late), (Lines{2, 3})) << to_string(late);
  // Complete, without the expire: the model owes it since the confirmation.
  const Verdict owed = check_refinement(parse(h), topology(), {.complete = true});
  EXPECT_FALSE(owed.valid);
  EXPECT_NE(owed.message.find("owes expired of message 1"), std::string::npos) << owed.message;
  // A delay runs from the acceptance too: accepted at 1 with delay 5, deliverable at 6.
  const std::string delay = ",\"delay_ns\":5";
  const std::string delayed = invoke(0, 2, delay) +
                              line(10, "p0", "ok", "publish", msg(2, delay + ",\"timestamp_ns\":1,\"not_before_ns\":6"));
  EXPECT_TRUE(check_refinement(parse(delayed + broker(10, "release", 2) + push(12, "c0", 2) + client(13, "c0", "ack", 2)),
                               topology(), {.complete = true})
                  .valid);
}

// Message i published, pushed (round-robin: c0, c1, c0, ...) and acked, for i in [from, to].
std::string finish_messages(MessageId from, MessageId to, TimeNs t) {
  std::string h;
  for (MessageId id = from; id <= to; ++id) {
    const std::string c = id % 2 == 1 ? "c0" : "c1";
    h += publish(t, id) + push(t, c, id) + client(t, c, "ack", id);
  }
  return h;
}

TEST(CheckerRefinement, AReusedIdIsCaughtWithinTheRetentionBound) {
  // 300 messages finish, then id 1 is published again and confirmed: the model
  // refuses a finished id. The checker once kept only the last 256 finished ids.
  const std::string reused = finish_messages(1, 300, 0) + publish(1, 1);
  const Verdict v = check_refinement(parse(reused), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{300 * 5 + 1, 300 * 5 + 2})) << to_string(v);  // the invoke, the ok
  EXPECT_NE(v.message.find("duplicate message id 1"), std::string::npos) << v.message;
  // Refused by the broker, the reuse is allowed (a fail other than "full" did not happen).
  EXPECT_TRUE(check_refinement(parse(finish_messages(1, 300, 0) + invoke(1, 1) +
                                     line(1, "p0", "fail", "publish", msg(1) + ",\"error\":\"duplicate\"")),
                               topology())
                  .valid);
  // Past the bound (kRememberFinished finishes of its queue since), it is not judged.
  const MessageId n = kRememberFinished + 1;
  EXPECT_TRUE(check_refinement(parse(finish_messages(1, n, 0) + publish(1, 1)), topology()).valid);
  EXPECT_FALSE(check_refinement(parse(finish_messages(1, n - 1, 0) + publish(1, 1)), topology()).valid);
}

}  // namespace
}  // namespace mq
