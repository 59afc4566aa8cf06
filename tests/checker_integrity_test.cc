// Integrity checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/integrity.h"

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

TEST(CheckerIntegrity, DeliveryOfAMessageNeverPublishedFails) {
  const Verdict v = check_integrity(parse(publish(0, 1) + push(1, "c0", 2)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "integrity");
  EXPECT_EQ(witness_lines(v), (Lines{3}));
  EXPECT_NE(v.message.find("never published"), std::string::npos) << v.message;
}

TEST(CheckerIntegrity, AnAckCompletedForAnotherMessageFails) {
  // The consumer asks to ack #1; the broker answers that it acked #2.
  const std::string rest1 = R"("queue":"q","consumer":"c0","id":1)";
  const std::string rest2 = R"("queue":"q","consumer":"c0","id":2)";
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + push(1, "c0", 2);
  const Verdict v = check_integrity(parse(h + line(2, "c0", "invoke", "ack", rest1) + line(2, "c0", "ok", "ack", rest2)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{7, 8}));
  EXPECT_NE(v.message.find("requested for message 1"), std::string::npos) << v.message;
  EXPECT_TRUE(check_integrity(parse(h + ack(2, "c0", 1))).valid);
}

TEST(CheckerIntegrity, DeliveryOfThePublishedMessagePasses) {
  EXPECT_TRUE(check_integrity(parse(publish(0, 1) + push(1, "c0", 1))).valid);
}

TEST(CheckerIntegrity, PayloadChangedInTransitFails) {
  const std::string tampered =
      line(1, "broker", "ok", "deliver", R"("queue":"q","id":1,"payload":"zz","consumer":"c0","attempts":1)");
  const Verdict v = check_integrity(parse(publish(0, 1) + tampered));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{1, 3}));
  EXPECT_NE(v.message.find("'zz'"), std::string::npos) << v.message;
}

TEST(CheckerIntegrity, DeliveryFromAnotherQueueFails) {
  const Verdict v = check_integrity(parse(publish(0, 1, "", "other") + push(1, "c0", 1)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3}));
}

TEST(CheckerIntegrity, DeliveryOfARefusedPublishFails) {
  const std::string refused = line(0, "p0", "invoke", "publish", msg(1)) +
                              line(0, "p0", "fail", "publish", msg(1) + R"(,"error":"full")");
  const Verdict v = check_integrity(parse(refused + push(1, "c0", 1)));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2, 3}));
}

TEST(CheckerIntegrity, DeliveryBeforeTheProducerHearsBackPasses) {
  const std::string h = line(0, "p0", "invoke", "publish", msg(1)) + push(1, "c0", 1) +
                        line(2, "p0", "ok", "publish", msg(1));
  EXPECT_TRUE(check_integrity(parse(h)).valid);
}

TEST(CheckerIntegrity, DeliveryAfterAnInfoPublishPasses) {
  const std::string h = line(0, "p0", "invoke", "publish", msg(1)) +
                        line(1, "p0", "info", "publish", msg(1) + R"(,"error":"timeout")") + push(2, "c0", 1);
  EXPECT_TRUE(check_integrity(parse(h)).valid);
}

}  // namespace
}  // namespace mq
