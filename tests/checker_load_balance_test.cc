// load_balance checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/load_balance.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "checker_test_util.h"
#include "formats/history_io.h"
#include "model/topology.h"

namespace mq {
namespace {

using namespace mq::test;

TEST(CheckerLoadBalance, OneConsumerServedWhileAnotherWaitsFails) {
  const std::string h = publish(0, 1) + publish(0, 2) + publish(0, 3) + push(1, "c0", 1) + ack(1, "c0", 1) +
                        push(2, "c0", 2) + ack(2, "c0", 2) + push(3, "c0", 3);
  const Verdict v = check_load_balance(parse(h), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "load-balance");
  // The turn rule sees it at c0's second push: c1 had credit all along.
  EXPECT_EQ(witness_lines(v), (Lines{7, 10}));
  EXPECT_NE(v.message.find("'c1' had credit at every push"), std::string::npos) << v.message;
}

TEST(CheckerLoadBalance, RoundRobinPasses) {
  const std::string h = publish(0, 1) + publish(0, 2) + publish(0, 3) + push(1, "c0", 1) + push(1, "c1", 2) +
                        ack(1, "c0", 1) + push(2, "c0", 3);
  EXPECT_TRUE(check_load_balance(parse(h), topology()).valid);
}

TEST(CheckerLoadBalance, AConsumerWithoutCreditIsNotOwedPushes) {
  const std::string fetch = line(0, "c1", "invoke", "deliver", R"("queue":"q","consumer":"c1")") +
                            line(0, "c1", "ok", "deliver", msg(4) + R"(,"consumer":"c1","attempts":1)");
  const std::string h = publish(0, 1) + publish(0, 2) + publish(0, 3) + publish(0, 4) + fetch + push(1, "c0", 1) +
                        ack(1, "c0", 1) + push(2, "c0", 2) + ack(2, "c0", 2) + push(3, "c0", 3);
  EXPECT_TRUE(check_load_balance(parse(h), topology()).valid);
}

TEST(CheckerLoadBalance, ADetachedConsumerIsNotOwedPushes) {
  const std::string detach = R"("queue":"q","consumer":"c1")";
  const std::string h = publish(0, 1) + publish(0, 2) + publish(0, 3) + line(0, "c1", "invoke", "detach", detach) +
                        line(0, "c1", "ok", "detach", detach) + push(1, "c0", 1) + ack(1, "c0", 1) +
                        push(2, "c0", 2) + ack(2, "c0", 2) + push(3, "c0", 3);
  EXPECT_TRUE(check_load_balance(parse(h), topology()).valid);
}

TEST(CheckerLoadBalance, EpsilonIsOnePlusThePrefetchWindow) {
  Topology t = topology();
  EXPECT_EQ(load_balance_epsilon(t, 0), 2u);
  t.consumers[1].prefetch = 5;
  EXPECT_EQ(load_balance_epsilon(t, 0), 6u);
  t.consumers[0].prefetch = 0;  // unlimited counts as 1
  t.consumers[1].prefetch = 0;
  EXPECT_EQ(load_balance_epsilon(t, 0), 2u);
}

// Three consumers, prefetch 1: "c0", "c1", "c2" in round-robin order.
Topology three() {
  Topology t = topology();
  t.consumers.push_back(ConsumerConfig{"c2", "q", 1, AckMode::kManual});
  return t;
}

// A starving dispatcher: c0 had no credit when the cursor reached it, its credit came
// back, and the dispatcher served c2 and then c1 again instead of giving c0 its turn.
// The counts stay within epsilon (c0 dropped out of the count rule's eligible set when
// it lacked credit), so only the turn rule sees it.
TEST(CheckerLoadBalance, AStarvingDispatcherIsCaughtByTheTurnRule) {
  std::string h;
  for (MessageId id = 1; id <= 4; ++id) h += publish(0, id);
  h += push(1, "c0", 1) + push(1, "c1", 2) + ack(2, "c0", 1) + push(3, "c2", 3) + ack(4, "c1", 2) +
       push(5, "c1", 4);
  const Verdict v = check_load_balance(parse(h), three());
  ASSERT_FALSE(v.valid);
  EXPECT_NE(v.message.find("consumer 'c1' got its next push while 'c0' had credit"), std::string::npos)
      << v.message;
  EXPECT_EQ(witness_lines(v), (Lines{9, 10, 16}));
  // Round-robin gives c0 its turn: valid.
  std::string fair;
  for (MessageId id = 1; id <= 4; ++id) fair += publish(0, id);
  fair += push(1, "c0", 1) + push(1, "c1", 2) + ack(2, "c0", 1) + push(3, "c2", 3) + ack(4, "c1", 2) +
          push(5, "c0", 4);
  EXPECT_TRUE(check_load_balance(parse(fair), three()).valid) << to_string(check_load_balance(parse(fair), three()));
}

TEST(CheckerLoadBalance, NoTurnIsOwedToAConsumerThatLostItsCreditMeanwhile) {
  std::string h;
  for (MessageId id = 1; id <= 4; ++id) h += publish(0, id);
  // c1 has credit at the first push to c2, none at the second (it holds message 2).
  h += push(1, "c2", 1) + ack(1, "c2", 1) + push(2, "c1", 2) + push(3, "c0", 3) + ack(3, "c0", 3) + push(4, "c2", 4);
  EXPECT_TRUE(check_load_balance(parse(h), three()).valid) << to_string(check_load_balance(parse(h), three()));
}

}  // namespace
}  // namespace mq
