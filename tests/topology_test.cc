// Topology: validate() names every configuration error; lookups and resolved wiring.

#include "model/topology.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mq {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

QueueConfig queue(std::string name, uint32_t capacity = 4) {
  QueueConfig q;
  q.name = std::move(name);
  q.capacity = capacity;
  return q;
}

ConsumerConfig consumer(std::string name, std::string q) {
  ConsumerConfig c;
  c.name = std::move(name);
  c.queue = std::move(q);
  return c;
}

// A valid topology every error test breaks in one place.
Topology base_topology() {
  Topology t;
  t.producers = {{"p0"}, {"p1"}};
  t.queues = {queue("orders"), queue("audit"), queue("dlq")};
  t.queues[0].dead_letter_queue = "dlq";
  t.consumers = {consumer("c0", "orders"), consumer("c1", "audit"), consumer("c2", "orders")};
  t.topics = {{"events", {"orders", "audit"}}, {"empty", {}}};
  return t;
}

void expect_error(const Topology& t, Code code, const std::string& needle) {
  const Status s = t.validate();
  EXPECT_EQ(s.code(), code) << s.to_string();
  EXPECT_THAT(s.message(), HasSubstr(needle));
}

TEST(TopologyTest, BaseTopologyIsValid) { EXPECT_TRUE(base_topology().validate().ok()); }

TEST(TopologyTest, EmptyTopologyIsValid) { EXPECT_TRUE(Topology{}.validate().ok()); }

TEST(TopologyTest, CapacityZero) {
  Topology t = base_topology();
  t.queues[1].capacity = 0;
  expect_error(t, Code::kInvalidArgument, "queue 'audit': capacity must be > 0");
}

TEST(TopologyTest, PriorityLevelsZero) {
  Topology t = base_topology();
  t.queues[1].priority_levels = 0;
  expect_error(t, Code::kInvalidArgument, "queue 'audit': priority_levels must be in 1..256, got 0");
}

TEST(TopologyTest, PriorityLevels257) {
  Topology t = base_topology();
  t.queues[0].priority_levels = 257;
  expect_error(t, Code::kInvalidArgument, "queue 'orders': priority_levels must be in 1..256, got 257");
}

TEST(TopologyTest, PriorityLevelsBoundsAccepted) {
  Topology t = base_topology();
  t.queues[0].priority_levels = 1;
  t.queues[1].priority_levels = 256;
  EXPECT_TRUE(t.validate().ok());
}

TEST(TopologyTest, NegativeVisibilityTimeout) {
  Topology t = base_topology();
  t.queues[2].visibility_timeout_ns = -1;
  expect_error(t, Code::kInvalidArgument, "queue 'dlq': visibility_timeout_ns < 0");
}

TEST(TopologyTest, UnknownDeadLetterQueue) {
  Topology t = base_topology();
  t.queues[0].dead_letter_queue = "nowhere";
  expect_error(t, Code::kNotFound, "queue 'orders': unknown dead_letter_queue 'nowhere'");
}

TEST(TopologyTest, SelfDeadLetterQueue) {
  Topology t = base_topology();
  t.queues[1].dead_letter_queue = "audit";
  expect_error(t, Code::kInvalidArgument, "queue 'audit': is its own dead_letter_queue");
}

TEST(TopologyTest, CyclicDeadLetterQueue) {
  Topology t = base_topology();
  t.queues[2].dead_letter_queue = "orders";  // orders -> dlq -> orders
  expect_error(t, Code::kInvalidArgument, "dead_letter_queue chain has a cycle");
  EXPECT_THAT(t.validate().message(), HasSubstr("queue 'orders'"));
}

TEST(TopologyTest, LongCycleNotThroughStart) {
  Topology t = base_topology();
  t.queues.push_back(queue("d"));
  // orders -> dlq -> audit -> d -> audit: the chain from orders never returns to it.
  t.queues[2].dead_letter_queue = "audit";
  t.queues[1].dead_letter_queue = "d";
  t.queues[3].dead_letter_queue = "audit";
  expect_error(t, Code::kInvalidArgument, "dead_letter_queue chain has a cycle");
}

TEST(TopologyTest, LongAcyclicChainIsValid) {
  Topology t;
  t.queues = {queue("a"), queue("b"), queue("c"), queue("d")};
  t.queues[0].dead_letter_queue = "b";
  t.queues[1].dead_letter_queue = "c";
  t.queues[2].dead_letter_queue = "d";
  EXPECT_TRUE(t.validate().ok());
}

TEST(TopologyTest, DuplicateNames) {
  {
    Topology t = base_topology();
    t.producers.push_back({"p0"});
    expect_error(t, Code::kAlreadyExists, "duplicate producer name 'p0'");
  }
  {
    Topology t = base_topology();
    t.consumers.push_back(consumer("c1", "orders"));
    expect_error(t, Code::kAlreadyExists, "duplicate consumer name 'c1'");
  }
  {
    Topology t = base_topology();
    t.queues.push_back(queue("audit"));
    expect_error(t, Code::kAlreadyExists, "duplicate queue name 'audit'");
  }
  {
    Topology t = base_topology();
    t.topics.push_back({"events", {}});
    expect_error(t, Code::kAlreadyExists, "duplicate topic name 'events'");
  }
}

TEST(TopologyTest, EmptyNames) {
  {
    Topology t = base_topology();
    t.producers[1].name = "";
    expect_error(t, Code::kInvalidArgument, "producer with an empty name");
  }
  {
    Topology t = base_topology();
    t.consumers[0].name = "";
    expect_error(t, Code::kInvalidArgument, "consumer with an empty name");
  }
  {
    Topology t = base_topology();
    t.queues.push_back(queue(""));
    expect_error(t, Code::kInvalidArgument, "queue with an empty name");
  }
  {
    Topology t = base_topology();
    t.topics[1].name = "";
    expect_error(t, Code::kInvalidArgument, "topic with an empty name");
  }
}

TEST(TopologyTest, ConsumerOnUnknownQueue) {
  Topology t = base_topology();
  t.consumers[2].queue = "missing";
  expect_error(t, Code::kNotFound, "consumer 'c2': unknown queue 'missing'");
}

TEST(TopologyTest, TopicBindsUnknownQueue) {
  Topology t = base_topology();
  t.topics[0].queues.push_back("ghost");
  expect_error(t, Code::kNotFound, "topic 'events': unknown queue 'ghost'");
}

TEST(TopologyTest, TopicBindsQueueTwice) {
  Topology t = base_topology();
  t.topics[0].queues.push_back("orders");
  expect_error(t, Code::kAlreadyExists, "topic 'events': queue 'orders' bound twice");
}

TEST(TopologyTest, SameQueueInTwoTopicsIsValid) {
  Topology t = base_topology();
  t.topics[1].queues = {"orders"};
  EXPECT_TRUE(t.validate().ok());
}

TEST(TopologyTest, FindByName) {
  const Topology t = base_topology();
  EXPECT_EQ(t.find_queue("orders"), QueueId{0});
  EXPECT_EQ(t.find_queue("dlq"), QueueId{2});
  EXPECT_EQ(t.find_queue("nope"), std::nullopt);
  EXPECT_EQ(t.find_consumer("c2"), ConsumerId{2});
  EXPECT_EQ(t.find_consumer("orders"), std::nullopt);  // names are per kind
  EXPECT_EQ(t.find_producer("p1"), ProducerId{1});
  EXPECT_EQ(t.find_producer(""), std::nullopt);
  EXPECT_EQ(t.find_topic("empty"), TopicId{1});
  EXPECT_EQ(t.find_topic("Events"), std::nullopt);  // case-sensitive
}

TEST(TopologyTest, QueueOfConsumer) {
  const Topology t = base_topology();
  EXPECT_EQ(t.queue_of(0), 0u);
  EXPECT_EQ(t.queue_of(1), 1u);
  EXPECT_EQ(t.queue_of(2), 0u);
}

TEST(TopologyTest, ConsumersOfInDeclarationOrder) {
  Topology t = base_topology();
  t.consumers.push_back(consumer("c3", "orders"));
  EXPECT_THAT(t.consumers_of(0), ElementsAre(0u, 2u, 3u));
  EXPECT_THAT(t.consumers_of(1), ElementsAre(1u));
  EXPECT_TRUE(t.consumers_of(2).empty());
}

TEST(TopologyTest, QueuesOfTopicInBindingOrder) {
  Topology t = base_topology();
  t.topics[1].queues = {"dlq", "orders"};
  EXPECT_THAT(t.queues_of(0), ElementsAre(0u, 1u));
  EXPECT_THAT(t.queues_of(1), ElementsAre(2u, 0u));
}

TEST(TopologyTest, DeadLetterOf) {
  const Topology t = base_topology();
  EXPECT_EQ(t.dead_letter_of(0), QueueId{2});
  EXPECT_EQ(t.dead_letter_of(1), std::nullopt);
  EXPECT_EQ(t.dead_letter_of(2), std::nullopt);
}

TEST(TopologyDeathTest, ResolversCheckTheirIndex) {
  const Topology t = base_topology();
  EXPECT_DEATH((void)t.queue_of(9), "MQ_CHECK");
  EXPECT_DEATH((void)t.consumers_of(9), "MQ_CHECK");
  EXPECT_DEATH((void)t.queues_of(9), "MQ_CHECK");
  EXPECT_DEATH((void)t.dead_letter_of(9), "MQ_CHECK");
}

}  // namespace
}  // namespace mq
