// order checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/order.h"

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

TEST(CheckerOrder, LaterPublishDeliveredFirstFails) {
  const std::string h = publish(0, 1) + publish(1, 2) + push(2, "c0", 2) + push(2, "c1", 1);
  const Verdict v = check_order(parse(h));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "order");
  // 1 confirmed (line 2) before 2 was invoked (line 3); 2 delivered (line 5) before 1 (line 6).
  EXPECT_EQ(witness_lines(v), (Lines{2, 3, 5, 6}));
}

TEST(CheckerOrder, FifoDeliveryPasses) {
  EXPECT_TRUE(check_order(parse(publish(0, 1) + publish(1, 2) + push(2, "c0", 1) + push(2, "c1", 2))).valid);
}

TEST(CheckerOrder, ConcurrentPublishesMayGoEitherWay) {
  const std::string h = line(0, "p0", "invoke", "publish", msg(1)) + line(0, "p1", "invoke", "publish", msg(2)) +
                        line(1, "p0", "ok", "publish", msg(1)) + line(1, "p1", "ok", "publish", msg(2)) +
                        push(2, "c0", 2) + push(2, "c1", 1);
  EXPECT_TRUE(check_order(parse(h)).valid);
}

TEST(CheckerOrder, DifferentPrioritiesAreNotOrdered) {
  const std::string h = publish(0, 1, R"("priority":0)") + publish(1, 2, R"("priority":1)") + push(2, "c0", 2) +
                        push(2, "c1", 1);
  EXPECT_TRUE(check_order(parse(h)).valid);
}

TEST(CheckerOrder, RedeliveriesAreLeftOut) {
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + broker(2, "requeue", 1, R"("consumer":"c0")") +
                        push(3, "c1", 2) + push(4, "c0", 1, 2);
  EXPECT_TRUE(check_order(parse(h)).valid);
}

TEST(CheckerOrder, ALongerCycleIsCutToOnePair) {
  // Published 1, 2, 3; delivered 3, 1, 2: 3 overtook both.
  const std::string h = publish(0, 1) + publish(1, 2) + publish(2, 3) + push(3, "c0", 3) + push(3, "c1", 1) +
                        push(4, "c0", 2);
  const Verdict v = check_order(parse(h));
  ASSERT_FALSE(v.valid);
  ASSERT_EQ(v.witness.size(), 4u);
  // b = 3 (invoke at line 5, delivered at line 7); a = 1 or 2.
  EXPECT_EQ(v.witness[1].line, 5u);
  EXPECT_EQ(v.witness[2].line, 7u);
  EXPECT_TRUE(witness_lines(v) == (Lines{2, 5, 7, 8}) || witness_lines(v) == (Lines{4, 5, 7, 9}))
      << to_string(v);
}

TEST(CheckerOrder, DelayedMessagesCountFromTheirRelease) {
  const std::string h = publish(0, 1, R"("delay_ns":10)") + publish(1, 2) + push(2, "c0", 2) +
                        broker(10, "release", 1) + push(10, "c1", 1);
  EXPECT_TRUE(check_order(parse(h)).valid);
}

}  // namespace
}  // namespace mq
