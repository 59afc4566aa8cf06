// Failure isolation end to end (issue 18), on the built mutant binary: a seed that
// trips an always-on assertion (the mutant build's test hook, --test-abort-seed) is
// that seed's violation in `sweep`, property "assertion" with the failed condition and
// a reproduce line that dies the same way, and the sweep judges every other seed; and
// `shrink` of that seed survives candidates that abort, shrinks it as a failure of the
// same kind, and writes a reproducer that `replay` dies on again.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/run_command.h"

namespace {

using mq::test::Outcome;

// Runs `mqharness-mutants ARGS` in `dir` with a bounded output read.
Outcome run(const std::string& dir, const std::string& args) {
  return mq::test::run_command("cd '" + dir + "' && " + std::string(MQ_MUTANTS_BIN) + " " + args + " 2>&1");
}

class IsolationE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "isolation_e2e_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

// The shell that runs the binary reports its abort as 128 + the signal.
constexpr int kAborted = 128 + SIGABRT;
constexpr const char* kCondition = "the test hook's seed trips an always-on assertion";

TEST_F(IsolationE2eTest, AnAssertingSeedIsItsViolationAndTheSweepGoesOn) {
  const Outcome o = run(dir_, "sweep --seeds 1..5 --jobs 2 --test-abort-seed 3");
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_NE(o.output.find("FAIL seed 3: assertion: "), std::string::npos) << o.output;
  EXPECT_NE(o.output.find(kCondition), std::string::npos) << o.output;
  // Absolute: the line runs from any directory (README "One convention for every command").
  EXPECT_NE(o.output.find("reproduce: " + std::string(MQ_MUTANTS_BIN) + " run --test-abort-seed 3 --seed 3"),
            std::string::npos)
      << o.output;
  // Every other seed ran and was judged: the table counts 4 for each property, 1 run
  // for "assertion", and no seed but 3 failed.
  EXPECT_NE(o.output.find("integrity             4          0  -"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("assertion             1          1  3"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("FAIL: 1 of 5 seeds"), std::string::npos) << o.output;
  // Printed as it was found: the summary does not count it again as one "more".
  EXPECT_EQ(o.output.find("more failing seeds"), std::string::npos) << o.output;
  // The reproduce line dies the same way, in its own process.
  const Outcome again = run(dir_, "run --test-abort-seed 3 --seed 3");
  EXPECT_EQ(again.status, kAborted) << again.output;
  EXPECT_NE(again.output.find(kCondition), std::string::npos) << again.output;
  const Outcome other = run(dir_, "run --test-abort-seed 3 --seed 2");
  EXPECT_EQ(other.status, 0) << other.output;
}

TEST_F(IsolationE2eTest, ShrinkSurvivesAbortingCandidatesAndShrinksTheAssertion) {
  const std::string shrunk = dir_ + "/shrunk.jsonl";
  const Outcome o = run(dir_, "shrink --seed 3 --test-abort-seed 3 --history " + shrunk);
  EXPECT_EQ(o.status, 1) << o.output;
  EXPECT_NE(o.output.find("shrink: seed 3 fails 'assertion': "), std::string::npos) << o.output;
  EXPECT_NE(o.output.find(kCondition), std::string::npos) << o.output;
  // The hook aborts at the event that brings the history to 3: 2 events before it.
  EXPECT_NE(o.output.find(", 2 history events (from 0)"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("reproduce: " + std::string(MQ_MUTANTS_BIN) + " replay --test-abort-seed 3 " + shrunk),
            std::string::npos)
      << o.output;
  ASSERT_TRUE(std::filesystem::exists(shrunk + ".run.json")) << o.output;
  const Outcome replay = run(dir_, "replay --test-abort-seed 3 " + shrunk);
  EXPECT_EQ(replay.status, kAborted) << replay.output;
  EXPECT_NE(replay.output.find(kCondition), std::string::npos) << replay.output;
}

}  // namespace
