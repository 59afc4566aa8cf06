// ModelState as a value: equality, hashing, printing (model/state.h), and the
// printers of effects and ops that live beside it.

#include "model/state.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/effect.h"
#include "model/model.h"
#include "model/op.h"

namespace mq {

static void PrintTo(const ModelState& s, std::ostream* os) { *os << "\n" << to_string(s); }

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Model make_model() {
  Topology t;
  t.producers = {{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = 8;
  q.priority_levels = 2;
  q.visibility_timeout_ns = 10;
  QueueConfig r;
  r.name = "r";
  r.capacity = 2;
  t.queues = {q, r};
  t.consumers = {{"c0", "q", 0, AckMode::kManual}, {"c1", "q", 1, AckMode::kManual}};
  auto m = Model::create(t);
  MQ_CHECK(m.ok());
  return std::move(m).value();
}

MessageSpec spec(MessageId id, Priority p = 0, TimeNs ttl = 0, TimeNs delay = 0) {
  MessageSpec s;
  s.id = id;
  s.payload = "payload-" + std::to_string(id);
  s.priority = p;
  s.ttl_ns = ttl;
  s.delay_ns = delay;
  return s;
}

// Ready, delayed, in flight and finished messages in q0; one message in q1.
Model populated() {
  Model m = make_model();
  MQ_CHECK(m.send(0, 0, spec(1, 1, 50)).ok());
  MQ_CHECK(m.send(0, 0, spec(2, 0)).ok());
  MQ_CHECK(m.send(0, 0, spec(3, 0, 0, 20)).ok());
  MQ_CHECK(m.send(0, 0, spec(4, 0)).ok());
  MQ_CHECK(m.send(0, 1, spec(9)).ok());
  MQ_CHECK(m.fetch(0).ok());  // #1 (priority 1)
  MQ_CHECK(m.fetch(0).ok());  // #2
  MQ_CHECK(m.ack(0, 2).ok());
  return m;
}

TEST(ModelStateTest, SizeAndReadyCount) {
  const Model m = populated();
  const QueueState& q = m.state().queues[0];
  EXPECT_EQ(q.ready_count(), 1u);  // #4
  EXPECT_EQ(q.delayed.size(), 1u);
  EXPECT_EQ(q.in_flight.size(), 1u);
  EXPECT_EQ(q.size(), 3u);  // finished #2 does not count
}

TEST(ModelStateTest, EqualityOfIndependentlyBuiltStates) {
  const Model a = populated();
  const Model b = populated();
  EXPECT_EQ(a.state(), b.state());
  EXPECT_EQ(hash_state(a.state()), hash_state(b.state()));
  EXPECT_EQ(ModelStateHash{}(a.state()), static_cast<size_t>(hash_state(a.state())));
  EXPECT_EQ(a.state(), ModelState(a.state()));
  EXPECT_NE(a.state(), make_model().state());
}

TEST(ModelStateTest, HashIsDeterministicAndSeesTheShape) {
  EXPECT_EQ(hash_state(make_model().state()), hash_state(make_model().state()));
  EXPECT_NE(hash_state(make_model().state()), hash_state(ModelState{}));
}

// Each mutation changes exactly one field; equality and the hash must both notice.
TEST(ModelStateTest, EveryFieldTakesPartInEqualityAndHash) {
  const ModelState base = populated().state();
  const uint64_t h = hash_state(base);
  using Mutation = void (*)(ModelState&);
  const std::vector<std::pair<const char*, Mutation>> mutations = {
      {"now", [](ModelState& s) { s.now_ns += 1; }},
      {"up", [](ModelState& s) { s.up = false; }},
      {"attached", [](ModelState& s) { s.attached[1] = 0; }},
      {"rr_cursor", [](ModelState& s) { s.queues[0].rr_cursor = 1; }},
      {"accepted", [](ModelState& s) { s.queues[0].counters.accepted++; }},
      {"refused", [](ModelState& s) { s.queues[0].counters.refused++; }},
      {"deliveries", [](ModelState& s) { s.queues[0].counters.deliveries++; }},
      {"redeliveries", [](ModelState& s) { s.queues[0].counters.redeliveries++; }},
      {"dead_letter_refused", [](ModelState& s) { s.queues[0].counters.dead_letter_refused++; }},
      {"ready id", [](ModelState& s) { s.queues[0].ready[0][0].id = 40; }},
      {"ready payload", [](ModelState& s) { s.queues[0].ready[0][0].payload = "other"; }},
      {"ready timestamp", [](ModelState& s) { s.queues[0].ready[0][0].timestamp_ns = 1; }},
      {"ready priority", [](ModelState& s) { s.queues[0].ready[0][0].priority = 1; }},
      {"ready ttl", [](ModelState& s) { s.queues[0].ready[0][0].ttl_ns = 3; }},
      {"ready not_before", [](ModelState& s) { s.queues[0].ready[0][0].not_before_ns = 2; }},
      {"ready attempts", [](ModelState& s) { s.queues[0].ready[0][0].attempts = 1; }},
      {"ready max_retries", [](ModelState& s) { s.queues[0].ready[0][0].max_retries = 9; }},
      {"ready level", [](ModelState& s) {
         s.queues[0].ready[1].push_back(s.queues[0].ready[0].front());
         s.queues[0].ready[0].erase(s.queues[0].ready[0].begin());
       }},
      {"ready to delayed", [](ModelState& s) {
         s.queues[0].delayed.push_back(s.queues[0].ready[0].front());
         s.queues[0].ready[0].erase(s.queues[0].ready[0].begin());
       }},
      {"delayed payload", [](ModelState& s) { s.queues[0].delayed[0].payload += "!"; }},
      {"in-flight consumer", [](ModelState& s) { s.queues[0].in_flight[0].consumer = 1; }},
      {"in-flight deadline", [](ModelState& s) { s.queues[0].in_flight[0].deadline_ns += 1; }},
      {"in-flight message", [](ModelState& s) { s.queues[0].in_flight[0].message.attempts = 2; }},
      {"finished fate", [](ModelState& s) { s.queues[0].finished[0].fate = Fate::kExpired; }},
      {"finished id", [](ModelState& s) { s.queues[0].finished[0].id = 5; }},
      {"other queue", [](ModelState& s) { s.queues[1].ready[0][0].id = 10; }},
      {"extra finished", [](ModelState& s) { s.queues[1].finished.push_back({9, Fate::kLost}); }},
  };
  for (const auto& [name, mutate] : mutations) {
    ModelState changed = base;
    mutate(changed);
    EXPECT_NE(changed, base) << name;
    EXPECT_NE(hash_state(changed), h) << name;
  }
}

TEST(ModelStateTest, HashIsOrderSensitive) {
  Model m = make_model();
  ASSERT_TRUE(m.send(0, 0, spec(1)).ok());
  ASSERT_TRUE(m.send(0, 0, spec(2)).ok());
  ModelState swapped = m.state();
  std::swap(swapped.queues[0].ready[0][0], swapped.queues[0].ready[0][1]);
  EXPECT_NE(swapped, m.state());
  EXPECT_NE(hash_state(swapped), hash_state(m.state()));
}

TEST(ModelStateTest, ToStringMentionsEveryPlace) {
  Model m = populated();
  const std::string s = to_string(m.state());
  EXPECT_THAT(s, HasSubstr("now=0 up attached=[1,1]"));
  EXPECT_THAT(s, HasSubstr("queue 0 rr=0 accepted=4 refused=0"));
  EXPECT_THAT(s, HasSubstr("ready[0]: #4{p0 ts=0 att=0/4 'payload-4'}"));
  EXPECT_THAT(s, Not(HasSubstr("ready[1]")));  // empty levels are left out
  EXPECT_THAT(s, HasSubstr("delayed: #3{p0 ts=0 nb=20 att=0/4 'payload-3'}"));
  EXPECT_THAT(s, HasSubstr("in flight at consumer 0 until 10: #1{p1 ts=0 ttl=50 att=1/4 'payload-1'}"));
  EXPECT_THAT(s, HasSubstr("finished: #2=acked"));
  EXPECT_THAT(s, HasSubstr("queue 1 rr=0 accepted=1"));
  EXPECT_THAT(s, HasSubstr("#9{"));
  ASSERT_TRUE(m.crash().ok());
  EXPECT_THAT(to_string(m.state()), HasSubstr("now=0 DOWN attached=[0,0]"));
  EXPECT_THAT(to_string(m.state()), HasSubstr("#9=lost"));
}

TEST(ModelStateTest, MessageToString) {
  Message m{7, "x", 5, 2, 10, 15, 1, 3};
  EXPECT_EQ(to_string(m), "#7{p2 ts=5 ttl=10 nb=15 att=1/4 'x'}");
  Message plain{8, "", 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(to_string(plain), "#8{p0 ts=0 att=0/1 ''}");
}

TEST(ModelStateTest, FateNames) {
  EXPECT_STREQ(fate_name(Fate::kAcked), "acked");
  EXPECT_STREQ(fate_name(Fate::kExpired), "expired");
  EXPECT_STREQ(fate_name(Fate::kDeadLettered), "dead-lettered");
  EXPECT_STREQ(fate_name(Fate::kLost), "lost");
  EXPECT_STREQ(fate_name(static_cast<Fate>(99)), "?");
}

TEST(EffectTest, KindNamesAndToString) {
  EXPECT_STREQ(effect_kind_name(EffectKind::kAccepted), "accepted");
  EXPECT_STREQ(effect_kind_name(EffectKind::kRefused), "refused");
  EXPECT_STREQ(effect_kind_name(EffectKind::kReleased), "released");
  EXPECT_STREQ(effect_kind_name(EffectKind::kDelivered), "delivered");
  EXPECT_STREQ(effect_kind_name(EffectKind::kAcked), "acked");
  EXPECT_STREQ(effect_kind_name(EffectKind::kRequeued), "requeued");
  EXPECT_STREQ(effect_kind_name(EffectKind::kDeadLettered), "dead-lettered");
  EXPECT_STREQ(effect_kind_name(EffectKind::kDeadLetterRefused), "dead-letter-refused");
  EXPECT_STREQ(effect_kind_name(EffectKind::kExpired), "expired");
  EXPECT_STREQ(effect_kind_name(EffectKind::kLost), "lost");
  EXPECT_STREQ(effect_kind_name(static_cast<EffectKind>(99)), "?");
  const Message m{3, "p", 0, 0, 0, 0, 1, 0};
  EXPECT_EQ(to_string(Effect{EffectKind::kDelivered, 1, 2, m}), "delivered q1 #3{p0 ts=0 att=1/1 'p'} c2");
  EXPECT_EQ(to_string(Effect{EffectKind::kAccepted, 0, kNoConsumer, m}), "accepted q0 #3{p0 ts=0 att=1/1 'p'}");
}

TEST(OpTest, ToString) {
  MessageSpec s;
  s.id = 5;
  s.priority = 2;
  EXPECT_EQ(to_string(Op{op::Send{1, 2, s}}), "send p1 q2 #5 p2");
  s.ttl_ns = 10;
  s.delay_ns = 20;
  s.max_retries = 3;
  EXPECT_EQ(to_string(Op{op::Publish{0, 4, s}}), "publish p0 t4 #5 p2 ttl=10 delay=20 retries=3");
  EXPECT_EQ(to_string(Op{op::Dispatch{3}}), "dispatch q3");
  EXPECT_EQ(to_string(Op{op::Fetch{1}}), "fetch c1");
  EXPECT_EQ(to_string(Op{op::Ack{1, 7}}), "ack c1 #7");
  EXPECT_EQ(to_string(Op{op::Nack{1, 7, true}}), "nack c1 #7 requeue");
  EXPECT_EQ(to_string(Op{op::Nack{1, 7, false}}), "nack c1 #7 dead-letter");
  EXPECT_EQ(to_string(Op{op::Advance{100}}), "advance 100");
  EXPECT_EQ(to_string(Op{op::Crash{}}), "crash");
  EXPECT_EQ(to_string(Op{op::Recover{}}), "recover");
  EXPECT_EQ(to_string(Op{op::Attach{2}}), "attach c2");
  EXPECT_EQ(to_string(Op{op::Detach{2}}), "detach c2");
}

}  // namespace
}  // namespace mq
