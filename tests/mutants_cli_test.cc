// The command-line convention (README "One convention for every command", issue 14)
// on the mutants binary, per verb: exit status 0/1/2/3, usage errors named before any
// work, numbers never wrapped, --json, --version, reproduce lines that run from any
// directory, and run files that record their fault and build.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/run_command.h"

namespace {

using mq::test::exits_with;
using mq::test::expect_each;
using mq::test::json_object_of;
using mq::test::line_after;
using mq::test::Outcome;
using mq::test::run_command;

const std::string kBin = MQ_MUTANTS_BIN;
// A fault that seed 2 of the default scenario catches (docs/mutants.md).
const std::string kFault = "reversed-priority";

std::string temp_path(const std::string& name) {
  return mq::test::temp_path("mutants_cli_test", name);
}

// A fresh directory, removed by the caller.
std::string temp_dir(const std::string& name) { return mq::test::fresh_temp_dir("mutants_cli_test", name); }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(MutantsCli, UsageErrorsExit2NamedBeforeAnyWork) {
  const std::string dir = ::testing::TempDir();
  const std::string run1 = "--only " + kFault + " --run 1";
  expect_each(
      kBin, {
                {"--no-such-option", 2, "--no-such-option"},
                {"frobnicate", 2, "unknown subcommand 'frobnicate' (one of: run, sweep"},
                {"--only no-such-fault", 2, "unknown fault 'no-such-fault'"},
                {"--run 1", 2, "--run needs exactly one --only fault"},
                {"--only a --only b --run 1", 2, "unknown fault 'a', 'b'"},
                // Options of one mode given to another are refused, not ignored.
                {"--overrides '{}'", 2, "--overrides goes with --run (one run)"},
                {"--history h.jsonl", 2, "--history goes with --run"},
                {run1 + " --reproducer x.jsonl", 2, "--reproducer goes with the report"},
                {run1 + " --replay x.jsonl", 2, "--run and --replay are two modes"},
                {"--reproducer x.jsonl", 2, "--reproducer writes one run"},
                // Files: a report of many minutes must not end in "cannot write".
                {"--out /nonexistent/dir/mutants.md", 2, "its directory /nonexistent/dir does not exist"},
                {"--out " + dir, 2, "is a directory, not a file"},
                {"--out - --clean-log /nonexistent/sweep.log", 2, "/nonexistent/sweep.log: no such file"},
                {"--out - --clean-log " + dir, 2, "is a directory"},
                {"--out - --clean-log " + std::string(MQ_MUTANTS_CLI_TEST_SOURCE), 2,
                 "not the output of `mqharness sweep` (no line starts with its summary"},
                {run1 + " --history " + dir, 2, "is a directory"},
                {run1 + " --overrides 'not json'", 2, "--overrides"},
                {run1 + " --overrides '" + std::string(1000, '[') + "'", 2, "nested deeper than 128 levels"},
                {"--replay " + dir, 2, "is a directory, not a file"},
                {"--replay /nonexistent/h.jsonl", 2, "/nonexistent/h.jsonl: no such file"},
                // The subcommands' own inputs.
                {"run --mutant no-such-fault", 2, "--mutant"},
                {"replay " + dir, 2, "is a directory, not a file"},
                {"replay /nonexistent/h.jsonl", 2, "/nonexistent/h.jsonl: no such file"},
                {"sweep --merge /nonexistent/out", 2, "/nonexistent/out: no such file"},
            });
}

TEST(MutantsCli, NumbersAreNeverWrapped) {
  expect_each(kBin, {
                        {"--only " + kFault + " --run -1", 2, "--run: '-1' is not a non-negative"},
                        {"--only " + kFault + " --run 99999999999999999999", 2, "is too large"},
                        {"--out - --seeds -1", 2, "bad --seeds '-1'"},
                        {"--out - --seeds 0..5", 2, "bad --seeds '0..5'"},
                        {"--out - --seeds 5..1", 2, "bad --seeds '5..1'"},
                        {"--out - --seeds 1..99999999999999999999", 2, "bad --seeds"},
                        {"--clean-seeds -3", 2, "--clean-seeds: '-3'"},
                        {"--events-bar 1e3", 2, "--events-bar: '1e3'"},
                        {"--run-limit-s -1", 2, "--run-limit-s"},
                        {"--run-limit-s 99999999999", 2, "--run-limit-s"},
                        {"--shrink-runs 99999999999", 2, "--shrink-runs"},
                        {"run --seed -1", 2, "--seed: '-1' is not a non-negative whole number"},
                        {"sweep --seeds 1..99999999999999999999", 2, "bad --seeds"},
                        {"run --test-abort-seed -1", 2, "--test-abort-seed"},
                    });
}

TEST(MutantsCli, HelpAndVersionExit0) {
  EXPECT_TRUE(exits_with(kBin + " --help", 0, "Exit status (the report and every verb): 0 ok"));
  for (const char* verb : {"run", "sweep", "replay", "shrink"}) {
    EXPECT_TRUE(exits_with(kBin + " " + verb + " --help", 0, "--json"));
  }
  const Outcome v = run_command(kBin + " --version");
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_EQ(v.output.rfind("mqharness-mutants ", 0), 0u) << v.output;
  EXPECT_GT(v.output.size(), std::string("mqharness-mutants \n").size()) << "no revision: " << v.output;
}

// --json on the report and on every verb: one object on one line, its key naming the
// binary and the verb.
TEST(MutantsCli, JsonOnEveryVerb) {
  const std::string h = temp_path("json-run.jsonl");
  auto j = json_object_of(kBin + " --json --only " + kFault + " --run 2", "mqharness_mutants_report", 1);
  EXPECT_EQ(j.value("fault", ""), kFault) << j.dump();
  EXPECT_TRUE(j.contains("verdicts")) << j.dump();
  EXPECT_EQ(j.value("reproduce", "").rfind(kBin + " --only " + kFault + " --run 2", 0), 0u) << j.dump();
  j = json_object_of(kBin + " run --json --mutant " + kFault + " --seed 2 --history " + h,
                     "mqharness_mutants_run", 1);
  EXPECT_TRUE(j.contains("verdicts") && j.contains("reproduce")) << j.dump();
  EXPECT_NE(j.value("reproduce", "").find(" run --mutant " + kFault), std::string::npos) << j.dump();
  j = json_object_of(kBin + " replay --json --mutant " + kFault + " " + h, "mqharness_mutants_replay", 1);
  EXPECT_TRUE(j.contains("verdicts")) << j.dump();
  j = json_object_of(kBin + " sweep --json --seeds 1..2 --no-shadow", "mqharness_mutants_sweep", 0);
  EXPECT_TRUE(j.contains("summary")) << j.dump();
  // --json before the verb is the verb's too, not the report's.
  json_object_of(kBin + " --json sweep --seeds 1..1 --no-shadow", "mqharness_mutants_sweep", 0);
  // Usage errors of a verb given --json are objects too.
  json_object_of(kBin + " --json --no-such-option", "mqharness_mutants_report", 2);
  json_object_of(kBin + " --json --run 1", "mqharness_mutants_report", 2);
  for (const char* verb : {"run", "sweep", "replay", "shrink"}) {
    json_object_of(kBin + " " + verb + " --json --no-such-option", std::string("mqharness_mutants_") + verb,
                   2);
  }
  std::remove(h.c_str());
  std::remove((h + ".run.json").c_str());
}

// The report itself, on one fault and one seed: its object names each fault, and its
// reproducer (written with --reproducer) replays from any directory with the fault
// the run file records.
TEST(MutantsCli, ReportJsonAndItsReproducer) {
  const std::string dir = temp_dir("report");
  // The production build's control, embedded with --clean-log.
  ASSERT_EQ(
      std::system(("cd " + dir + " && " + MQ_HARNESS_BIN + " sweep --seeds 1..1 --no-shadow > sweep.log 2>&1")
                      .c_str()),
      0);
  const std::string cmd =
      "cd " + dir + " && " + kBin + " --json --only " + kFault +
      " --seeds 2..2 --clean-seeds 1 --no-explore --shrink-runs 4 --events-bar 0 --out report.md "
      "--reproducer shrunk.jsonl --clean-log sweep.log";
  const auto j = json_object_of(cmd, "mqharness_mutants_report", 0);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.value("report", ""), dir + "/report.md") << j.dump();
  ASSERT_TRUE(j.contains("faults") && j["faults"].size() == 1) << j.dump();
  const auto& f = j["faults"][0];
  EXPECT_EQ(f.value("fault", ""), kFault) << j.dump();
  EXPECT_TRUE(f.value("caught", false)) << j.dump();
  EXPECT_EQ(f.value("reproduce", "").rfind("/", 0), 0u) << j.dump();
  EXPECT_TRUE(exits_with("cd / && " + f.value("reproduce", std::string("false")), 1, "reproduce: "));
  EXPECT_NE(read_file(dir + "/report.md").find("PASS: 1 seeds of 'default'"), std::string::npos)
      << read_file(dir + "/report.md");
  const std::string meta = read_file(dir + "/shrunk.jsonl.run.json");
  EXPECT_NE(meta.find("\"fault\": \"" + kFault + "\""), std::string::npos) << meta;
  EXPECT_NE(meta.find("\"build\": "), std::string::npos) << meta;
  // --replay takes the fault from the run file; a contradicting --only is refused.
  EXPECT_TRUE(exits_with("cd / && " + kBin + " --replay " + dir + "/shrunk.jsonl", 1, "REPRODUCED"));
  EXPECT_TRUE(exits_with(kBin + " --replay " + dir + "/shrunk.jsonl --only ttl-off-by-one", 2,
                         "records the fault '" + kFault + "', not --only ttl-off-by-one"));
  std::system(("rm -rf '" + dir + "'").c_str());
}

// A shrunk reproducer whose scenario the shrinker cut (here a restart as a new
// process and a queue) is not `--run` with overrides: its reproduce line writes the
// run file and replays it, and that reproduces the failure from any directory.
// The fault fails `recovery` at its first crash (the twin check, sim/crash_twin.h);
// shrunk for each property that failed (RunVerdict::shrink_targets), the reproducer
// is a prefix within the bar of 20 events (5 on 2026-12-03).
TEST(MutantsCli, AShrunkScenarioIsReproducedThroughItsRunFile) {
  const std::string dir = temp_dir("shrunk");
  const std::string fault = "forget-in-flight-on-recovery";
  const auto j = json_object_of(
      "cd " + dir + " && " + kBin + " --json --only " + fault + " --seeds 1..1 --clean-seeds 1 --no-explore --out -",
      "mqharness_mutants_report", 0);
  ASSERT_TRUE(j.is_object() && j.contains("faults") && j["faults"].size() == 1) << j.dump();
  EXPECT_LE(j["faults"][0].value("reproducer_events", 0), 20) << j.dump();
  EXPECT_EQ(j.value("over_events_bar", -1), 0) << j.dump();
  const std::string line = j["faults"][0].value("reproduce", "");
  ASSERT_NE(line.find(" --reproducer shrunk.jsonl; "), std::string::npos) << line;
  EXPECT_TRUE(exits_with("cd " + dir + " && " + line, 1, "REPRODUCED"));
  std::system(("rm -rf '" + dir + "'").c_str());
}

// Reproduce lines name the binary and the files absolutely; a run file records the
// fault it ran with, and a replay with another fault (or the production binary) is
// refused instead of diverging for no visible reason.
TEST(MutantsCli, ReproduceLinesAndRunFilesCarryTheFault) {
  const std::string dir = temp_dir("reproduce");
  const Outcome ran = run_command("cd " + dir + " && " + kBin + " --only " + kFault + " --run 2 2>&1");
  ASSERT_EQ(ran.status, 1) << ran.output;
  const std::string again = line_after(ran.output, "reproduce: ");
  ASSERT_EQ(again.rfind(kBin + " ", 0), 0u) << ran.output;
  EXPECT_TRUE(exits_with("cd / && " + again, 1, "reproduce: " + again));

  const Outcome run = run_command("cd " + dir + " && " + kBin + " run --mutant " + kFault +
                                  " --seed 2 --no-shadow --history h.jsonl 2>&1");
  ASSERT_EQ(run.status, 1) << run.output;
  const std::string replay = line_after(run.output, "(replay with: ");
  const std::string cmd = replay.substr(0, replay.rfind(')'));
  EXPECT_EQ(cmd, kBin + " replay --mutant " + kFault + " " + dir + "/h.jsonl") << run.output;
  EXPECT_TRUE(exits_with("cd / && " + cmd, 1, "REPRODUCED"));
  const std::string meta = read_file(dir + "/h.jsonl.run.json");
  EXPECT_NE(meta.find("\"fault\": \"" + kFault + "\""), std::string::npos) << meta;
  EXPECT_TRUE(exits_with(kBin + " replay " + dir + "/h.jsonl", 2,
                         "recorded with the fault '" + kFault + "' switched on, replayed with 'none'"));
  EXPECT_TRUE(exits_with(std::string(MQ_HARNESS_BIN) + " replay " + dir + "/h.jsonl", 2,
                         "replay it with: mqharness-mutants replay --mutant " + kFault));
  // The run file beside the history is generated: missing, it is named as such.
  std::remove((dir + "/h.jsonl.run.json").c_str());
  EXPECT_TRUE(exits_with(kBin + " --replay " + dir + "/h.jsonl", 2,
                         dir + "/h.jsonl.run.json: no such file: the run file that --reproducer"));
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
