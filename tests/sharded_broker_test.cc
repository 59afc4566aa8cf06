// ShardedBroker: which queues share a shard (dead-letter links and topics keep them
// together, components are dealt over the shard bound), and that the sharded API
// speaks global ids: deliveries name the global consumer and queue, dead-lettering and
// topics work inside a shard, unknown ids are refused, durable shards come back from
// their own directories, and a directory keeps the layout it was made with.

#include "impl/sharded_broker.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "temp_dir.h"

namespace mq::impl {
namespace {

using namespace std::chrono_literals;

QueueOptions queue(std::string name, bool durable = false, std::optional<std::string> dlq = std::nullopt) {
  QueueOptions q;
  q.name = std::move(name);
  q.capacity = 8;
  q.durable = durable;
  q.dead_letter_queue = std::move(dlq);
  return q;
}

// Queues a (dead-letters to c), b, c, d and e (topic t binds d and e), f; one
// consumer of each, listed in reverse so that consumer and queue ids differ.
BrokerConfig config(bool durable = false) {
  BrokerConfig c;
  c.producers.push_back({"p"});
  c.queues = {queue("a", durable, "c"), queue("b", durable), queue("c", durable),
              queue("d", durable),      queue("e", durable), queue("f", durable)};
  c.topics.push_back({"t", {"d", "e"}});
  for (const char* q : {"f", "e", "d", "c", "b", "a"})
    c.consumers.push_back({std::string("c_") + q, q, 4, AckMode::kManual});
  return c;
}

ShardedBrokerOptions options(bool durable = false, std::string dir = "") {
  ShardedBrokerOptions o;
  o.broker.config = config(durable);
  o.broker.data_dir = std::move(dir);
  o.max_shards = 8;
  return o;
}

MessageSpec msg(MessageId id) {
  return MessageSpec{id, "m" + std::to_string(id), 0, 0, 0, std::nullopt};
}

std::unique_ptr<ShardedBroker> open_ok(ShardedBrokerOptions o) {
  auto b = ShardedBroker::open(std::move(o));
  MQ_CHECK_MSG(b.ok(), b.status().to_string().c_str());
  return std::move(b).value();
}

TEST(ShardQueues, LinkedQueuesShareAShardAndComponentsAreDealtInOrder) {
  // Components in order of their first queue: {a, c} 0, {b} 1, {d, e} 2, {f} 3.
  EXPECT_EQ(shard_queues(config(), 8), (std::vector<uint32_t>{0, 1, 0, 2, 2, 3}));
  EXPECT_EQ(shard_queues(config(), 2), (std::vector<uint32_t>{0, 1, 0, 0, 0, 1}));
  EXPECT_EQ(shard_queues(config(), 1), (std::vector<uint32_t>(6, 0)));
}

TEST(ShardedBroker, DeliveriesNameTheGlobalConsumerAndQueue) {
  auto b = open_ok(options());
  ASSERT_EQ(b->shard_count(), 4u);
  // Queue f (5) is consumer 0's, in shard 3, where both are number 0.
  EXPECT_EQ(b->shard_of_queue(5), 3u);
  EXPECT_EQ(*b->publish(0, 5, msg(1), 1s), Confirm::kStored);
  auto d = b->fetch(0, 1s);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->consumer, 0u);
  EXPECT_EQ((*d)->queue, 5u);
  EXPECT_TRUE(b->ack(0, 1).ok());
  // Queue b (1) is consumer 4's; a batch through its shard.
  std::vector<MessageSpec> specs{msg(2), msg(3)};
  EXPECT_EQ(*b->publish_batch(0, 1, specs, 1s), 2u);
  auto got = b->fetch_batch(4, 8, 1s);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  for (const Delivery& x : *got) {
    EXPECT_EQ(x.queue, 1u);
    EXPECT_EQ(x.consumer, 4u);
  }
  const std::vector<MessageId> ids{2, 3};
  EXPECT_TRUE(b->ack_batch(4, ids).ok());
  EXPECT_EQ(b->stats(1).acked, 2u);
  EXPECT_EQ(b->stats(5).acked, 1u);
}

TEST(ShardedBroker, DeadLetteringAndTopicsStayInTheirShard) {
  auto b = open_ok(options());
  // A message of a that fails goes to c (its shard's other queue), to consumer 3.
  EXPECT_EQ(*b->publish(0, 0, msg(7), 1s), Confirm::kStored);
  auto d = b->fetch(5, 1s);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_TRUE(b->nack(5, 7, false).ok());
  auto dead = b->fetch(3, 1s);
  ASSERT_TRUE(dead.ok() && dead->has_value());
  EXPECT_EQ((*dead)->queue, 2u);
  EXPECT_EQ((*dead)->message.id, 7u);
  // Topic t reaches d and e; their consumers are 2 and 1.
  EXPECT_EQ(*b->publish_topic(0, 0, msg(8)), (std::vector<Confirm>{Confirm::kStored, Confirm::kStored}));
  for (ConsumerId c : {2u, 1u}) {
    auto x = b->fetch(c, 1s);
    ASSERT_TRUE(x.ok() && x->has_value());
    EXPECT_EQ((*x)->message.id, 8u);
  }
}

TEST(ShardedBroker, UnknownIdsAreRefusedWithTheGlobalNumbers) {
  auto b = open_ok(options());
  EXPECT_EQ(b->publish(1, 0, msg(1), 1s).status().message(), "unknown producer #1");
  EXPECT_EQ(b->publish(0, 6, msg(1), 1s).status().message(), "unknown queue #6");
  EXPECT_EQ(b->fetch(6, 1ms).status().message(), "unknown consumer #6");
  EXPECT_EQ(b->publish_topic(0, 1, msg(1)).status().code(), Code::kNotFound);
  EXPECT_EQ(b->nack(0, 42, true).code(), Code::kFailedPrecondition);  // not in flight, in its shard
}

TEST(ShardedBroker, DurableShardsComeBackFromTheirOwnDirectories) {
  const std::string dir = mq::test::fresh_temp_dir("sharded_broker_test");
  const ShardedBrokerOptions o = options(/*durable=*/true, dir);
  {
    auto b = open_ok(o);
    EXPECT_EQ(*b->publish(0, 1, msg(1), 1s), Confirm::kStored);
    EXPECT_EQ(*b->publish(0, 5, msg(2), 1s), Confirm::kStored);
    auto d = b->fetch(0, 1s);  // #2 in flight at close
    ASSERT_TRUE(d.ok() && d->has_value());
  }
  for (int s = 0; s < 4; ++s)
    EXPECT_TRUE(std::filesystem::is_directory(dir + "/shard-" + std::to_string(s))) << s;
  auto b = open_ok(o);
  // Both were delivered before the close (#1 into c_b's outbox at once, eagerly,
  // as a Broker does): both come back marked as redeliveries, each from its shard.
  auto kept = b->fetch(4, 1s);
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->message.id, 1u);
  EXPECT_EQ((*kept)->queue, 1u);
  EXPECT_EQ((*kept)->message.attempts, 2u);
  auto again = b->fetch(0, 1s);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->message.id, 2u);
  EXPECT_EQ((*again)->queue, 5u);
  EXPECT_EQ((*again)->message.attempts, 2u);
  EXPECT_EQ(b->stats(2).size, 0u);  // nothing crossed into another shard's queue
}

TEST(ShardedBroker, TheLayoutIsFixedWhenTheDirectoryIsMade) {
  const std::string dir = mq::test::fresh_temp_dir("sharded_broker_test");
  {
    auto b = open_ok(options(/*durable=*/true, dir));
    ASSERT_EQ(b->shard_count(), 4u);
    EXPECT_EQ(*b->publish(0, 5, msg(1), 1s), Confirm::kStored);
  }
  ShardedBrokerOptions fewer = options(/*durable=*/true, dir);
  fewer.max_shards = 1;  // a machine with one core: the directory's layout wins
  auto b = open_ok(fewer);
  EXPECT_EQ(b->shard_count(), 4u);
  EXPECT_EQ(b->shard_of_queue(5), 3u);
  auto d = b->fetch(0, 1s);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->message.id, 1u);
}

// The error of opening `o`, "" when it opened.
Status open_error(const ShardedBrokerOptions& o) {
  auto b = ShardedBroker::open(o);
  return b.ok() ? Status() : b.status();
}

TEST(ShardedBroker, ALayoutThatDoesNotFitIsRefusedByName) {
  const std::string dir = mq::test::fresh_temp_dir("sharded_broker_test");
  (void)open_ok(options(/*durable=*/true, dir));
  ShardedBrokerOptions renamed = options(/*durable=*/true, dir);
  renamed.broker.config.queues[5].name = "g";
  renamed.broker.config.consumers[0].queue = "g";
  const struct {
    const char* layout;  // written over the directory's file first; null: as made
    ShardedBrokerOptions o;
    Code code;
    const char* says;
  } cases[] = {
      {nullptr, renamed, Code::kFailedPrecondition, "queue 'f' is not configured"},
      {"0\ta\n1\tb\n2\tc\n2\td\n2\te\n3\tf\n", options(true, dir), Code::kFailedPrecondition, "linked"},
      {"# comment\nx\ta\n", options(true, dir), Code::kCorruption, "/shards:2: "},
  };
  for (const auto& c : cases) {
    if (c.layout) std::ofstream(dir + "/shards", std::ios::trunc) << c.layout;
    const Status s = open_error(c.o);
    EXPECT_EQ(s.code(), c.code) << s.to_string();
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.to_string();
  }
}

TEST(ShardedBroker, AFailingShardNamesItself) {
  const std::string dir = mq::test::fresh_temp_dir("sharded_broker_test");
  const ShardedBrokerOptions o = options(/*durable=*/true, dir);
  auto first = open_ok(o);  // holds every shard's directory lock
  auto second = ShardedBroker::open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(second.status().message().rfind("shard 0: ", 0), 0u) << second.status().message();
}

}  // namespace
}  // namespace mq::impl
