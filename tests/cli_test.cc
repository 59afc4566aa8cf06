// The command-line convention (README "Exit status", issue 14), tested on the built
// binary per verb: 0 ok, 1 a property violated, 2 a usage or input error, 3 a bound
// reached without a verdict; an unknown subcommand is named; unsigned numbers are
// never wrapped; --version names the revision; and the hostile inputs that used to
// crash, spin or mislead now get a clear answer.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/run_command.h"

namespace {

using mq::test::Outcome;

// Runs `BINARY ARGS` (a shell word list; mqharness by default) with a bounded output read.
// `redirect`: what happens to standard error (by default it joins the output).
Outcome run(const std::string& args, const std::string& binary = MQ_HARNESS_BIN,
            const std::string& redirect = " 2>&1") {
  return mq::test::run_command(binary + " " + args + redirect);
}

std::string temp_path(const std::string& name) { return mq::test::temp_path("cli_test", name); }

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = temp_path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

#define EXPECT_RUN(args, want_status, want_text)                                            \
  do {                                                                                      \
    const Outcome o_ = run(args);                                                           \
    EXPECT_EQ(o_.status, (want_status)) << (args) << "\n" << o_.output;                     \
    EXPECT_NE(o_.output.find(want_text), std::string::npos) << (args) << "\n" << o_.output; \
  } while (0)

TEST(Cli, UsageErrorsExit2AndNameTheProblem) {
  EXPECT_RUN("", 2, "A subcommand is required");
  EXPECT_RUN("frobnicate", 2, "unknown subcommand 'frobnicate' (one of: walk, explore, check");
  // An option no verb has, per verb: CLI11's own codes (104-115) are not leaked. A
  // verb with a required argument names that first.
  for (const char* verb : {"walk", "explore", "audit", "complexity", "run", "sweep"}) {
    EXPECT_RUN(std::string(verb) + " --no-such-option", 2, "--no-such-option");
  }
  EXPECT_RUN("check --no-such-option", 2, "file is required");
  EXPECT_RUN("replay --no-such-option", 2, "file is required");
  EXPECT_RUN("shrink --no-such-option", 2, "--seed is required");
  EXPECT_RUN("live --no-such-option", 2, "--target is required");
  EXPECT_RUN("check", 2, "file is required");
}

TEST(Cli, HelpAndVersionExit0) {
  EXPECT_RUN("--help", 0, "Exit status (every verb): 0 ok");
  const Outcome v = run("--version");
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_EQ(v.output.rfind("mqharness ", 0), 0u) << v.output;
  EXPECT_GT(v.output.size(), std::string("mqharness \n").size()) << "no revision: " << v.output;
}

TEST(Cli, UnsignedNumbersAreNeverWrapped) {
  EXPECT_RUN("run --seed -1", 2, "--seed: '-1' is not a non-negative whole number");
  EXPECT_RUN("run --seed 99999999999999999999", 2, "--seed: '99999999999999999999' is too large");
  EXPECT_RUN("shrink --seed 1x", 2, "--seed: '1x' is not a non-negative whole number");
  EXPECT_RUN("sweep --keep-runs -1", 2, "--keep-runs: '-1'");
  EXPECT_RUN("explore --max-states -5", 2, "--max-states: '-5'");
  EXPECT_RUN("walk --steps 0", 2, "--steps");
  EXPECT_RUN("sweep --seeds 5..1", 2, "bad --seeds '5..1'");
  EXPECT_RUN("sweep --seeds 1..99999999999999999999", 2, "bad --seeds");
  // Signed and real numbers: negative, not finite or too large are refused too.
  for (const char* bad : {"--rate nan", "--rate -1", "--consume-rate inf", "--op-timeout-ms -5",
                          "--drain-timeout 99999999999", "--message-bytes 99999999999999", "--duration nan",
                          "--duration inf", "--duration 1e300s", "--duration -5s"}) {
    EXPECT_RUN(std::string("live --target mqd/always ") + bad, 2,
               std::string(bad).substr(0, std::string(bad).find(' ')));
  }
}

// Issue 14: a billion-seed range with a shard of one seed ran out of memory listing
// the seeds; a range near 2^64 with a huge shard count spun through the whole range.
// Both now run their few seeds at once (the shard is arithmetic).
TEST(Cli, HugeSeedRangesWithSmallShardsRunAtOnce) {
  EXPECT_RUN("sweep --seeds 1..1000000000 --shard 5/1000000000", 0, "shard 5/1000000000: 1 runs");
  // In constant memory: under a 1 GiB address-space limit (the billion seeds alone
  // would take 8 GB; the run took 35 MB of RSS, measured 2026-12-02).
  const Outcome bounded =
      run("", "ulimit -v 1048576 && " MQ_HARNESS_BIN " sweep --seeds 1..1000000000 --shard 5/1000000000");
  EXPECT_EQ(bounded.status, 0) << bounded.output;
  EXPECT_NE(bounded.output.find("shard 5/1000000000: 1 runs"), std::string::npos) << bounded.output;
  EXPECT_RUN("sweep --seeds 1..9999999999999999999 --shard 5/9000000000000000000 --no-shadow", 0,
             "shard 5/9000000000000000000: 2 runs");
}

TEST(Cli, RunThenCheckFindsTheTopologyInTheRunFile) {
  const std::string h = temp_path("run.jsonl");
  EXPECT_RUN("run --seed 3 --history " + h, 0, "PASS: seed 3");
  // The run ran to quiescence and says so in its run file: check judges completeness.
  EXPECT_RUN("check " + h, 0, "complete (the run file records it ran to quiescence)");
  std::ifstream meta(h + ".run.json");
  const std::string text((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"quiescent\": true"), std::string::npos) << text;
  std::remove((h + ".run.json").c_str());
  EXPECT_RUN("check " + h, 2, "needs its topology");
  std::remove(h.c_str());
}

// A generated file that no longer belongs to what it describes is named as such: the
// run file beside a history that was changed after the run, and a generated document
// that is missing (not "stale") or a directory, each before minutes of work.
TEST(Cli, StaleOrMissingGeneratedFilesEachHaveTheirOwnMessage) {
  const std::string h = temp_path("stale.jsonl");
  EXPECT_RUN("run --seed 3 --no-shadow --history " + h, 0, "PASS: seed 3");
  EXPECT_RUN("check " + h, 0, "complete (the run file records it ran to quiescence)");
  // The history loses its last event: the run file's topology and quiescence are no
  // longer known to be this history's.
  ASSERT_EQ(std::system(("sed -i '$d' '" + h + "'").c_str()), 0);
  EXPECT_RUN("check " + h, 2, h + ".run.json: stale: it records ");
  EXPECT_RUN("check " + h, 2, "(the history changed after the run wrote both)");
  std::remove(h.c_str());
  std::remove((h + ".run.json").c_str());
  // audit --check: a missing document and a directory, before the audit runs.
  EXPECT_RUN("audit --check --out /nonexistent/theorems.md", 2,
             "/nonexistent/theorems.md: no such file; generate it with: mqharness audit --out");
  EXPECT_RUN("audit --check --out " + ::testing::TempDir(), 2, "is a directory, not a file");
  EXPECT_RUN("audit --out /nonexistent/dir/theorems.md", 2, "its directory /nonexistent/dir does not exist");
}

// --version is recorded in every run file, and replay names the build that wrote a
// run when it is not this one.
TEST(Cli, RunFilesRecordTheBuildAndReplayNamesAnother) {
  const Outcome v = run("--version");
  ASSERT_EQ(v.status, 0) << v.output;
  const std::string revision = v.output.substr(std::string("mqharness ").size(),
                                               v.output.find('\n') - std::string("mqharness ").size());
  const std::string h = temp_path("build.jsonl");
  EXPECT_RUN("run --seed 2 --no-shadow --history " + h, 0, "PASS: seed 2");
  std::ifstream in(h + ".run.json");
  auto meta = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(meta.is_object());
  EXPECT_EQ(meta.value("build", ""), revision) << meta.dump();
  const Outcome same = run("replay " + h);
  EXPECT_EQ(same.status, 0) << same.output;
  EXPECT_EQ(same.output.find("recorded by build"), std::string::npos) << same.output;
  meta["build"] = "0000000-elsewhere";
  std::ofstream(h + ".run.json", std::ios::trunc) << meta.dump(2) << "\n";
  EXPECT_RUN("replay " + h, 0, "replay: recorded by build 0000000-elsewhere, replayed by build " + revision);
  std::remove(h.c_str());
  std::remove((h + ".run.json").c_str());
}

TEST(Cli, CheckExitStatusesAndPreciseErrors) {
  EXPECT_RUN(std::string("check ") + MQ_TEST_DATA_DIR "/jepsen/queue-ok.jsonl", 0, "Jepsen queue history");
  EXPECT_RUN(std::string("check ") + MQ_TEST_DATA_DIR "/jepsen/queue-lost.jsonl", 1, "Jepsen queue history");
  EXPECT_RUN(std::string("check ") + MQ_TEST_DATA_DIR "/jepsen/queue-ok.jsonl --complete", 2,
             "--complete applies to mqharness histories");
  EXPECT_RUN(std::string("check ") + MQ_TEST_DATA_DIR "/histories/example.jsonl --fifo", 2,
             "--fifo applies to Jepsen queue histories");
  EXPECT_RUN("check /nonexistent/h.jsonl", 2, "/nonexistent/h.jsonl: no such file");
  EXPECT_RUN("check " + ::testing::TempDir(), 2, "is a directory, not a file");
  // The other verbs' files: a directory and a missing file, each its own message,
  // before any work (run --history used to simulate first, then fail to open).
  const std::string dir = ::testing::TempDir();
  EXPECT_RUN("replay " + dir, 2, "is a directory, not a file");
  EXPECT_RUN("replay /nonexistent/h.jsonl", 2, "/nonexistent/h.jsonl: no such file");
  EXPECT_RUN("run --scenario " + dir, 2, "is a directory, not a file");
  EXPECT_RUN("run --scenario /nonexistent/s.json", 2, "/nonexistent/s.json: no such file");
  EXPECT_RUN("run --history " + dir, 2, "is a directory, not a file");
  EXPECT_RUN("run --history /nonexistent/h.jsonl", 2, "its directory /nonexistent does not exist");
  EXPECT_RUN("shrink --seed 1 --history " + dir, 2, "is a directory, not a file");
  EXPECT_RUN("explore --config " + dir, 2, "is a directory, not a file");
  EXPECT_RUN("explore --config /nonexistent/c.json", 2, "/nonexistent/c.json: no such file");
  EXPECT_RUN("sweep --merge /nonexistent/out", 2, "/nonexistent/out: no such file");
  // Line 1 gets the same precise message as any other line.
  const std::string bad = write_file("line1.jsonl", "{\"v\":1,\"time\":\n");
  EXPECT_RUN("check " + bad, 2, bad + ":1: not valid JSON at byte");
  // A Jepsen value nested 100,000 deep crashed the checker; now it is refused.
  const std::string deep =
      write_file("deep.jsonl", "{\"process\":0,\"type\":\"invoke\",\"f\":\"enqueue\",\"value\":" +
                                   std::string(100'000, '[') + std::string(100'000, ']') + "}\n");
  EXPECT_RUN("check " + deep, 2, deep + ":1: nested deeper than 128 levels");
  std::remove(bad.c_str());
  std::remove(deep.c_str());
}

TEST(Cli, CheckReadsStandardInput) {
  const std::string data = MQ_TEST_DATA_DIR;
  EXPECT_RUN("check - < " + data + "/jepsen/queue-lost.jsonl", 1, "<stdin>: Jepsen queue history");
  EXPECT_RUN("check - --topology " + data + "/histories/example.jsonl.topology.json < " + data +
                 "/histories/example.jsonl",
             0, "<stdin>: mqharness history");
  EXPECT_RUN("check - < " + data + "/histories/example.jsonl", 2, "needs --topology");
}

// The daemon and the mutants binary follow the same convention.
TEST(Cli, MqdAndMutantsBinaryExit2OnUsageErrors) {
  for (const char* binary : {MQ_MQD_BIN, MQ_MUTANTS_BIN}) {
    const Outcome bad = run("--no-such-option", binary);
    EXPECT_EQ(bad.status, 2) << binary << "\n" << bad.output;
    EXPECT_NE(bad.output.find("--no-such-option"), std::string::npos) << bad.output;
  }
  const Outcome wrapped = run("run --seed -1", MQ_MUTANTS_BIN);
  EXPECT_EQ(wrapped.status, 2) << wrapped.output;
  EXPECT_NE(wrapped.output.find("--seed: '-1' is not a non-negative whole number"), std::string::npos)
      << wrapped.output;
  // mqd's own inputs: a port that is not one, a data directory that cannot be one.
  const std::string file = write_file("not-a-dir", "x");
  for (const auto& [args, text] : std::vector<std::pair<std::string, std::string>>{
           {"--data /tmp --listen 127.0.0.1:80x", "the port must be a number in 0..65535, got '80x'"},
           {"--data /tmp --listen 127.0.0.1:99999", "got '99999'"},
           {"--data /tmp --listen 127.0.0.1:-1", "got '-1'"},
           {"--data " + file, "--data: " + file + ": not a directory"},
           {"--data " + file + "/sub/dir", file + " is not a directory"},
       }) {
    // Bounded: were the input accepted, the daemon would serve until stopped.
    const Outcome o = run(args, "timeout 10 " MQ_MQD_BIN);
    EXPECT_EQ(o.status, 2) << args << "\n" << o.output;
    EXPECT_NE(o.output.find(text), std::string::npos) << args << "\n" << o.output;
  }
  std::remove(file.c_str());
  const Outcome version = run("--version", MQ_MQD_BIN);
  EXPECT_EQ(version.status, 0) << version.output;
  EXPECT_EQ(version.output.rfind("mqd ", 0), 0u) << version.output;
}

// 3: a bound reached without a verdict (a merge missing a shard).
TEST(Cli, MissingShardsExit3) {
  const std::string dir = temp_path("sweep-out");
  EXPECT_RUN("sweep --seeds 1..2 --shard 0/2 --no-shadow --out " + dir, 0, "PASS");
  EXPECT_RUN("sweep --merge " + dir, 3, "MISSING: shard 1/2");
  std::system(("rm -rf '" + dir + "'").c_str());
}

// --json on every verb: standard output is exactly one JSON object on one line, the
// verb's version key first, its exit status and outcome in it (the text went to
// standard error). Usage errors of a verb with --json are objects too.
void expect_json(const std::string& verb, const std::string& args, int want_status,
                 const std::vector<std::string>& want_keys = {}) {
  const auto j = mq::test::json_object_of(std::string(MQ_HARNESS_BIN) + " " + verb + " --json " + args,
                                          "mqharness_" + verb, want_status);
  for (const auto& key : want_keys) EXPECT_TRUE(j.contains(key)) << key << " missing: " << j.dump();
}

TEST(Cli, JsonOnEveryVerb) {
  const std::string data = MQ_TEST_DATA_DIR;
  const std::string h = temp_path("json-run.jsonl");
  expect_json("run", "--seed 3 --no-shadow --history " + h, 0, {"verdicts", "seed", "history"});
  expect_json("replay", h, 0, {"verdicts"});
  expect_json("sweep", "--seeds 1..2 --no-shadow", 0, {"summary"});
  expect_json("check", data + "/jepsen/queue-ok.jsonl", 0, {"verdicts", "format"});
  expect_json("check", data + "/jepsen/queue-lost.jsonl", 1, {"verdicts", "reproduce"});
  expect_json("check", data + "/histories/example.jsonl", 0, {"verdicts"});
  expect_json("check", "/nonexistent/h.jsonl", 2);
  expect_json("explore", "--config " MQ_SOURCE_DIR "/configs/explore-small.json --max-states 20", 3,
              {"states", "complete", "bound"});
  expect_json("walk", "--seeds 1..2 --steps 50", 0, {"walks", "steps"});
  // The verbs that take minutes on their own: their usage errors, as objects.
  for (const char* verb : {"shrink", "audit", "complexity", "live"}) expect_json(verb, "--no-such-option", 2);
  std::remove(h.c_str());
  std::remove((h + ".run.json").c_str());
}

// Reproduce lines name the binary and every file absolutely: run from another
// directory they do the same thing.
TEST(Cli, ReproduceLinesRunFromAnyDirectory) {
  const std::string data = MQ_TEST_DATA_DIR;
  // check: a violation, the file given relative to where it ran.
  const Outcome failed = run("", "cd " + data + " && " MQ_HARNESS_BIN " check jepsen/queue-lost.jsonl");
  ASSERT_EQ(failed.status, 1) << failed.output;
  const auto line = mq::test::line_after;
  const std::string again = line(failed.output, "reproduce: ");
  ASSERT_FALSE(again.empty()) << failed.output;
  EXPECT_EQ(again.rfind("/", 0), 0u) << again;
  const Outcome elsewhere = run("", "cd / && " + again);
  EXPECT_EQ(elsewhere.status, 1) << again << "\n" << elsewhere.output;
  EXPECT_NE(elsewhere.output.find("lost-count 1"), std::string::npos) << elsewhere.output;
  // run --history: its replay line, from another directory.
  const std::string dir = temp_path("reproduce-dir");
  std::system(("mkdir -p '" + dir + "'").c_str());
  const Outcome ran =
      run("", "cd " + dir + " && " MQ_HARNESS_BIN " run --seed 2 --no-shadow --history h.jsonl");
  ASSERT_EQ(ran.status, 0) << ran.output;
  const std::string replay = line(ran.output, "(replay with: ");
  ASSERT_FALSE(replay.empty()) << ran.output;
  const std::string cmd = replay.substr(0, replay.rfind(')'));
  EXPECT_EQ(cmd.rfind("/", 0), 0u) << cmd;
  const Outcome replayed = run("", "cd / && " + cmd);
  EXPECT_EQ(replayed.status, 0) << cmd << "\n" << replayed.output;
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
