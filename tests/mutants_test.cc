// The named faults of impl/mutant.h never reach the production build: there
// MQ_MUTANT() is a constant false (checked at compile time, in this production
// translation unit) and neither the broker library nor the mqharness binary holds the
// fault selection (checked on the built files, against the mutant library as a
// control that the check can see the symbol at all). The catalogue itself is checked
// too. The report that every fault is caught is the `mutants` ctest (docs/mutants.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

#include "impl/mutant.h"

namespace mq::impl {
namespace {

static_assert(!kMutantsCompiledIn, "a production test target must not define MQ_MUTANTS");
// A constant expression in the production build, so `if (MQ_MUTANT(k))` is dead code.
static_assert(!MQ_MUTANT(kReversedPriority) && !MQ_MUTANT(kConfirmBeforeSync));

// How many symbols of `file` name the fault selection (nm -C; -1 if nm failed).
int selection_symbols(const std::string& file) {
  const std::string cmd = "nm -C '" + file + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  int hits = 0;
  char line[4096];
  bool any = false;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    any = true;
    if (std::string(line).find("selected_mutant") != std::string::npos) ++hits;
  }
  const int status = pclose(p);
  return any && status == 0 ? hits : -1;
}

TEST(MutantsTest, ProductionLibraryAndBinaryHoldNoFaultSelection) {
  ASSERT_GT(selection_symbols(MQ_IMPL_MUTANTS_LIB), 0) << "control: the mutant library must show the symbol";
  EXPECT_EQ(selection_symbols(MQ_IMPL_LIB), 0) << MQ_IMPL_LIB;
  EXPECT_EQ(selection_symbols(MQ_HARNESS_BIN), 0) << MQ_HARNESS_BIN;
}

TEST(MutantsTest, NamesAreUniqueAndRoundTrip) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kMutants.size(); ++i) {
    const MutantInfo& m = kMutants[i];
    EXPECT_EQ(static_cast<size_t>(m.mutant), i + 1) << "kMutants is in enum order";
    EXPECT_TRUE(names.insert(m.name).second) << m.name;
    EXPECT_EQ(mutant_by_name(m.name), m.mutant);
    EXPECT_EQ(mutant_name(m.mutant), m.name);
    EXPECT_FALSE(m.where.empty());
    EXPECT_FALSE(m.breaks.empty());
  }
  EXPECT_EQ(mutant_by_name("none"), Mutant::kNone);
  EXPECT_FALSE(mutant_by_name("no-such-fault").has_value());
}

}  // namespace
}  // namespace mq::impl
