// capacity checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/capacity.h"

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

TEST(CheckerCapacity, HoldingMoreThanCapacityFails) {
  const Verdict v = check_capacity(parse(publish(0, 1) + publish(0, 2) + publish(0, 3)), topology(false, 2));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "capacity");
  EXPECT_EQ(witness_lines(v), (Lines{2, 4, 6}));
}

TEST(CheckerCapacity, AcceptingAfterAnAckMadeRoomPasses) {
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + ack(1, "c0", 1) + publish(2, 3);
  EXPECT_TRUE(check_capacity(parse(h), topology(false, 2)).valid);
}

TEST(CheckerCapacity, RefusingWhenNotFullFails) {
  const std::string refused = line(1, "p0", "invoke", "publish", msg(2)) +
                              line(1, "p0", "fail", "publish", msg(2) + R"(,"error":"full")");
  const Verdict v = check_capacity(parse(publish(0, 1) + refused), topology(false, 2));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 4}));
  EXPECT_NE(v.message.find("at most 1 of 2"), std::string::npos) << v.message;
}

TEST(CheckerCapacity, RefusingWhenFullPasses) {
  const std::string refused = line(1, "p0", "invoke", "publish", msg(3)) +
                              line(1, "p0", "fail", "publish", msg(3) + R"(,"error":"full")");
  EXPECT_TRUE(check_capacity(parse(publish(0, 1) + publish(0, 2) + refused), topology(false, 2)).valid);
}

TEST(CheckerCapacity, OtherFailuresAreNotRefusals) {
  const std::string down = line(1, "p0", "invoke", "publish", msg(2)) +
                           line(1, "p0", "fail", "publish", msg(2) + R"(,"error":"Unavailable: down")");
  EXPECT_TRUE(check_capacity(parse(publish(0, 1) + down), topology(false, 2)).valid);
}

TEST(CheckerCapacity, AnOpenPublishMayHaveFilledTheQueue) {
  // p0's publish never completes: the broker may have taken it, so q may be full.
  const std::string h = line(0, "p0", "invoke", "publish", msg(1)) + line(0, "p1", "invoke", "publish", msg(2)) +
                        line(0, "p1", "ok", "publish", msg(2)) + line(1, "p2", "invoke", "publish", msg(3)) +
                        line(1, "p2", "fail", "publish", msg(3) + R"(,"error":"full")");
  EXPECT_TRUE(check_capacity(parse(h), topology(false, 2)).valid);
}

}  // namespace
}  // namespace mq
