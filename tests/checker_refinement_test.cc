// Refinement checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/refinement.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "model/history_io.h"

namespace mq {
namespace {

std::string line(TimeNs t, std::string_view process, std::string_view type, std::string_view f, std::string_view rest) {
  return "{\"v\":1,\"time\":" + std::to_string(t) + ",\"process\":\"" + std::string(process) + "\",\"type\":\"" +
         std::string(type) + "\",\"f\":\"" + std::string(f) + "\"," + std::string(rest) + "}\n";
}
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
History parse(const std::string& text) {
  auto h = parse_history(text, "t.jsonl");
  EXPECT_TRUE(h.ok()) << h.status().to_string();
  return h.ok() ? std::move(h).value() : History{};
}
std::vector<uint64_t> lines(const Verdict& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v.witness) out.push_back(e.line);
  return out;
}
using Lines = std::vector<uint64_t>;
// Queue "q" (durable, 3 priority levels, max_retries 3), consumers c0 and c1 with prefetch 1.
Topology topology(uint32_t capacity = 10) {
  Topology t;
  t.producers = {ProducerConfig{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = 3;
  q.durable = true;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual}, ConsumerConfig{"c1", "q", 1, AckMode::kManual}};
  return t;
}

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
  EXPECT_EQ(lines(v), (Lines{4, 8})) << to_string(v);
  EXPECT_NE(v.message.find("delivers message 2 to 'c1'"), std::string::npos) << v.message;
  EXPECT_TRUE(check_refinement(parse(h + client(2, "c0", "ack", 1) + push(3, "c1", 2)), topology()).valid);
}

TEST(CheckerRefinement, ARefusalWhileNotFullIsCaught) {
  const std::string h = publish(0, 1) + invoke(1, 2) + line(1, "p0", "fail", "publish", msg(2) + ",\"error\":\"full\"");
  const Verdict v = check_refinement(parse(h), topology(2));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(lines(v), (Lines{3, 4})) << to_string(v);
  EXPECT_NE(v.message.find("the model accepts it"), std::string::npos) << v.message;
  EXPECT_TRUE(check_refinement(parse(h), topology(1)).valid);
}

TEST(CheckerRefinement, AnInfoPublishMayHaveBeenAccepted) {
  const std::string h = invoke(0, 1) + line(1, "p0", "info", "publish", msg(1) + ",\"error\":\"timeout\"");
  EXPECT_TRUE(check_refinement(parse(h + push(2, "c0", 1) + client(3, "c0", "ack", 1)), topology(),
                               {.complete = true}).valid);
  EXPECT_TRUE(check_refinement(parse(h), topology(), {.complete = true}).valid);  // or not
  // A message nobody published cannot be pushed.
  const Verdict v = check_refinement(parse(h + push(2, "c0", 9)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(lines(v), (Lines{3})) << to_string(v);
}

TEST(CheckerRefinement, ABrokerEventTheModelDoesNotOweIsCaught) {
  // Message 1 has no TTL: the model never expires it.
  const Verdict v = check_refinement(parse(publish(0, 1) + broker(5, "expire", 1)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(lines(v), (Lines{2, 3})) << to_string(v);
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
  EXPECT_EQ(lines(v), (Lines{5, 6})) << to_string(v);
}

TEST(CheckerRefinement, ACompleteHistoryMustShowWhatTheModelOwes) {
  // The nack requeues message 1, but the history never shows the requeue.
  const std::string h = publish(0, 1) + push(1, "c0", 1) + client(2, "c0", "nack", 1, ",\"requeue\":true");
  const Verdict v = check_refinement(parse(h), topology(), {.complete = true, .queue_retry_budget = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(lines(v), (Lines{5})) << to_string(v);
  EXPECT_NE(v.message.find("owes requeued"), std::string::npos) << v.message;
  const std::string fixed = h + broker(2, "requeue", 1, ",\"consumer\":\"c0\"") + push(3, "c1", 1, 2) +
                            client(4, "c1", "ack", 1);
  EXPECT_TRUE(check_refinement(parse(fixed), topology(), {.complete = true, .queue_retry_budget = true}).valid);
}

}  // namespace
}  // namespace mq
