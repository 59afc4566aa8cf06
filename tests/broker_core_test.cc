// Unit tests for BrokerCore: every command, every error branch, the broker-only
// features (idempotent publish, drop-oldest, timer effects). The comparison with
// the model lives in broker_core_model_test.cc.

#include "impl/broker_core.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

namespace mq::impl {
namespace {

QueueOptions queue(std::string name, uint32_t capacity = 8) {
  QueueOptions q;
  q.name = std::move(name);
  q.capacity = capacity;
  return q;
}

ConsumerOptions consumer(std::string name, std::string q, uint32_t prefetch = 1,
                         AckMode mode = AckMode::kManual) {
  return ConsumerOptions{std::move(name), std::move(q), prefetch, mode};
}

MessageSpec msg(MessageId id, Priority p = 0, TimeNs ttl = 0, TimeNs delay = 0) {
  return MessageSpec{id, "m" + std::to_string(id), p, ttl, delay, std::nullopt};
}

// A core plus the effects of the last command, without kTimer (tested on its own).
struct Fixture {
  explicit Fixture(BrokerConfig config) : core(std::move(BrokerCore::create(std::move(config))).value()) {}

  Status run(Status status) {
    last.clear();
    for (auto& e : raw) {
      if (e.kind != EffectKind::kTimer) last.push_back(e);
    }
    raw.clear();
    return status;
  }
  Status send(MessageSpec m, QueueId q = 0) { return run(core.send(core.now(), 0, q, std::move(m), raw)); }
  Status publish(MessageSpec m, TopicId t = 0) { return run(core.publish(core.now(), 0, t, std::move(m), raw)); }
  Status dispatch(QueueId q = 0) { return run(core.dispatch(core.now(), q, raw)); }
  Status fetch(ConsumerId c = 0) { return run(core.fetch(core.now(), c, raw)); }
  Status ack(ConsumerId c, MessageId id) { return run(core.ack(core.now(), c, id, raw)); }
  Status nack(ConsumerId c, MessageId id, bool requeue) { return run(core.nack(core.now(), c, id, requeue, raw)); }
  Status tick(TimeNs t) { return run(core.tick(t, raw)); }
  Status crash() { return run(core.crash(core.now(), raw)); }
  Status recover() { return run(core.recover(core.now(), raw)); }
  Status attach(ConsumerId c) { return run(core.attach(core.now(), c, raw)); }
  Status detach(ConsumerId c) { return run(core.detach(core.now(), c, raw)); }

  std::vector<EffectKind> kinds() const {
    std::vector<EffectKind> k;
    for (const auto& e : last) k.push_back(e.kind);
    return k;
  }
  std::vector<MessageId> ids(EffectKind kind) const {
    std::vector<MessageId> out;
    for (const auto& e : last) if (e.kind == kind) out.push_back(e.message.id);
    return out;
  }
  const Effect& first(EffectKind kind) const {
    for (const auto& e : last) if (e.kind == kind) return e;
    ADD_FAILURE() << "no effect " << effect_kind_name(kind);
    return last.front();
  }

  BrokerCore core;
  Effects raw;
  Effects last;
};

BrokerConfig simple(QueueOptions q = queue("q"), uint32_t consumers = 1, uint32_t prefetch = 1,
                    AckMode mode = AckMode::kManual) {
  BrokerConfig c;
  c.producers.push_back({"p"});
  const std::string name = q.name;
  c.queues.push_back(std::move(q));
  for (uint32_t i = 0; i < consumers; ++i) c.consumers.push_back(consumer("c" + std::to_string(i), name, prefetch, mode));
  return c;
}

using K = EffectKind;

// ---- configuration ----

TEST(BrokerCoreConfig, RejectsEveryMalformedConfig) {
  auto code_of = [](BrokerConfig c) { return BrokerCore::create(std::move(c)).status().code(); };
  EXPECT_EQ(code_of(simple(queue("q", 0))), Code::kInvalidArgument);
  QueueOptions levels = queue("q");
  levels.priority_levels = 0;
  EXPECT_EQ(code_of(simple(levels)), Code::kInvalidArgument);
  levels.priority_levels = 257;
  EXPECT_EQ(code_of(simple(levels)), Code::kInvalidArgument);
  QueueOptions vt = queue("q");
  vt.visibility_timeout_ns = -1;
  EXPECT_EQ(code_of(simple(vt)), Code::kInvalidArgument);
  QueueOptions self = queue("q");
  self.dead_letter_queue = "q";
  EXPECT_EQ(code_of(simple(self)), Code::kInvalidArgument);
  QueueOptions unknown = queue("q");
  unknown.dead_letter_queue = "nowhere";
  EXPECT_EQ(code_of(simple(unknown)), Code::kNotFound);
  BrokerConfig cycle = simple();
  cycle.queues[0].dead_letter_queue = "r";
  cycle.queues.push_back(queue("r"));
  cycle.queues[1].dead_letter_queue = "q";
  EXPECT_EQ(code_of(cycle), Code::kInvalidArgument);
  BrokerConfig dup = simple();
  dup.queues.push_back(queue("q"));
  EXPECT_EQ(code_of(dup), Code::kAlreadyExists);
  BrokerConfig empty = simple();
  empty.producers[0].name = "";
  EXPECT_EQ(code_of(empty), Code::kInvalidArgument);
  BrokerConfig orphan = simple();
  orphan.consumers[0].queue = "nowhere";
  EXPECT_EQ(code_of(orphan), Code::kNotFound);
  BrokerConfig topic = simple();
  topic.topics.push_back({"t", {"nowhere"}});
  EXPECT_EQ(code_of(topic), Code::kNotFound);
  topic.topics[0].queues = {"q", "q"};
  EXPECT_EQ(code_of(topic), Code::kAlreadyExists);
}

// ---- input errors ----

TEST(BrokerCore, UnknownIdsAreNotFound) {
  Fixture f(simple());
  EXPECT_EQ(f.run(f.core.send(0, 7, 0, msg(1), f.raw)).code(), Code::kNotFound);  // producer
  EXPECT_EQ(f.send(msg(1), 9).code(), Code::kNotFound);
  EXPECT_EQ(f.publish(msg(1), 0).code(), Code::kNotFound);  // no topics
  EXPECT_EQ(f.dispatch(3).code(), Code::kNotFound);
  EXPECT_EQ(f.fetch(5).code(), Code::kNotFound);
  EXPECT_EQ(f.ack(5, 1).code(), Code::kNotFound);
  EXPECT_EQ(f.nack(5, 1, true).code(), Code::kNotFound);
  EXPECT_EQ(f.attach(5).code(), Code::kNotFound);
  EXPECT_EQ(f.detach(5).code(), Code::kNotFound);
  EXPECT_TRUE(f.last.empty());
}

TEST(BrokerCore, BadMessagesAreInvalidArguments) {
  QueueOptions q = queue("q");
  q.priority_levels = 3;
  Fixture f(simple(q));
  EXPECT_EQ(f.send(msg(1, 3)).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.send(msg(1, 0, -1)).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.send(msg(1, 0, 0, -1)).code(), Code::kInvalidArgument);
  EXPECT_TRUE(f.send(msg(1, 2)).ok());
  EXPECT_EQ(f.core.stats(0).accepted, 1u);
}

TEST(BrokerCore, TimeGoingBackwardsIsRefusedByEveryCommand) {
  Fixture f(simple());
  ASSERT_TRUE(f.tick(100).ok());
  EXPECT_EQ(f.run(f.core.tick(99, f.raw)).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.run(f.core.send(50, 0, 0, msg(1), f.raw)).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.run(f.core.fetch(50, 0, f.raw)).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.run(f.core.crash(50, f.raw)).code(), Code::kInvalidArgument);
  EXPECT_EQ(f.core.now(), 100);
  EXPECT_TRUE(f.core.up());
}

TEST(BrokerCore, WhileDownOnlyTickCrashAndRecoverAnswer) {
  Fixture f(simple());
  ASSERT_TRUE(f.crash().ok());
  EXPECT_EQ(f.send(msg(1)).code(), Code::kUnavailable);
  EXPECT_EQ(f.dispatch().code(), Code::kUnavailable);
  EXPECT_EQ(f.fetch().code(), Code::kUnavailable);
  EXPECT_EQ(f.ack(0, 1).code(), Code::kUnavailable);
  EXPECT_EQ(f.nack(0, 1, true).code(), Code::kUnavailable);
  EXPECT_EQ(f.attach(0).code(), Code::kUnavailable);
  EXPECT_EQ(f.detach(0).code(), Code::kUnavailable);
  EXPECT_EQ(f.crash().code(), Code::kFailedPrecondition);
  EXPECT_TRUE(f.tick(10).ok());
  EXPECT_TRUE(f.recover().ok());
  EXPECT_EQ(f.recover().code(), Code::kFailedPrecondition);
  EXPECT_FALSE(f.core.attached(0));  // consumers reconnect themselves
  EXPECT_TRUE(f.attach(0).ok());
}

TEST(BrokerCore, AckAndNackNeedTheMessageInFlightAtThatConsumer) {
  Fixture f(simple(queue("q"), 2));
  ASSERT_TRUE(f.send(msg(1)).ok());
  EXPECT_EQ(f.ack(0, 1).code(), Code::kFailedPrecondition);  // ready, not in flight
  ASSERT_TRUE(f.fetch(0).ok());
  EXPECT_EQ(f.ack(1, 1).code(), Code::kFailedPrecondition);  // another consumer's
  EXPECT_EQ(f.nack(1, 1, false).code(), Code::kFailedPrecondition);
  EXPECT_EQ(f.ack(0, 42).code(), Code::kFailedPrecondition);  // unknown id
  ASSERT_TRUE(f.ack(0, 1).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kAcked});
  EXPECT_EQ(f.last[0].consumer, 0u);
  EXPECT_EQ(f.ack(0, 1).code(), Code::kFailedPrecondition);  // twice
}

TEST(BrokerCore, AttachDetachAndFetchCheckTheConnection) {
  Fixture f(simple());
  EXPECT_EQ(f.attach(0).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(f.detach(0).ok());
  EXPECT_EQ(f.detach(0).code(), Code::kFailedPrecondition);
  EXPECT_EQ(f.fetch(0).code(), Code::kFailedPrecondition);
  EXPECT_EQ(f.core.stats(0).consumer_count, 0u);
}

// ---- delivery ----

TEST(BrokerCore, HigherPriorityFirstFifoWithinALevel) {
  QueueOptions q = queue("q");
  q.priority_levels = 3;
  Fixture f(simple(q, 1, 0));
  for (auto [id, p] : {std::pair{1, 0}, {2, 2}, {3, 1}, {4, 2}, {5, 0}}) {
    ASSERT_TRUE(f.send(msg(id, static_cast<Priority>(p))).ok());
    EXPECT_EQ(f.kinds(), std::vector<K>{K::kAccepted});
  }
  std::vector<MessageId> order;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(f.fetch(0).ok());
    for (auto id : f.ids(K::kDelivered)) order.push_back(id);
  }
  EXPECT_EQ(order, (std::vector<MessageId>{2, 4, 3, 1, 5}));
  EXPECT_EQ(f.core.stats(0).in_flight, 5u);
}

TEST(BrokerCore, RoundRobinSkipsConsumersWithoutCredit) {
  Fixture f(simple(queue("q"), 3, 1));
  for (MessageId id = 1; id <= 5; ++id) ASSERT_TRUE(f.send(msg(id)).ok());
  ASSERT_TRUE(f.detach(1).ok());
  std::vector<ConsumerId> who;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(f.dispatch().ok());
    if (!f.last.empty()) who.push_back(f.first(K::kDelivered).consumer);
  }
  EXPECT_EQ(who, (std::vector<ConsumerId>{0, 2}));  // c1 detached; then nobody has credit
  ASSERT_TRUE(f.ack(0, 1).ok());
  ASSERT_TRUE(f.dispatch().ok());
  EXPECT_EQ(f.first(K::kDelivered).consumer, 0u);
  EXPECT_EQ(f.core.unacked(0), 1u);
}

TEST(BrokerCore, AutoAckFinishesAtDelivery) {
  Fixture f(simple(queue("q"), 1, 1, AckMode::kAuto));
  ASSERT_TRUE(f.send(msg(1)).ok());
  ASSERT_TRUE(f.send(msg(2)).ok());
  ASSERT_TRUE(f.dispatch().ok());
  EXPECT_EQ(f.kinds(), (std::vector<K>{K::kDelivered, K::kAcked}));
  ASSERT_TRUE(f.fetch(0).ok());  // credit is never used up
  EXPECT_EQ(f.ids(K::kAcked), std::vector<MessageId>{2});
  const QueueStats s = f.core.stats(0);
  EXPECT_EQ(s.acked, 2u);
  EXPECT_EQ(s.size, 0u);
}

TEST(BrokerCore, NothingToDeliverIsNotAnError) {
  Fixture f(simple());
  EXPECT_TRUE(f.dispatch().ok());
  EXPECT_TRUE(f.fetch(0).ok());
  EXPECT_TRUE(f.last.empty());
}

// ---- capacity and overflow ----

TEST(BrokerCore, RejectPublishRefusesWhenFullAndTellsWhy) {
  Fixture f(simple(queue("q", 2)));
  ASSERT_TRUE(f.send(msg(1)).ok());
  ASSERT_TRUE(f.fetch(0).ok());  // in flight still counts
  ASSERT_TRUE(f.send(msg(2, 0, 0, 50)).ok());  // so does delayed
  ASSERT_TRUE(f.send(msg(3)).ok());
  ASSERT_EQ(f.kinds(), std::vector<K>{K::kRefused});
  EXPECT_EQ(f.last[0].reason, Reason::kQueueFull);
  EXPECT_EQ(f.core.stats(0).refused, 1u);
  ASSERT_TRUE(f.send(msg(3)).ok());  // a refused id was never stored: resending is no duplicate
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kRefused});
}

TEST(BrokerCore, DropOldestDropsTheLowestLevelHeadThenDelayedButNeverInFlight) {
  QueueOptions q = queue("q", 3);
  q.priority_levels = 2;
  q.overflow = OverflowPolicy::kDropOldest;
  Fixture f(simple(q, 1, 0));
  ASSERT_TRUE(f.send(msg(1, 1)).ok());
  ASSERT_TRUE(f.send(msg(2, 0)).ok());
  ASSERT_TRUE(f.send(msg(3, 0)).ok());
  ASSERT_TRUE(f.send(msg(4, 1)).ok());
  EXPECT_EQ(f.kinds(), (std::vector<K>{K::kDropped, K::kAccepted}));
  EXPECT_EQ(f.ids(K::kDropped), std::vector<MessageId>{2});
  // Take every ready message in flight, leaving one delayed.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.ack(0, 3).ok());
  ASSERT_TRUE(f.send(msg(5, 0, 0, 100)).ok());  // delayed
  ASSERT_TRUE(f.send(msg(6)).ok());
  EXPECT_EQ(f.ids(K::kDropped), std::vector<MessageId>{5});
  ASSERT_TRUE(f.fetch(0).ok());  // 6 in flight: now all three are in flight
  ASSERT_TRUE(f.send(msg(7)).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kRefused});
  const QueueStats s = f.core.stats(0);
  EXPECT_EQ(s.dropped, 2u);
  EXPECT_EQ(s.in_flight, 3u);
  EXPECT_EQ(s.refused, 1u);
}

// ---- idempotent publish ----

TEST(BrokerCore, DuplicateIsConfirmedWithoutASecondCopy) {
  Fixture f(simple());
  ASSERT_TRUE(f.send(msg(1)).ok());
  ASSERT_TRUE(f.send(msg(1)).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDuplicate});
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.ack(0, 1).ok());
  ASSERT_TRUE(f.send(msg(1)).ok());  // finished, but still within the window
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDuplicate});
  const QueueStats s = f.core.stats(0);
  EXPECT_EQ(s.accepted, 1u);
  EXPECT_EQ(s.duplicates, 2u);
  EXPECT_EQ(s.size, 0u);
}

TEST(BrokerCore, CountWindowForgetsOldIdsButNeverHeldOnes) {
  QueueOptions q = queue("q");
  q.dedup_window_ids = 2;
  Fixture f(simple(q, 1, 0, AckMode::kAuto));
  ASSERT_TRUE(f.send(msg(1)).ok());  // held (ready) throughout
  for (MessageId id = 2; id <= 4; ++id) {
    ASSERT_TRUE(f.send(msg(id)).ok());
  }
  EXPECT_EQ(f.send(msg(1)).code(), Code::kOk);
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDuplicate});  // out of the window, but held
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.send(msg(2)).ok());  // finished and forgotten: accepted anew
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kAccepted});
  ASSERT_TRUE(f.send(msg(4)).ok());  // finished, still remembered
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDuplicate});
}

TEST(BrokerCore, TimeWindowForgetsAfterItsAge) {
  QueueOptions q = queue("q");
  q.dedup_window_ns = 100;
  Fixture f(simple(q, 1, 1, AckMode::kAuto));
  ASSERT_TRUE(f.send(msg(1)).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.tick(99).ok());
  ASSERT_TRUE(f.send(msg(1)).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDuplicate});
  ASSERT_TRUE(f.tick(100).ok());
  ASSERT_TRUE(f.send(msg(1)).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kAccepted});
}

TEST(BrokerCore, TopicFanOutSharesThePayloadAndDeduplicatesAsAWhole) {
  BrokerConfig c = simple();
  c.queues.push_back(queue("r", 1));
  c.topics.push_back({"t", {"q", "r"}});
  Fixture f(std::move(c));
  ASSERT_TRUE(f.publish(msg(1)).ok());
  ASSERT_EQ(f.kinds(), (std::vector<K>{K::kAccepted, K::kAccepted}));
  EXPECT_EQ(f.last[0].message.payload.get(), f.last[1].message.payload.get());
  ASSERT_TRUE(f.publish(msg(2)).ok());
  EXPECT_EQ(f.kinds(), (std::vector<K>{K::kAccepted, K::kRefused}));  // r is full
  ASSERT_TRUE(f.publish(msg(2)).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDuplicate});  // only q has it; nothing stored
  EXPECT_EQ(f.last[0].queue, 0u);
  EXPECT_EQ(f.core.stats(1).refused, 1u);
}

// ---- time: delay, TTL, visibility, timers ----

TEST(BrokerCore, DelayReleasesAtNotBeforeAndTimerEffectsTrackTheDeadline) {
  Fixture f(simple());
  Effects out;
  ASSERT_TRUE(f.core.send(0, 0, 0, msg(1, 0, 0, 50), out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].kind, K::kTimer);
  EXPECT_EQ(out[1].deadline_ns, 50);
  EXPECT_EQ(f.core.next_deadline(), std::optional<TimeNs>(50));
  ASSERT_TRUE(f.fetch(0).ok());
  EXPECT_TRUE(f.last.empty());
  ASSERT_TRUE(f.tick(49).ok());
  EXPECT_TRUE(f.last.empty());
  out.clear();
  ASSERT_TRUE(f.core.tick(50, out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, K::kReleased);
  EXPECT_EQ(out[1].kind, K::kTimer);
  EXPECT_EQ(out[1].deadline_ns, kNoDeadline);
  EXPECT_EQ(f.core.next_deadline(), std::nullopt);
}

TEST(BrokerCore, TtlExpiresAtTimestampPlusTtlButNotInFlight) {
  Fixture f(simple());
  ASSERT_TRUE(f.send(msg(1, 0, 10)).ok());
  ASSERT_TRUE(f.send(msg(2, 0, 10)).ok());
  ASSERT_TRUE(f.fetch(0).ok());  // 1 in flight
  ASSERT_TRUE(f.tick(9).ok());
  EXPECT_TRUE(f.last.empty());
  ASSERT_TRUE(f.tick(10).ok());
  EXPECT_EQ(f.ids(K::kExpired), std::vector<MessageId>{2});
  ASSERT_TRUE(f.nack(0, 1, true).ok());  // a failed delivery past its TTL only expires
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kExpired});
  EXPECT_EQ(f.last[0].consumer, kNoConsumer);
  EXPECT_EQ(f.core.stats(0).expired, 2u);
}

// One tick(t) visits every intermediate due time in order: the visibility
// timeout at 3 requeues (naming the holder), the TTL at 10 then expires the
// requeued message. Ticking 3 then 20 gives the same effects.
TEST(BrokerCore, OneTickEqualsAnySequenceOfSmallerTicks) {
  QueueOptions q = queue("q");
  q.visibility_timeout_ns = 3;
  auto run = [&](std::vector<TimeNs> times) {
    Fixture f(simple(q));
    EXPECT_TRUE(f.send(msg(1, 0, 10)).ok());
    EXPECT_TRUE(f.send(msg(2, 0, 0, 7)).ok());
    EXPECT_TRUE(f.fetch(0).ok());
    std::vector<std::pair<K, ConsumerId>> seen;
    for (TimeNs t : times) {
      EXPECT_TRUE(f.tick(t).ok());
      for (const auto& e : f.last) seen.emplace_back(e.kind, e.consumer);
    }
    EXPECT_EQ(f.core.now(), times.back());
    return seen;
  };
  const auto once = run({20});
  EXPECT_EQ(once, (std::vector<std::pair<K, ConsumerId>>{
                      {K::kRequeued, 0}, {K::kReleased, kNoConsumer}, {K::kExpired, kNoConsumer}}));
  EXPECT_EQ(run({3, 20}), once);
  EXPECT_EQ(run({1, 5, 7, 9, 10, 20}), once);
}

// A failed delivery past its TTL expires whatever its retries; otherwise the
// dead-letter effect of a failed delivery names the holder.
TEST(BrokerCore, FailedDeliveryPastTtlExpiresElseNamesTheHolder) {
  QueueOptions q = queue("q");
  q.visibility_timeout_ns = 5;
  q.max_retries = 0;
  Fixture f(simple(q));
  ASSERT_TRUE(f.send(msg(1, 0, 5)).ok());
  ASSERT_TRUE(f.send(msg(2)).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.tick(5).ok());  // deadline and TTL at once: expired, no retry needed
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kExpired});
  EXPECT_EQ(f.last[0].consumer, kNoConsumer);
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.detach(0).ok());  // no retries left: dead-lettered, naming the holder
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kDeadLettered});
  EXPECT_EQ(f.last[0].consumer, 0u);
}

TEST(BrokerCore, VisibilityTimeoutRedeliversThenDeadLettersWithAFreshCopy) {
  QueueOptions q = queue("q");
  q.priority_levels = 4;
  q.visibility_timeout_ns = 10;
  q.max_retries = 1;
  q.dead_letter_queue = "dlq";
  BrokerConfig c = simple(q);
  QueueOptions dlq = queue("dlq");
  dlq.priority_levels = 2;
  dlq.max_retries = 7;
  c.queues.push_back(dlq);
  Fixture f(std::move(c));
  ASSERT_TRUE(f.send(msg(1, 3, 1000)).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.tick(10).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kRequeued});
  EXPECT_EQ(f.last[0].consumer, 0u);
  ASSERT_TRUE(f.fetch(0).ok());
  EXPECT_EQ(f.first(K::kDelivered).message.attempts, 2u);
  ASSERT_TRUE(f.tick(20).ok());
  ASSERT_EQ(f.kinds(), (std::vector<K>{K::kDeadLettered, K::kAccepted}));
  const Message& copy = f.last[1].message;
  EXPECT_EQ(f.last[1].queue, 1u);
  EXPECT_EQ(copy.id, 1u);
  EXPECT_EQ(copy.payload_view(), "m1");
  EXPECT_EQ(copy.priority, 1);  // clamped to the dead-letter queue's levels
  EXPECT_EQ(copy.attempts, 0u);
  EXPECT_EQ(copy.ttl_ns, 0);
  EXPECT_EQ(copy.timestamp_ns, 20);
  EXPECT_EQ(copy.max_retries, 7u);
  EXPECT_EQ(f.core.stats(0).redeliveries, 1u);
  EXPECT_EQ(f.core.stats(0).dead_lettered, 1u);
}

TEST(BrokerCore, NackRequeuesOrDeadLettersAndDeadLetterQueueCanRefuse) {
  BrokerConfig c = simple(queue("q"), 1, 0);
  c.queues[0].dead_letter_queue = "dlq";
  c.queues.push_back(queue("dlq", 1));
  Fixture f(std::move(c));
  for (MessageId id = 1; id <= 3; ++id) ASSERT_TRUE(f.send(msg(id)).ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.nack(0, 1, true).ok());
  EXPECT_EQ(f.kinds(), std::vector<K>{K::kRequeued});
  ASSERT_TRUE(f.nack(0, 2, false).ok());
  EXPECT_EQ(f.kinds(), (std::vector<K>{K::kDeadLettered, K::kAccepted}));
  ASSERT_TRUE(f.nack(0, 3, false).ok());
  ASSERT_EQ(f.kinds(), (std::vector<K>{K::kDeadLettered, K::kDeadLetterRefused}));
  EXPECT_EQ(f.last[1].reason, Reason::kQueueFull);
  EXPECT_EQ(f.core.stats(0).dead_letter_refused, 1u);
}

TEST(BrokerCore, DeadLetterQueueRefusesAnIdItAlreadyHad) {
  BrokerConfig c = simple(queue("q"), 1, 0);
  c.queues[0].dead_letter_queue = "dlq";
  c.queues.push_back(queue("dlq"));
  Fixture f(std::move(c));
  ASSERT_TRUE(f.send(msg(1), 1).ok());  // straight into the dead-letter queue
  ASSERT_TRUE(f.send(msg(1), 0).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.nack(0, 1, false).ok());
  ASSERT_EQ(f.kinds(), (std::vector<K>{K::kDeadLettered, K::kDeadLetterRefused}));
  EXPECT_EQ(f.last[1].reason, Reason::kDuplicateId);
}

TEST(BrokerCore, FrontRedeliveryKeepsOrderAtTheHead) {
  QueueOptions q = queue("q");
  q.redelivery = Redelivery::kFront;
  Fixture f(simple(q, 1, 0));
  for (MessageId id = 1; id <= 3; ++id) ASSERT_TRUE(f.send(msg(id)).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.detach(0).ok());
  EXPECT_EQ(f.ids(K::kRequeued), (std::vector<MessageId>{2, 1}));
  ASSERT_TRUE(f.attach(0).ok());
  std::vector<MessageId> order;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(f.fetch(0).ok());
    order.push_back(f.ids(K::kDelivered).at(0));
  }
  EXPECT_EQ(order, (std::vector<MessageId>{1, 2, 3}));
}

// ---- crash and recovery ----

TEST(BrokerCore, CrashLosesNonDurableAndRequeuesDurableInFlight) {
  BrokerConfig c = simple(queue("q"), 1, 0);
  c.queues[0].durable = true;
  c.queues.push_back(queue("volatile"));
  c.consumers.push_back(consumer("v", "volatile", 0));
  Fixture f(std::move(c));
  ASSERT_TRUE(f.send(msg(1), 0).ok());
  ASSERT_TRUE(f.send(msg(2), 0).ok());
  ASSERT_TRUE(f.send(msg(3), 1).ok());
  ASSERT_TRUE(f.send(msg(4, 0, 0, 30), 1).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.crash().ok());
  EXPECT_EQ(f.kinds(), (std::vector<K>{K::kRequeued, K::kLost, K::kLost}));
  EXPECT_EQ(f.ids(K::kLost), (std::vector<MessageId>{3, 4}));
  EXPECT_EQ(f.core.stats(0).ready, 2u);
  EXPECT_EQ(f.core.stats(1).lost, 2u);
  EXPECT_EQ(f.core.stats(0).consumer_count, 0u);
  EXPECT_FALSE(f.core.attached(0));
  ASSERT_TRUE(f.recover().ok());
  ASSERT_TRUE(f.attach(0).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.fetch(0).ok());  // back redelivery: 2 first, then 1 again
  EXPECT_EQ(f.ids(K::kDelivered), std::vector<MessageId>{1});
  EXPECT_EQ(f.first(K::kDelivered).message.attempts, 2u);
}

TEST(BrokerCore, DetachReturnsItsDeliveries) {
  Fixture f(simple(queue("q"), 2, 0));
  for (MessageId id = 1; id <= 3; ++id) ASSERT_TRUE(f.send(msg(id)).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.fetch(1).ok());
  ASSERT_TRUE(f.fetch(0).ok());
  ASSERT_TRUE(f.detach(0).ok());
  EXPECT_EQ(f.ids(K::kRequeued), (std::vector<MessageId>{1, 3}));
  EXPECT_EQ(f.core.unacked(0), 0u);
  EXPECT_EQ(f.core.unacked(1), 1u);
}

}  // namespace
}  // namespace mq::impl
