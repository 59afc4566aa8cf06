// QueueReplay with completions recorded when the client hears back: a publish's ok
// may come after its message was delivered, even acked. The replay accepts the
// message at its first sighting and must not accept it again at the late ok (it
// used to, and the capacity, priority and load-balance checkers then judged against
// a queue that still "held" a finished message). The bug each checker is for is
// still caught.
#include "properties/checkers/queue_replay.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "checker_test_util.h"
#include "formats/history_io.h"
#include "model/topology.h"
#include "properties/checkers/capacity.h"
#include "properties/checkers/check_all.h"
#include "properties/checkers/priority.h"

namespace mq {
namespace {

using test::line;
using test::parse;

std::string msg(MessageId id, int priority = 0) {
  return "\"queue\":\"q\",\"id\":" + std::to_string(id) + ",\"payload\":\"m" + std::to_string(id) +
         "\",\"priority\":" + std::to_string(priority);
}
std::string invoke(TimeNs t, std::string_view p, MessageId id, int priority = 0) {
  return line(t, p, "invoke", "publish", msg(id, priority));
}
std::string ok(TimeNs t, std::string_view p, MessageId id, int priority = 0) {
  return line(t, p, "ok", "publish", msg(id, priority));
}
std::string push(TimeNs t, std::string_view c, MessageId id, int priority = 0) {
  return line(t, "broker", "ok", "deliver", msg(id, priority) + ",\"consumer\":\"" + std::string(c) + "\",\"attempts\":1");
}
std::string ack(TimeNs t, std::string_view c, MessageId id) {
  const std::string rest = "\"queue\":\"q\",\"consumer\":\"" + std::string(c) + "\",\"id\":" + std::to_string(id);
  return line(t, c, "invoke", "ack", rest) + line(t, c, "ok", "ack", rest);
}
// One queue "q" (3 priority levels) and one consumer c0 with prefetch 1.
Topology topology(uint32_t capacity) {
  Topology t;
  t.producers = {ProducerConfig{"p0"}, ProducerConfig{"p1"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = 3;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual}};
  return t;
}

// p0's message 1 is pushed and acked before p0 hears its ok; then p0 publishes 2.
std::string late_ok_history() {
  return invoke(0, "p0", 1) + push(1, "c0", 1) + ack(2, "c0", 1) + ok(3, "p0", 1) + invoke(4, "p0", 2) +
         ok(4, "p0", 2);
}

TEST(QueueReplay, LateOkDoesNotAcceptAFinishedMessageAgain) {
  // Capacity 1: message 1 is finished when p0 hears its ok, so 2 fits. Before the fix
  // the late ok re-accepted 1 and the capacity checker saw two messages held.
  EXPECT_TRUE(check_capacity(parse(late_ok_history()), topology(1)).valid);
}

TEST(QueueReplay, LateOkHistoryPassesEveryChecker) {
  for (const auto& v : check_all(parse(late_ok_history()), topology(1), CheckOptions{.complete = false})) {
    EXPECT_TRUE(v.valid) << to_string(v);
  }
}

TEST(QueueReplay, LateOkOfAMessageStillInFlightStillCountsOnce) {
  // Delivered (not acked) before its ok: it is held once, so a second message overflows
  // capacity 1 (a real bug), while with capacity 2 it fits.
  const std::string h = invoke(0, "p0", 1) + push(1, "c0", 1) + ok(2, "p0", 1) + invoke(3, "p0", 2) + ok(3, "p0", 2);
  EXPECT_FALSE(check_capacity(parse(h), topology(1)).valid);
  EXPECT_TRUE(check_capacity(parse(h), topology(2)).valid);
}

TEST(QueueReplay, RealOverflowStillFailsCapacity) {
  // Two messages held at once in a queue of capacity 1, nothing delivered: a real bug.
  const std::string h = invoke(0, "p0", 1) + ok(0, "p0", 1) + invoke(1, "p1", 2) + ok(1, "p1", 2);
  const Verdict v = check_capacity(parse(h), topology(1));
  EXPECT_FALSE(v.valid);
  // ... also when the first ok arrives late, after a push of the other message.
  const std::string late = invoke(0, "p0", 1) + invoke(1, "p1", 2) + ok(1, "p1", 2) + ok(2, "p0", 1);
  EXPECT_FALSE(check_capacity(parse(late), topology(1)).valid);
}

TEST(QueueReplay, LateOkAfterAckDoesNotFakeAPriorityInversion) {
  // High-priority 1 is pushed and acked before its ok; a later low-priority 2 is pushed
  // while nothing else is ready: no inversion. Before the fix the replay re-accepted
  // 1 as ready (priority 2) at its late ok and reported the push of 2 as one.
  const std::string h = invoke(0, "p0", 1, 2) + push(1, "c0", 1, 2) + ack(2, "c0", 1) + ok(3, "p0", 1, 2) +
                        invoke(4, "p1", 2, 0) + ok(4, "p1", 2, 0) + push(5, "c0", 2, 0);
  EXPECT_TRUE(check_priority(parse(h), topology(10)).valid);
  // The real bug: low priority pushed while the high one is surely ready.
  const std::string bad = invoke(0, "p0", 1, 2) + ok(0, "p0", 1, 2) + invoke(1, "p1", 2, 0) + ok(1, "p1", 2, 0) +
                          push(2, "c0", 2, 0);
  EXPECT_FALSE(check_priority(parse(bad), topology(10)).valid);
}

}  // namespace
}  // namespace mq
