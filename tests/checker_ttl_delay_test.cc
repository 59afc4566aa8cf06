// ttl_delay checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/ttl_delay.h"

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

TEST(CheckerTtlDelay, DeliveryAtExpiryFails) {
  const Verdict v = check_ttl_delay(parse(publish(0, 1, R"("ttl_ns":10)") + push(10, "c0", 1)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "ttl-delay");
  EXPECT_EQ(witness_lines(v), (Lines{2, 3}));
  EXPECT_NE(v.message.find("expired"), std::string::npos) << v.message;
}

TEST(CheckerTtlDelay, DeliveryBeforeExpiryPasses) {
  EXPECT_TRUE(check_ttl_delay(parse(publish(0, 1, R"("ttl_ns":10)") + push(9, "c0", 1))).valid);
}

TEST(CheckerTtlDelay, ExpiryCountsFromTheLatestPossibleAcceptance) {
  // Invoked at 0, confirmed at 5: accepted at 5 at the latest, so alive until 15.
  const std::string h = line(0, "p0", "invoke", "publish", msg(1) + R"(,"ttl_ns":10)") +
                        line(5, "p0", "ok", "publish", msg(1) + R"(,"ttl_ns":10)") + push(12, "c0", 1);
  EXPECT_TRUE(check_ttl_delay(parse(h)).valid);
}

TEST(CheckerTtlDelay, DeliveryBeforeTheDelayFails) {
  const Verdict v = check_ttl_delay(parse(publish(0, 1, R"("delay_ns":10)") + push(5, "c0", 1)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{1, 3}));
  EXPECT_NE(v.message.find("not-before"), std::string::npos) << v.message;
}

TEST(CheckerTtlDelay, DeliveryAfterTheDelayPasses) {
  const std::string h = publish(0, 1, R"("delay_ns":10)") + broker(10, "release", 1) + push(10, "c0", 1);
  EXPECT_TRUE(check_ttl_delay(parse(h)).valid);
}

}  // namespace
}  // namespace mq
