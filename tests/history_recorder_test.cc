// HistoryRecorder: a model run becomes a history the checkers accept, and the
// history survives a write and a read unchanged.
#include "model/history_recorder.h"

#include <gtest/gtest.h>

#include <map>

#include "base/prng.h"
#include "formats/history_io.h"
#include "model/model.h"
#include "properties/checkers/check_all.h"
#include "properties/model_walk.h"

namespace mq {
namespace {

Topology one_queue(uint32_t capacity) {
  Topology t;
  t.producers = {ProducerConfig{"p0"}};
  QueueConfig q;
  q.name = "q";
  q.capacity = capacity;
  t.queues = {q};
  t.consumers = {ConsumerConfig{"c0", "q", 1, AckMode::kManual}};
  return t;
}

// Applies `op` to the model and records it.
void step(Model& model, HistoryRecorder& recorder, const Op& op) {
  const Result<Effects> result = model.apply(op);
  recorder.record(op, result, model.now());
}

std::string describe(const History& h) {
  std::string s;
  for (const auto& e : h.events) s += to_string(e) + "\n";
  return s;
}

TEST(HistoryRecorder, SendFetchAckBecomeInvokeOkPairs) {
  auto model = Model::create(one_queue(1));
  ASSERT_TRUE(model.ok());
  Model m = std::move(model).value();
  HistoryRecorder recorder(m.topology());
  step(m, recorder, op::Send{0, 0, MessageSpec{7, "hello", 0, 0, 0, {}}});
  step(m, recorder, op::Send{0, 0, MessageSpec{8, "full", 0, 0, 0, {}}});
  step(m, recorder, op::Advance{5});
  step(m, recorder, op::Fetch{0});
  step(m, recorder, op::Ack{0, 7});
  step(m, recorder, op::Ack{0, 7});
  const History& h = recorder.history();
  ASSERT_EQ(h.events.size(), 10u) << describe(h);
  EXPECT_EQ(to_string(h.events[1]),
            "event #1 t=0 p0 ok publish queue=q id=7 payload='hello' priority=0 ttl_ns=0 delay_ns=0 "
            "max_retries=3 timestamp_ns=0 not_before_ns=0");  // the queue's budget: the spec has none
  EXPECT_EQ(h.events[3].type, EventType::kFail);
  EXPECT_EQ(h.events[3].error, "full");
  EXPECT_EQ(h.events[5].f, EventF::kDeliver);
  EXPECT_EQ(h.events[5].type, EventType::kOk);
  EXPECT_EQ(h.events[5].time_ns, 5);
  EXPECT_EQ(h.events[5].attempts, 1u);
  EXPECT_EQ(h.events[7].f, EventF::kAck);
  EXPECT_EQ(h.events[7].type, EventType::kOk);
  EXPECT_EQ(h.events[9].type, EventType::kFail);  // the second ack: not in flight
  EXPECT_NE(h.events[9].error.find("FailedPrecondition"), std::string::npos);
  EXPECT_TRUE(validate_history(h).ok()) << validate_history(h).to_string();
  EXPECT_TRUE(all_valid(check_all(h, m.topology(), CheckOptions{.complete = true})));
}

TEST(HistoryRecorder, CrashLosesNonDurableMessagesAsBrokerEvents) {
  auto model = Model::create(one_queue(4));
  ASSERT_TRUE(model.ok());
  Model m = std::move(model).value();
  HistoryRecorder recorder(m.topology());
  step(m, recorder, op::Send{0, 0, MessageSpec{1, "a", 0, 0, 0, {}}});
  step(m, recorder, op::Crash{});
  step(m, recorder, op::Fetch{0});  // broker down: a fail with the Status
  step(m, recorder, op::Recover{});
  const History& h = recorder.history();
  ASSERT_EQ(h.events.size(), 7u) << describe(h);
  EXPECT_EQ(h.events[2].f, EventF::kCrash);
  EXPECT_EQ(h.events[2].process, "nemesis");
  EXPECT_EQ(h.events[3].f, EventF::kLost);
  EXPECT_EQ(h.events[3].process, "broker");
  EXPECT_NE(h.events[5].error.find("Unavailable"), std::string::npos);
  EXPECT_EQ(h.events[6].f, EventF::kRecover);
  EXPECT_TRUE(all_valid(check_all(h, m.topology(), CheckOptions{.complete = true})));
}

TEST(HistoryRecorder, OpsOfUnknownClientsRecordNothing) {
  auto model = Model::create(one_queue(4));
  ASSERT_TRUE(model.ok());
  Model m = std::move(model).value();
  HistoryRecorder recorder(m.topology());
  step(m, recorder, op::Send{9, 0, MessageSpec{1, "a", 0, 0, 0, {}}});
  step(m, recorder, op::Fetch{9});
  step(m, recorder, op::Dispatch{9});
  EXPECT_TRUE(recorder.history().events.empty());
}

// Random walks of the model, recorded: every checker accepts them, and they survive
// write -> read unchanged, byte for byte.
void walk_and_check(const Topology& topology, uint64_t seed, uint64_t steps, std::map<std::string, uint64_t>& fs) {
  auto model = Model::create(topology);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  Model m = std::move(model).value();
  HistoryRecorder recorder(topology, "walk-" + std::to_string(seed));
  Prng prng(seed);
  MessageId next_id = 1;
  for (uint64_t i = 0; i < steps; ++i) {
    const Op op = interpret(m, random_choice(prng, m), next_id);
    step(m, recorder, op);
  }
  const History& h = recorder.history();
  for (const auto& e : h.events) ++fs[std::string(event_f_name(e.f)) + "/" + event_type_name(e.type)];
  ASSERT_TRUE(validate_history(h).ok()) << "seed " << seed << ": " << validate_history(h).to_string();
  for (const auto& v : check_all(h, topology)) {
    EXPECT_TRUE(v.valid) << "seed " << seed << ": " << to_string(v);
  }
  auto text = format_history(h);
  ASSERT_TRUE(text.ok()) << text.status().to_string();
  auto back = parse_history(*text, h.source);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  ASSERT_EQ(back->events.size(), h.events.size());
  for (size_t i = 0; i < h.events.size(); ++i) {
    HistoryEvent expected = h.events[i];
    expected.line = i + 1;  // the only field a file adds
    ASSERT_EQ(back->events[i], expected) << "seed " << seed << " event " << i;
  }
  EXPECT_EQ(*format_history(*back), *text);
}

TEST(HistoryRecorder, RandomWalksOfTheModelPassEveryChecker) {
  std::map<std::string, uint64_t> fs;
  for (uint64_t seed = 1; seed <= 20; ++seed) walk_and_check(default_topology(), seed, 400, fs);
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    Prng prng(seed * 7919);
    walk_and_check(random_topology(prng), seed, 300, fs);
  }
  // The walks reach every kind of event the checkers judge.
  for (const char* kind : {"publish/ok", "publish/fail", "deliver/ok", "deliver/fail", "ack/ok", "nack/ok",
                           "requeue/ok", "release/ok", "expire/ok", "dead-letter/ok", "lost/ok", "crash/ok",
                           "recover/ok", "attach/ok", "detach/ok"}) {
    EXPECT_GT(fs[kind], 0u) << kind;
  }
}

}  // namespace
}  // namespace mq
