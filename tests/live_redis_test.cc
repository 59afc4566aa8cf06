// Short live runs against redis-server (each about 12 s): a durable configuration
// under kill and pause loses nothing; the deliberately lossy configuration (no
// persistence) loses acknowledged messages under kill and the checker flags it; the
// command line runs a partition and exits as documented.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "live/live_run.h"
#include "live/process.h"

namespace mq::live {
namespace {

// Processes whose working directory is under `dir` (pid and command line, one per
// line): a server a run left behind works in its run directory, whatever its command
// line says (redis-server rewrites its own to "redis-server HOST:PORT", which
// `pgrep -f DIR` cannot see).
std::string processes_in(const std::string& dir) {
  std::string found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = entry.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const std::string cwd = std::filesystem::read_symlink(entry.path() / "cwd", ec).string();
    if (ec || cwd.rfind(dir, 0) != 0) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.empty()) {  // a process between fork and exec has none yet
      std::ifstream comm(entry.path() / "comm");
      std::getline(comm, cmdline);
    }
    found += pid + ": " + cmdline + " (in " + cwd + ")\n";
  }
  return found;
}

bool redis_installed() {
  return capture_command({"redis-server", "--version"}, std::chrono::milliseconds(5000)).ok();
}

class LiveRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!redis_installed()) GTEST_SKIP() << "redis-server is not installed (scripts/setup.sh installs it)";
    auto dir = TempDir::make("mq-live-redis-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
  }

  LiveOptions options(const std::string& target, const std::string& config, std::vector<FaultKind> faults,
                      uint64_t seed) const {
    LiveOptions o;
    o.target = target;
    o.config = config;
    o.duration_ms = 10'000;
    o.faults = std::move(faults);
    o.workload.seed = seed;
    o.workload.rate = 300;
    o.workload.consume_rate = 250;  // a backlog for the kill to hit (50/s), small enough to drain fast
    o.history_path = dir_->path() + "/history.jsonl";
    o.drain_quiet = std::chrono::milliseconds(1000);
    // A bound on liveness, not a speed test: a loaded 2-core machine drains ~500
    // messages in seconds; the run ends as soon as the consumers are quiet.
    o.drain_timeout = std::chrono::milliseconds(30'000);
    o.powerfs_binary = MQ_POWERFS_BIN;
    o.progress_every = std::chrono::seconds(100);
    return o;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(LiveRedisTest, AofAlwaysLosesNothingUnderKillAndPause) {
  auto r = run_live(options("redis-list", "aof-always", {FaultKind::kKill, FaultKind::kPause}, 1), stdout);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::fputs(verdict_table(*r).c_str(), stdout);
  EXPECT_TRUE(r->claim.no_loss);
  EXPECT_FALSE(r->schedule.empty());
  EXPECT_GT(r->total.acknowledged_count, 1000u);
  EXPECT_EQ(r->total.lost_count, 0u) << to_string(r->total);
  EXPECT_EQ(r->total.unexpected_count, 0u);
  EXPECT_TRUE(r->drained);
  EXPECT_FALSE(r->violation);
  EXPECT_TRUE(r->nemesis.errors.empty()) << r->nemesis.errors.front();
}

TEST_F(LiveRedisTest, NoPersistenceLosesAcknowledgedMessagesUnderKillAndTheCheckerFlagsIt) {
  auto r = run_live(options("redis-list", "none", {FaultKind::kKill}, 3), stdout);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::fputs(verdict_table(*r).c_str(), stdout);
  ASSERT_GE(r->nemesis.injected[static_cast<int>(FaultKind::kKill)], 1);
  EXPECT_GT(r->total.lost_count, 0u) << "a kill of a server without persistence with a backlog must lose it";
  EXPECT_FALSE(r->total.valid);
  // The configuration does not claim durability across a restart: consistent, unless --strict.
  EXPECT_FALSE(r->claim.no_loss);
  EXPECT_FALSE(r->violation);
  LiveResult strict = *r;
  judge(strict, /*strict=*/true);
  EXPECT_TRUE(strict.violation);
  // `check` reads the same history and calls it invalid.
  auto ops = read_jepsen_history(dir_->path() + "/history.jsonl");
  ASSERT_TRUE(ops.ok());
  EXPECT_EQ(check_total_queue(*ops).lost_count, r->total.lost_count);
}

// The command line, with a partition: the namespace is created and removed.
TEST_F(LiveRedisTest, CommandRunsAPartitionAndLeavesNoNamespace) {
  if (::geteuid() != 0) GTEST_SKIP() << "partitions need root (network namespaces); uid " << ::geteuid();
  const std::string out = dir_->path() + "/out.txt";
  const std::string cmd =
      std::string(MQ_HARNESS_BIN) +
      " live --target redis-stream/aof-everysec --nemesis partition --duration 10s --seed 4 "
      "--history " +
      dir_->path() + "/h.jsonl --drain-timeout 30 > " + out + " 2>&1";
  const int status = std::system(cmd.c_str());
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_NE(text.find("summary: target=redis-stream config=aof-everysec nemesis=partition"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("lost=0 "), std::string::npos) << text;
  // The run's own namespace (named in its header) is gone.
  const size_t at = text.find("in network namespace ");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string name = text.substr(at + 21, text.find('\n', at) - at - 21);
  auto netns = capture_command({"ip", "netns", "list"}, std::chrono::milliseconds(5000));
  ASSERT_TRUE(netns.ok());
  EXPECT_EQ(netns->find(name), std::string::npos) << name << " is still there:\n" << *netns;
  std::ifstream h(dir_->path() + "/h.jsonl");
  std::stringstream hs;
  hs << h.rdbuf();
  EXPECT_NE(hs.str().find("\"f\":\"partition\""), std::string::npos);
  EXPECT_NE(hs.str().find("\"f\":\"heal\""), std::string::npos);
}

// SIGINT in the middle of a run: exit 130, and the server, the namespace and the
// mount the run made are gone.
TEST_F(LiveRedisTest, InterruptStopsTheServerAndRemovesNamespaceAndMount) {
  if (::geteuid() != 0) GTEST_SKIP() << "partitions and FUSE need root; uid " << ::geteuid();
  const std::string out = dir_->path() + "/interrupted.txt";
  auto harness = std::make_unique<ServerProcess>();
  ASSERT_TRUE(harness
                  ->start({{MQ_HARNESS_BIN, "live", "--target", "redis-list/aof-always", "--nemesis",
                            "partition,power", "--duration", "30s", "--seed", "5", "--history",
                            dir_->path() + "/i.jsonl"},
                           {},
                           out,
                           ""})
                  .ok());
  std::string text;
  for (int i = 0; i < 200 && text.find("t=") == std::string::npos; ++i) {  // the first progress line
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  ASSERT_NE(text.find("in network namespace "), std::string::npos) << text;
  const size_t ns_at = text.find("in network namespace ") + 21;
  const std::string ns = text.substr(ns_at, text.find('\n', ns_at) - ns_at);
  const size_t dir_at = text.find("run dir: ") + 9;
  const std::string run_dir = text.substr(dir_at, text.find('\n', dir_at) - dir_at);
  ASSERT_TRUE(harness->signal(SIGINT).ok());
  for (int i = 0; i < 200 && harness->running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(harness->running());
  EXPECT_EQ(harness->last_exit(), "exit 130");
  auto netns = capture_command({"ip", "netns", "list"}, std::chrono::milliseconds(5000));
  ASSERT_TRUE(netns.ok());
  EXPECT_EQ(netns->find(ns), std::string::npos) << ns << " is still there";
  auto procs = capture_command({"pgrep", "-f", run_dir}, std::chrono::milliseconds(5000));
  ASSERT_TRUE(procs.ok());
  EXPECT_EQ(*procs, "") << "processes of " << run_dir << " still run";
  EXPECT_EQ(processes_in(run_dir), "") << "processes still work in " << run_dir;
  std::ifstream mounts("/proc/self/mountinfo");
  std::stringstream ms;
  ms << mounts.rdbuf();
  EXPECT_EQ(ms.str().find(run_dir), std::string::npos) << run_dir << " is still mounted";
  std::error_code ec;
  std::filesystem::remove_all(run_dir, ec);  // kept by the handler for its logs
}

}  // namespace
}  // namespace mq::live
