// The task queue and the event bus (layers/task_queue.h, layers/event_bus.h): thin
// layers over the model that report refusals instead of dropping.

#include <optional>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "layers/event_bus.h"
#include "layers/task_queue.h"

namespace mq {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Model make(Topology t) {
  auto r = Model::create(std::move(t));
  MQ_CHECK(r.ok());
  return std::move(r).value();
}

// q0 "tasks" (capacity 2, 3 levels, max_retries 1, dead-letter to q1 "failed");
// workers w0 and w1 with prefetch 1.
Model task_model() {
  Topology t;
  t.producers = {{"p0"}};
  QueueConfig tasks;
  tasks.name = "tasks";
  tasks.capacity = 2;
  tasks.priority_levels = 3;
  tasks.max_retries = 1;
  tasks.dead_letter_queue = "failed";
  QueueConfig failed;
  failed.name = "failed";
  failed.capacity = 4;
  t.queues = {tasks, failed};
  t.consumers = {{"w0", "tasks", 1, AckMode::kManual}, {"w1", "tasks", 1, AckMode::kManual}};
  return make(std::move(t));
}

TEST(TaskQueueTest, SubmitTakeComplete) {
  Model m = task_model();
  TaskQueue tq(m, 0, 0);
  auto low = tq.submit("resize image", 0);
  auto high = tq.submit("send email", 2);
  ASSERT_TRUE(low.ok());
  ASSERT_TRUE(high.ok());
  EXPECT_NE(*low, *high);
  auto taken = tq.take(0);
  ASSERT_TRUE(taken.ok());
  ASSERT_TRUE(taken->has_value());
  EXPECT_EQ((*taken)->id, *high);  // the higher priority first
  EXPECT_EQ((*taken)->payload, "send email");
  EXPECT_EQ((*taken)->attempts, 1u);
  // w0 has no credit left; w1 takes the other.
  auto none = tq.take(0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto other = tq.take(1);
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_EQ((*other)->id, *low);
  EXPECT_TRUE(tq.complete(0, *high).ok());
  EXPECT_TRUE(tq.complete(1, *low).ok());
  EXPECT_EQ(m.stats(0).acked, 2u);
  EXPECT_EQ(m.stats(0).size, 0u);
  auto empty = tq.take(0);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
}

TEST(TaskQueueTest, FullQueueIsAnErrorNotADrop) {
  Model m = task_model();
  TaskQueue tq(m, 0, 0);
  ASSERT_TRUE(tq.submit("a", 0).ok());
  ASSERT_TRUE(tq.submit("b", 0).ok());
  auto third = tq.submit("c", 0);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), Code::kFailedPrecondition);
  EXPECT_THAT(third.status().message(), HasSubstr("task queue 'tasks' is full"));
  EXPECT_EQ(m.stats(0).size, 2u);
  EXPECT_EQ(m.stats(0).refused, 1u);
  // Room again: a later submit gets an id distinct from every earlier one.
  auto t = tq.take(0);
  ASSERT_TRUE(t.ok() && t->has_value());
  ASSERT_TRUE(tq.complete(0, (*t)->id).ok());
  auto fourth = tq.submit("d", 0);
  ASSERT_TRUE(fourth.ok());
  EXPECT_NE(*fourth, (*t)->id);
  EXPECT_EQ(m.stats(0).size, 2u);
}

TEST(TaskQueueTest, ModelErrorsPropagate) {
  Model m = task_model();
  TaskQueue tq(m, 0, 0);
  auto bad = tq.submit("x", 3);  // 3 levels: 0..2
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("priority 3 out of range 0..2"));
  auto take_unknown = tq.take(7);
  ASSERT_FALSE(take_unknown.ok());
  EXPECT_EQ(take_unknown.status().code(), Code::kNotFound);
  EXPECT_EQ(tq.complete(0, 42).code(), Code::kFailedPrecondition);
  EXPECT_EQ(tq.fail(0, 42).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(m.detach(1).ok());
  auto take_detached = tq.take(1);
  ASSERT_FALSE(take_detached.ok());
  EXPECT_EQ(take_detached.status().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(m.crash().ok());
  auto down = tq.submit("y", 0);
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
}

TEST(TaskQueueTest, CompleteTwiceFails) {
  Model m = task_model();
  TaskQueue tq(m, 0, 0);
  auto id = tq.submit("once", 1);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(tq.take(0).ok());
  EXPECT_TRUE(tq.complete(0, *id).ok());
  const Status again = tq.complete(0, *id);
  EXPECT_EQ(again.code(), Code::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("not in flight at consumer 'w0'"));
}

TEST(TaskQueueTest, FailRetriesThenDeadLetters) {
  Model m = task_model();
  TaskQueue tq(m, 0, 0);
  auto id = tq.submit("flaky", 1);
  ASSERT_TRUE(id.ok());
  // max_retries 1: two attempts, then the dead-letter queue.
  for (uint32_t attempt = 1; attempt <= 2; ++attempt) {
    auto t = tq.take(0);
    ASSERT_TRUE(t.ok() && t->has_value()) << "attempt " << attempt;
    EXPECT_EQ((*t)->id, *id);
    EXPECT_EQ((*t)->attempts, attempt);
    EXPECT_TRUE(tq.fail(0, *id).ok());
  }
  auto none = tq.take(0);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(m.stats(0).dead_lettered, 1u);
  EXPECT_EQ(m.stats(0).redeliveries, 1u);
  EXPECT_EQ(m.stats(1).ready, 1u);
  EXPECT_EQ(m.state().queues[1].ready[0].front().payload, "flaky");
}

// Topics: "order.created" -> billing (capacity 1), audit; "user.deleted" -> audit.
Model bus_model() {
  Topology t;
  t.producers = {{"p0"}};
  QueueConfig billing;
  billing.name = "billing";
  billing.capacity = 1;
  QueueConfig audit;
  audit.name = "audit";
  audit.capacity = 4;
  t.queues = {billing, audit};
  t.topics = {{"order.created", {"billing", "audit"}}, {"user.deleted", {"audit"}}, {"unused", {}}};
  return make(std::move(t));
}

TEST(EventBusTest, FanOutReport) {
  Model m = bus_model();
  EventBus bus(m, 0);
  auto first = bus.publish("order.created", "order 17");
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_THAT(first->delivered_to, ElementsAre(0u, 1u));
  EXPECT_THAT(first->refused_by, IsEmpty());
  EXPECT_EQ(m.state().queues[0].ready[0].front().id, first->id);
  EXPECT_EQ(m.state().queues[1].ready[0].front().payload, "order 17");

  auto second = bus.publish("order.created", "order 18");
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->id, first->id);
  EXPECT_THAT(second->delivered_to, ElementsAre(1u));
  EXPECT_THAT(second->refused_by, ElementsAre(0u));

  auto third = bus.publish("user.deleted", "user 3");
  ASSERT_TRUE(third.ok());
  std::set<MessageId> ids = {first->id, second->id, third->id};
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_THAT(third->delivered_to, ElementsAre(1u));
  EXPECT_EQ(m.stats(1).accepted, 3u);

  auto nobody = bus.publish("unused", "into the void");
  ASSERT_TRUE(nobody.ok());
  EXPECT_THAT(nobody->delivered_to, IsEmpty());
  EXPECT_THAT(nobody->refused_by, IsEmpty());
}

TEST(EventBusTest, UnknownEventTypeIsNotFound) {
  Model m = bus_model();
  EventBus bus(m, 0);
  const ModelState before = m.state();
  auto r = bus.publish("order.cancelled", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("event bus: unknown event type 'order.cancelled'"));
  EXPECT_EQ(m.state(), before);
}

TEST(EventBusTest, ModelErrorsPropagate) {
  Model m = bus_model();
  EventBus bus(m, 0);
  ASSERT_TRUE(m.crash().ok());
  auto down = bus.publish("order.created", "x");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kUnavailable);
  EventBus stranger(m, 5);
  ASSERT_TRUE(m.recover().ok());
  auto unknown = stranger.publish("order.created", "x");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kNotFound);
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown producer #5"));
}

}  // namespace
}  // namespace mq
