// load_balance checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/load_balance.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "checker_test_util.h"
#include "model/history_io.h"
#include "model/topology.h"

namespace mq {
namespace {

using namespace checker_testing;

TEST(CheckerLoadBalance, OneConsumerServedWhileAnotherWaitsFails) {
  const std::string h = publish(0, 1) + publish(0, 2) + publish(0, 3) + push(1, "c0", 1) + ack(1, "c0", 1) +
                        push(2, "c0", 2) + ack(2, "c0", 2) + push(3, "c0", 3);
  const Verdict v = check_load_balance(parse(h), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "load-balance");
  EXPECT_EQ(witness_lines(v), (Lines{7, 10, 13}));
  EXPECT_NE(v.message.find("epsilon = 1 + prefetch window = 2"), std::string::npos) << v.message;
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

}  // namespace
}  // namespace mq
