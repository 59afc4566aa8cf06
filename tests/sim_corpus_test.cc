// The regression corpus (tests/corpus/): recorded runs and traces, replayed by the
// built binary as CI would. A run must be REPRODUCED event for event with its
// verdicts unchanged; the no-heal run must still fail liveness; a trace of the clean
// model reproduces on BrokerCore and one of a broken model (reversed priority)
// diverges from it. Regenerate a file with the command in tests/corpus/README.md
// when a deliberate change alters the simulator's histories.

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

struct Replay {
  std::string out;
  int status = -1;
};

Replay replay(const std::string& file) {
  const std::string cmd = std::string("cd ") + MQ_CORPUS_DIR + " && " + MQ_HARNESS_BIN + " replay " + file + " 2>&1";
  Replay r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (fgets(buf, sizeof buf, p) != nullptr) r.out += buf;
  const int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool has(const Replay& r, const std::string& s) { return r.out.find(s) != std::string::npos; }

TEST(SimCorpus, RecordedRunsReproduceAndPass) {
  for (const char* f : {"stormy-seed3.jsonl", "volatile-id-after-crash.jsonl"}) {
    const Replay r = replay(f);
    EXPECT_TRUE(has(r, "REPRODUCED")) << f << "\n" << r.out;
    EXPECT_EQ(r.status, 0) << f << "\n" << r.out;
  }
}

TEST(SimCorpus, BitFlipIsStillDetected) {
  const Replay r = replay("bit-flip-detected.jsonl");
  EXPECT_TRUE(has(r, "REPRODUCED")) << r.out;
  EXPECT_TRUE(has(r, "disk: ok: DETECTED")) << r.out;
  EXPECT_EQ(r.status, 0) << r.out;
}

TEST(SimCorpus, ShrunkNoHealRunStillFailsLiveness) {
  const Replay r = replay("no-heal-liveness.jsonl");
  EXPECT_TRUE(has(r, "REPRODUCED")) << r.out;
  EXPECT_TRUE(has(r, "liveness: FAIL")) << r.out;
  EXPECT_TRUE(has(r, "broker is still down")) << r.out;
  EXPECT_EQ(r.status, 1) << r.out;
}

TEST(SimCorpus, TracesReplayOnTheCore) {
  const Replay clean = replay("clean-model.trace.jsonl");
  EXPECT_TRUE(has(clean, "REPRODUCED")) << clean.out;
  EXPECT_EQ(clean.status, 0) << clean.out;
  const Replay flawed = replay("reversed-priority.trace.jsonl");
  EXPECT_TRUE(has(flawed, "DIVERGES at event")) << flawed.out;
  EXPECT_EQ(flawed.status, 1) << flawed.out;
}

}  // namespace
