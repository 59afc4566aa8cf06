// no_loss checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/no_loss.h"

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

[[maybe_unused]] std::string refused(TimeNs t, MessageId id) {
  return line(t, "p0", "invoke", "publish", msg(id)) +
         line(t, "p0", "fail", "publish", msg(id) + R"(,"error":"full")");
}
[[maybe_unused]] std::string fetch_empty(TimeNs t, std::string_view c) {
  const std::string rest = "\"queue\":\"q\",\"consumer\":\"" + std::string(c) + "\"";
  return line(t, c, "invoke", "deliver", rest) + line(t, c, "fail", "deliver", rest + R"(,"error":"empty")");
}
[[maybe_unused]] std::string crash(TimeNs t) { return line(t, "nemesis", "ok", "crash", ""); }

TEST(CheckerNoLoss, ARefusedMessageThatAppearsFails) {
  const Verdict v = check_no_loss(parse(refused(0, 1) + push(1, "c0", 1)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "no-loss");
  EXPECT_EQ(witness_lines(v), (Lines{2, 3}));
}

TEST(CheckerNoLoss, ARefusedMessageThatStaysAwayPasses) {
  EXPECT_TRUE(check_no_loss(parse(refused(0, 1) + publish(1, 2) + push(1, "c0", 2)), topology()).valid);
}

TEST(CheckerNoLoss, ARefusedDuplicateIdOfAnAcceptedMessageMayAppear) {
  const std::string dup = line(1, "p0", "invoke", "publish", msg(1)) +
                          line(1, "p0", "fail", "publish", msg(1) + R"(,"error":"AlreadyExists: duplicate")");
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + dup + push(2, "c0", 1)), topology()).valid);
}

TEST(CheckerNoLoss, ADurableQueueThatLosesAMessageFails) {
  const std::string h = publish(0, 1) + crash(1) + broker(1, "lost", 1);
  const Verdict v = check_no_loss(parse(h), topology(/*durable=*/true));
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2, 4}));
}

TEST(CheckerNoLoss, ANonDurableQueueMayLoseAMessageInACrash) {
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + crash(1) + broker(1, "lost", 1)), topology()).valid);
}

TEST(CheckerNoLoss, ALossWithoutACrashFails) {
  const Verdict v = check_no_loss(parse(publish(0, 1) + broker(1, "lost", 1)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3}));
}

TEST(CheckerNoLoss, AnEmptyFetchWhileAMessageIsReadyFails) {
  const Verdict v = check_no_loss(parse(publish(0, 1) + fetch_empty(1, "c0")), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2, 3, 4}));
}

TEST(CheckerNoLoss, AFetchThatGetsTheMessagePasses) {
  const std::string fetch = line(1, "c0", "invoke", "deliver", R"("queue":"q","consumer":"c0")") +
                            line(1, "c0", "ok", "deliver", msg(1) + R"(,"consumer":"c0","attempts":1)");
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + fetch), topology()).valid);
}

TEST(CheckerNoLoss, AnEmptyFetchWithoutCreditPasses) {
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + fetch_empty(1, "c0")), topology())
                  .valid);
}

TEST(CheckerNoLoss, ACompleteHistoryMustEndEveryMessage) {
  const History h = parse(publish(0, 1));
  EXPECT_TRUE(check_no_loss(h, topology()).valid);
  const Verdict v = check_no_loss(h, topology(), NoLossOptions{.complete = true});
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{2}));
  EXPECT_TRUE(check_no_loss(parse(publish(0, 1) + push(1, "c0", 1) + ack(2, "c0", 1)), topology(),
                            NoLossOptions{.complete = true})
                  .valid);
}

TEST(CheckerNoLoss, AnInfoPublishMayGoEitherWay) {
  const std::string h = line(0, "p0", "invoke", "publish", msg(1)) +
                        line(1, "p0", "info", "publish", msg(1) + R"(,"error":"timeout")");
  EXPECT_TRUE(check_no_loss(parse(h), topology(), NoLossOptions{.complete = true}).valid);
}

}  // namespace
}  // namespace mq
