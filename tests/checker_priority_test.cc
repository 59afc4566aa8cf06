// priority checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/priority.h"

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

TEST(CheckerPriority, LowerDeliveredWhileHigherReadyFails) {
  const std::string h = publish(0, 1, R"("priority":0)") + publish(0, 2, R"("priority":2)") + push(1, "c0", 1);
  const Verdict v = check_priority(parse(h), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "priority");
  EXPECT_EQ(witness_lines(v), (Lines{4, 5}));
}

TEST(CheckerPriority, HigherDeliveredFirstPasses) {
  const std::string h = publish(0, 1, R"("priority":0)") + publish(0, 2, R"("priority":2)") + push(1, "c0", 2) +
                        push(1, "c1", 1);
  EXPECT_TRUE(check_priority(parse(h), topology()).valid);
}

TEST(CheckerPriority, HigherInFlightIsNotReady) {
  const std::string h = publish(0, 2, R"("priority":2)") + push(1, "c0", 2) + publish(1, 1, R"("priority":0)") +
                        push(2, "c1", 1);
  EXPECT_TRUE(check_priority(parse(h), topology()).valid);
}

TEST(CheckerPriority, HigherRequeuedIsReadyAgain) {
  const std::string h = publish(0, 2, R"("priority":2)") + push(1, "c0", 2) + publish(1, 1, R"("priority":0)") +
                        broker(2, "requeue", 2, R"("consumer":"c0")") + push(2, "c1", 1);
  const Verdict v = check_priority(parse(h), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{6, 7}));
}

TEST(CheckerPriority, HigherStillDelayedIsNotReady) {
  const std::string h = publish(0, 2, R"("priority":2,"delay_ns":10)") + publish(0, 1, R"("priority":0)") +
                        push(1, "c0", 1);
  EXPECT_TRUE(check_priority(parse(h), topology()).valid);
}

}  // namespace
}  // namespace mq
