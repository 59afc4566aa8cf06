// The command-line convention (README "One convention for every command", issue 14)
// on every script of scripts/ and on the ./mq front script: --help prints the usage
// and exits 0, a usage error exits 2 with a message that names it (checked before
// anything is built, installed or submitted), numbers too large for the script's
// arithmetic are refused, and a build output that is missing or stale has its own
// message (scripts/lib/built.sh).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/run_command.h"

namespace {

using mq::test::exits_with;
using mq::test::expect_each;

const std::string kSource = MQ_SOURCE_DIR;

std::string script(const std::string& name) {
  return kSource + "/scripts/" + name;
}

TEST(ScriptCli, MqFrontScript) {
  expect_each(kSource + "/mq", {
                                   {"--help", 0, "Exit status: the command's"},
                                   {"", 2, "mq: a command is required"},
                                   {"frobnicate", 2, "mq: unknown command 'frobnicate' (one of: run, test"},
                                   {"test --verbose", 2, "mq: 'test' takes no arguments (got: --verbose)"},
                                   {"asan x", 2, "mq: 'asan' takes no arguments"},
                               });
}

TEST(ScriptCli, Fuzz) {
  expect_each(script("fuzz"), {
                                  {"--help", 0, "Exit status: 0 no target crashed"},
                                  {"--bogus", 2, "fuzz: unknown option '--bogus'"},
                                  {"nope", 2, "fuzz: unknown target 'nope' (one of: history"},
                                  {"--seconds 0", 2, "--seconds needs 1..9999999"},
                                  {"--seconds 99999999999999999999", 2, "--seconds needs 1..9999999"},
                                  {"--jobs -1", 2, "--jobs needs 1..999"},
                                  {"--build", 2, "--build needs a directory"},
                              });
}

TEST(ScriptCli, Coverage) {
  expect_each(script("coverage"), {
                                      {"--help", 0, "Exit status: the sweep's"},
                                      {"1..5 extra", 2, "coverage: one argument at most"},
                                      {"--seeds", 2, "coverage: '--seeds' is not a seed range"},
                                  });
}

TEST(ScriptCli, LiveFindings) {
  const std::string out = ::testing::TempDir() + "live-findings-out";
  expect_each(script("live-findings.sh"),
              {
                  {"--help", 0, "Exit status: 0 every run held"},
                  {"", 2, "live-findings: OUTDIR is required"},
                  {"--seeds 1..2", 2, "the first argument is OUTDIR, not an option"},
                  {out + " --seeds", 2, "--seeds needs 'A..B'"},
                  {out + " --duration forever", 2, "--duration needs a time"},
                  {out + " --bogus", 2, "unknown option '--bogus'"},
                  {out + " 'redis-list/none'", 2, "is not a cell 'TARGET/CONFIG NEMESIS'"},
              });
}

TEST(ScriptCli, ReportScreenshot) {
  expect_each(script("report-screenshot.sh"),
              {
                  {"--help", 0, "Exit status: 0 written"},
                  {"--bogus", 2, "report-screenshot: unknown option '--bogus'"},
                  {"a.png b.png", 2, "one argument at most"},
                  {"/nonexistent/x.png", 2, "its directory /nonexistent does not exist"},
                  {::testing::TempDir(), 2, "is a directory, not a file"},
              });
}

TEST(ScriptCli, Setup) {
  expect_each(script("setup.sh"), {
                                      {"--help", 0, "Exit status: 0 every package installed"},
                                      {"--yes", 2, "setup: unknown argument '--yes' (usage: scripts/setup.sh [--build])"},
                                      {"--build --yes", 2, "setup: takes at most one argument (got: --build --yes)"},
                                  });
}

TEST(ScriptCli, SlurmSweep) {
  const std::string out = "--out " + ::testing::TempDir() + "slurm-sweep-out";
  expect_each(script("slurm-sweep"), {
                                         {"--help", 0, "Exit status: 0 every property held"},
                                         {"", 2, "slurm-sweep: --out DIR is required"},
                                         {"--out", 2, "slurm-sweep: --out needs a value"},
                                         {"--bogus", 2, "unknown option '--bogus'"},
                                         {out + " --array-size 99999999999999999999 -- --seeds 1..9", 2,
                                          "--array-size: expected a positive integer up to 9999999"},
                                         {out + " --array-size 0", 2, "--array-size"},
                                         {out + " -- --seeds 1..99999999999999999999", 2,
                                          "seeds above 999999999999999999 are not supported by this script"},
                                         {out + " -- --seeds 9..1", 2, "'9..1' ends before it starts"},
                                         {out + " --cpus-per-task -2", 2, "--cpus-per-task"},
                                     });
}

// A build output a script runs, in each state a user meets: no build directory, a file
// where the directory should be, the program missing, a directory in its place, and
// stale (a source changed after it was built: ninja's own answer). A throwaway Ninja
// build whose "program" is a copy of a script stands for the fuzz build.
TEST(ScriptCli, MissingOrStaleBuildOutputsEachHaveTheirOwnMessage) {
  if (std::system("command -v ninja >/dev/null") != 0)
    GTEST_SKIP() << "ninja is not installed (scripts/setup.sh)";
  const std::string fuzz = script("fuzz") + " --seconds 1 history --build ";
  const std::string dir = mq::test::temp_path("script_cli_test", "build");
  ASSERT_EQ(std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "/tests/fuzz'").c_str()), 0);
  std::ofstream(dir + "/file") << "x";
  EXPECT_TRUE(
      exits_with(fuzz + dir + "/none", 2, dir + "/none: no such build directory; build it with: cmake"));
  EXPECT_TRUE(exits_with(fuzz + dir + "/file", 2, dir + "/file: not a directory"));
  EXPECT_TRUE(
      exits_with(fuzz + dir, 2, dir + "/tests/fuzz/history_fuzz: missing (not built); build it with:"));
  ASSERT_EQ(std::system(("mkdir '" + dir + "/tests/fuzz/history_fuzz'").c_str()), 0);
  EXPECT_TRUE(exits_with(fuzz + dir, 2, "history_fuzz: is a directory, not a program"));
  ASSERT_EQ(std::system(("rmdir '" + dir + "/tests/fuzz/history_fuzz'").c_str()), 0);
  // The "fuzzer" prints libFuzzer's final statistics and exits 0.
  std::ofstream(dir + "/fake_fuzzer.sh") << "#!/bin/sh\necho 'stat::number_of_executed_units: 7'\nexit 0\n";
  std::ofstream(dir + "/build.ninja") << "rule copy\n  command = cp $in $out && chmod +x $out\n"
                                      << "build tests/fuzz/history_fuzz: copy fake_fuzzer.sh\n";
  ASSERT_EQ(std::system(("ninja -C '" + dir + "' >/dev/null").c_str()), 0);
  EXPECT_TRUE(exits_with(fuzz + dir + " --keep " + dir + "/keep", 0, "history                    7"));
  // The source changes after the build: the program is stale.
  ASSERT_EQ(std::system(("touch -d '+1 hour' '" + dir + "/fake_fuzzer.sh'").c_str()), 0);
  EXPECT_TRUE(exits_with(
      fuzz + dir, 2,
      dir +
          "/tests/fuzz/history_fuzz: stale: changed since it was built (output tests/fuzz/history_fuzz older "
          "than most recent input fake_fuzzer.sh"));
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
