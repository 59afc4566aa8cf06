// Duplicates checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/duplicates.h"

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

TEST(CheckerDuplicates, SecondDeliveryWithoutCauseFails) {
  const Verdict v = check_duplicates(parse(publish(0, 1) + push(1, "c0", 1, 1) + push(2, "c1", 1, 2)), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.property, "duplicates");
  EXPECT_EQ(witness_lines(v), (Lines{3, 4}));
  EXPECT_NE(v.message.find("nothing gave it back"), std::string::npos) << v.message;
}

TEST(CheckerDuplicates, RedeliveryAfterARequeueWithAHigherAttemptPasses) {
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + broker(2, "requeue", 1, R"("consumer":"c0")") +
                        push(2, "c1", 1, 2);
  EXPECT_TRUE(check_duplicates(parse(h), topology()).valid);
}

TEST(CheckerDuplicates, RedeliveryWithTheSameAttemptCountFails) {
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + broker(2, "requeue", 1, R"("consumer":"c0")") +
                        push(2, "c1", 1, 1);
  const Verdict v = check_duplicates(parse(h), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 5}));
  EXPECT_NE(v.message.find("silent duplicate"), std::string::npos) << v.message;
}

TEST(CheckerDuplicates, RedeliveryAfterACrashPasses) {
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + line(2, "nemesis", "ok", "crash", "") +
                        line(3, "nemesis", "ok", "recover", "") + push(4, "c0", 1, 2);
  EXPECT_TRUE(check_duplicates(parse(h), topology()).valid);
}

TEST(CheckerDuplicates, RedeliveryAfterTheHolderDetachesPasses) {
  const std::string detach = R"("queue":"q","consumer":"c0")";
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + line(2, "c0", "invoke", "detach", detach) +
                        line(2, "c0", "ok", "detach", detach) + push(3, "c1", 1, 2);
  EXPECT_TRUE(check_duplicates(parse(h), topology()).valid);
}

TEST(CheckerDuplicates, RedeliveryAfterAnotherConsumerDetachesFails) {
  const std::string detach = R"("queue":"q","consumer":"c1")";
  const std::string h = publish(0, 1) + push(1, "c0", 1, 1) + line(2, "c1", "invoke", "detach", detach) +
                        line(2, "c1", "ok", "detach", detach) + push(3, "c0", 1, 2);
  const Verdict v = check_duplicates(parse(h), topology());
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(witness_lines(v), (Lines{3, 6}));
}

}  // namespace
}  // namespace mq
