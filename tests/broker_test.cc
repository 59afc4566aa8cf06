// Unit tests for the Broker shell's API and its error paths: publish and fetch
// timeouts, a full queue, batches, asynchronous confirms and their bound,
// callbacks on the worker pool, the timer thread (visibility timeout, TTL), a
// closed broker, a locked data directory, and a restart that keeps what was
// confirmed and marks what was in flight as redelivered.

#include "impl/broker.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "temp_dir.h"

namespace mq::impl {
namespace {

using namespace std::chrono_literals;

std::string temp_dir() { return mq::test::fresh_temp_dir("broker_test"); }

BrokerOptions options(uint32_t capacity = 4, bool durable = false, std::string dir = "") {
  BrokerOptions o;
  o.config.producers.push_back({"p"});
  QueueOptions q;
  q.name = "q";
  q.capacity = capacity;
  q.priority_levels = 2;
  q.durable = durable;
  o.config.queues.push_back(q);
  o.config.consumers.push_back({"c", "q", 2, AckMode::kManual});
  o.data_dir = std::move(dir);
  return o;
}

MessageSpec msg(MessageId id) { return MessageSpec{id, "m" + std::to_string(id), 0, 0, 0, std::nullopt}; }

std::unique_ptr<Broker> open_ok(BrokerOptions o) {
  auto b = Broker::open(std::move(o));
  MQ_CHECK_MSG(b.ok(), b.status().to_string().c_str());
  return std::move(b).value();
}

TEST(Broker, PublishFetchAck) {
  auto b = open_ok(options());
  EXPECT_EQ(*b->publish(0, 0, msg(1), 1s), Confirm::kStored);
  EXPECT_EQ(*b->try_publish(0, 0, msg(1)), Confirm::kDuplicate);
  auto d = b->fetch(0, 1s);
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->message.id, 1u);
  EXPECT_EQ((*d)->message.payload_view(), "m1");
  EXPECT_EQ((*d)->message.attempts, 1u);
  EXPECT_TRUE(b->ack(0, 1).ok());
  EXPECT_EQ(b->ack(0, 1).code(), Code::kFailedPrecondition);
  EXPECT_EQ(b->stats(0).acked, 1u);
}

TEST(Broker, FullQueueAndTimeouts) {
  auto b = open_ok(options(2));
  EXPECT_EQ(*b->try_publish(0, 0, msg(1)), Confirm::kStored);
  EXPECT_EQ(*b->try_publish(0, 0, msg(2)), Confirm::kStored);
  EXPECT_EQ(*b->try_publish(0, 0, msg(3)), Confirm::kFull);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(*b->publish(0, 0, msg(3), 20ms), Confirm::kFull);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  // Room made by an ack lets a blocked publisher in.
  std::thread consumer([&] {
    std::this_thread::sleep_for(10ms);
    auto d = b->fetch(0, 1s);
    ASSERT_TRUE(d.ok() && d->has_value());
    ASSERT_TRUE(b->ack(0, (*d)->message.id).ok());
  });
  EXPECT_EQ(*b->publish(0, 0, msg(3), 5s), Confirm::kStored);
  consumer.join();
  EXPECT_EQ(b->stats(0).size, 2u);
}

TEST(Broker, FetchTimesOutAndWakesOnPublish) {
  auto b = open_ok(options());
  auto none = b->fetch(0, 10ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  std::thread producer([&] {
    std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(b->publish(0, 0, msg(7), 1s).ok());
  });
  auto d = b->fetch(0, 5s);
  producer.join();
  ASSERT_TRUE(d.ok() && d->has_value());
  EXPECT_EQ((*d)->message.id, 7u);
}

TEST(Broker, BatchesRespectCapacityAndPrefetch) {
  auto b = open_ok(options(3));
  std::vector<MessageSpec> specs{msg(1), msg(2), msg(3), msg(4), msg(5)};
  auto n = b->publish_batch(0, 0, specs, 5ms);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);  // the prefix that fitted
  auto got = b->fetch_batch(0, 10, 1s);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);  // prefetch 2
  std::vector<MessageId> ids{(*got)[0].message.id, (*got)[1].message.id};
  EXPECT_EQ(ids, (std::vector<MessageId>{1, 2}));
  EXPECT_TRUE(b->ack_batch(0, ids).ok());
  std::vector<MessageSpec> rest{msg(4), msg(5)};
  EXPECT_EQ(*b->publish_batch(0, 0, rest, 1s), 2u);
  std::vector<MessageSpec> bad{msg(9)};
  bad[0].priority = 5;
  EXPECT_EQ(b->publish_batch(0, 0, bad, 1s).status().code(), Code::kInvalidArgument);
}

TEST(Broker, ErrorsNameTheProblem) {
  auto b = open_ok(options());
  EXPECT_EQ(b->publish(1, 0, msg(1), 1ms).status().code(), Code::kNotFound);
  EXPECT_EQ(b->publish(0, 9, msg(1), 1ms).status().code(), Code::kNotFound);
  EXPECT_EQ(b->fetch(3, 1ms).status().code(), Code::kNotFound);
  EXPECT_EQ(b->publish_topic(0, 0, msg(1)).status().code(), Code::kNotFound);
  MessageSpec bad = msg(1);
  bad.ttl_ns = -1;
  EXPECT_EQ(b->try_publish(0, 0, bad).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(b->nack(0, 42, true).code(), Code::kFailedPrecondition);
  EXPECT_EQ(b->subscribe(0, [](const Delivery&) { return Disposition::kAck; }).code(), Code::kFailedPrecondition);
  BrokerOptions o = options(4, true);
  EXPECT_EQ(Broker::open(o).status().code(), Code::kInvalidArgument);  // durable, no directory
  o = options();
  o.max_unconfirmed = 0;
  EXPECT_EQ(Broker::open(o).status().code(), Code::kInvalidArgument);
}

TEST(Broker, ClosedBrokerRefusesAndWakesWaiters) {
  auto b = open_ok(options());
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    b->close();
  });
  auto d = b->fetch(0, 10s);  // woken by close()
  closer.join();
  EXPECT_EQ(d.status().code(), Code::kUnavailable);
  EXPECT_EQ(b->publish(0, 0, msg(1), 1s).status().code(), Code::kUnavailable);
  EXPECT_EQ(b->try_publish(0, 0, msg(1)).status().code(), Code::kUnavailable);
  EXPECT_EQ(b->ack(0, 1).code(), Code::kUnavailable);
  EXPECT_EQ(b->publish_async(0, 0, msg(1), [](Result<Confirm>) {}).code(), Code::kUnavailable);
  b->close();  // idempotent
}

TEST(Broker, BlockedPublisherWokenByClose) {
  auto b = open_ok(options(1));
  ASSERT_TRUE(b->try_publish(0, 0, msg(1)).ok());
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    b->close();
  });
  EXPECT_EQ(b->publish(0, 0, msg(2), 10s).status().code(), Code::kUnavailable);
  closer.join();
}

TEST(Broker, LockedDirectory) {
  const std::string dir = temp_dir();
  auto first = open_ok(options(4, true, dir));
  auto second = Broker::open(options(4, true, dir));
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  first->close();  // unlocks
  EXPECT_TRUE(Broker::open(options(4, true, dir)).ok());
  std::filesystem::remove_all(dir);
}

TEST(Broker, RestartKeepsConfirmedAndMarksRedeliveries) {
  const std::string dir = temp_dir();
  {
    auto b = open_ok(options(8, true, dir));
    for (MessageId id = 1; id <= 3; ++id) ASSERT_EQ(*b->publish(0, 0, msg(id), 1s), Confirm::kStored);
    auto d = b->fetch(0, 1s);  // #1 in flight, unacked, at close
    ASSERT_TRUE(d.ok() && d->has_value());
    auto d2 = b->fetch(0, 1s);
    ASSERT_TRUE(d2.ok() && d2->has_value());
    ASSERT_TRUE(b->ack(0, (*d2)->message.id).ok());  // #2 acked: synced by close()
  }
  auto b = open_ok(options(8, true, dir));
  EXPECT_EQ(b->stats(0).size, 2u);
  EXPECT_EQ(*b->try_publish(0, 0, msg(3)), Confirm::kDuplicate);  // the idempotency window survived
  auto d = b->fetch_batch(0, 2, 1s);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 2u);
  // Both were in flight at close: #1 fetched, #3 delivered into the consumer's
  // prefetch when #2's ack freed credit (docs/protocol.md, pull sessions). Both came
  // back as failed deliveries, in delivery order, and are marked as redeliveries.
  EXPECT_EQ((*d)[0].message.id, 1u);
  EXPECT_EQ((*d)[0].message.attempts, 2u);
  EXPECT_EQ((*d)[1].message.id, 3u);
  EXPECT_EQ((*d)[1].message.attempts, 2u);
  b->close();
  std::filesystem::remove_all(dir);
}

TEST(Broker, AsyncConfirmsAreBoundedAndAllArrive) {
  const std::string dir = temp_dir();
  BrokerOptions o = options(1000, true, dir);
  o.max_unconfirmed = 4;
  auto b = open_ok(o);
  std::atomic<int> stored{0}, full{0};
  for (MessageId id = 1; id <= 200; ++id) {
    ASSERT_TRUE(b->publish_async(0, 0, msg(id), [&](Result<Confirm> r) {
                   ASSERT_TRUE(r.ok());
                   (*r == Confirm::kStored ? stored : full)++;
                 }).ok());
  }
  b->close();  // delivers every pending confirm
  EXPECT_EQ(stored.load(), 200);
  EXPECT_EQ(full.load(), 0);
  std::filesystem::remove_all(dir);
}

TEST(Broker, SubscribeRunsHandlersOnThePool) {
  BrokerOptions o = options(100);
  o.worker_threads = 2;
  auto b = open_ok(o);
  std::atomic<int> handled{0}, requeued{0};
  ASSERT_TRUE(b->subscribe(0, [&](const Delivery& d) {
                 if (d.message.id % 3 == 0 && d.message.attempts == 1) {
                   requeued++;
                   return Disposition::kRequeue;
                 }
                 handled++;
                 return Disposition::kAck;
               }).ok());
  EXPECT_EQ(b->subscribe(0, [](const Delivery&) { return Disposition::kAck; }).code(), Code::kFailedPrecondition);
  for (MessageId id = 1; id <= 30; ++id) ASSERT_TRUE(b->publish(0, 0, msg(id), 1s).ok());
  for (int k = 0; k < 500 && handled.load() < 30; ++k) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(handled.load(), 30);
  EXPECT_EQ(requeued.load(), 10);
  EXPECT_EQ(b->stats(0).acked, 30u);
}

TEST(Broker, TimerThreadFiresVisibilityTimeoutAndTtl) {
  BrokerOptions o = options(10);
  o.config.queues[0].visibility_timeout_ns = 20'000'000;  // 20 ms
  auto b = open_ok(o);
  ASSERT_TRUE(b->publish(0, 0, msg(1), 1s).ok());
  auto d = b->fetch(0, 1s);
  ASSERT_TRUE(d.ok() && d->has_value());
  // Not acked: after 20 ms the timer thread requeues #1, which wakes this fetch.
  auto again = b->fetch(0, 2s);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->message.id, 1u);
  EXPECT_EQ((*again)->message.attempts, 2u);
  MessageSpec short_lived = msg(2);
  short_lived.ttl_ns = 10'000'000;
  ASSERT_TRUE(b->publish(0, 0, short_lived, 1s).ok());
  for (int k = 0; k < 200 && b->stats(0).expired == 0; ++k) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(b->stats(0).expired, 1u);
}

TEST(Broker, TopicFansOut) {
  BrokerOptions o = options(1);
  QueueOptions audit = o.config.queues[0];
  audit.name = "audit";
  audit.capacity = 10;
  o.config.queues.push_back(audit);
  o.config.topics.push_back({"events", {"q", "audit"}});
  auto b = open_ok(o);
  EXPECT_EQ(*b->publish_topic(0, 0, msg(1)), (std::vector<Confirm>{Confirm::kStored, Confirm::kStored}));
  EXPECT_EQ(*b->publish_topic(0, 0, msg(2)), (std::vector<Confirm>{Confirm::kFull, Confirm::kStored}));
  EXPECT_EQ(b->stats(1).size, 2u);
}

}  // namespace
}  // namespace mq::impl
