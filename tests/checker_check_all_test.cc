// check_all checker: each bug history fails with its witness; without the bug it passes.
#include "properties/checkers/check_all.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checker_test_util.h"
#include "formats/history_io.h"
#include "model/topology.h"

namespace mq {
namespace {

using namespace mq::test;

TEST(CheckerCheckAll, AGoodHistoryGetsEveryVerdictValid) {
  const std::string h = publish(0, 1) + publish(0, 2) + push(1, "c0", 1) + push(1, "c1", 2) + ack(2, "c0", 1) +
                        ack(2, "c1", 2);
  const auto verdicts = check_all(parse(h), topology(), CheckOptions{.complete = true});
  std::vector<std::string> names;
  for (const auto& v : verdicts) {
    names.push_back(v.property);
    EXPECT_TRUE(v.valid) << to_string(v);
  }
  // The list is stated once, by HistoryCheck; what this pins is that a good history
  // gets a verdict of each, in that order, well-formed first, and that no two
  // checks answer under one name.
  EXPECT_EQ(check_all_properties(), names);  // what a sweep's table lists, in this order
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names.front(), "well-formed");
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_TRUE(all_valid(verdicts));
}

TEST(CheckerCheckAll, AnUnknownQueueMakesTheHistoryMalformed) {
  const auto verdicts = check_all(parse(publish(0, 1) + publish(0, 2, "", "nowhere")), topology());
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].valid);
  EXPECT_EQ(witness_lines(verdicts[0]), (Lines{3}));
  EXPECT_NE(verdicts[0].message.find("unknown queue 'nowhere'"), std::string::npos) << verdicts[0].message;
  EXPECT_FALSE(all_valid(verdicts));
}

TEST(CheckerCheckAll, AConsumerOfAnotherQueueMakesTheHistoryMalformed) {
  const auto verdicts = check_all(parse(publish(0, 1, "", "other") + push(1, "c0", 1, 1, "other")), topology());
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_FALSE(verdicts[0].valid);
  EXPECT_NE(verdicts[0].message.find("unknown queue 'other'"), std::string::npos) << verdicts[0].message;
}

TEST(CheckerCheckAll, AnInMemoryHistoryWithBrokenPairingIsMalformed) {
  History h = parse(publish(0, 1));
  h.events[0].type = EventType::kOk;  // an ok without invoke
  const Verdict v = check_well_formed(h, topology());
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.message.find("field 'type'"), std::string::npos) << v.message;
}

TEST(CheckerCheckAll, EveryBugIsReportedByItsChecker) {
  // Two bugs: a lower priority first, and a duplicate delivery; the model allows
  // neither, so refinement sees them too.
  const std::string h = publish(0, 1, R"("priority":0)") + publish(0, 2, R"("priority":2)") + push(1, "c0", 1) +
                        push(2, "c1", 1);
  std::vector<std::string> failed;
  for (const auto& v : check_all(parse(h), topology())) {
    if (!v.valid) failed.push_back(v.property);
  }
  EXPECT_EQ(failed, (std::vector<std::string>{"duplicates", "priority", "refinement"}));
}

}  // namespace
}  // namespace mq
