// Short live runs against the project's own daemon (each about 12 s): mqd --fsync
// always under kill and pause loses nothing, under failed syncs it stops, comes back
// and loses nothing, and mqd --fsync never under power loss
// (the FUSE layer that forgets what was not fsynced) loses acknowledged messages,
// which the checker flags and the configuration's claim expects.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "live/live_run.h"
#include "live/process.h"

namespace mq::live {
namespace {

class LiveMqdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("MQ_MQD", MQ_MQD_BIN, 1);
    auto dir = TempDir::make("mq-live-mqd-test-");
    ASSERT_TRUE(dir.ok());
    dir_ = std::make_unique<TempDir>(std::move(dir).value());
  }

  LiveOptions options(const std::string& config, std::vector<FaultKind> faults, uint64_t seed) const {
    LiveOptions o;
    o.target = "mqd";
    o.config = config;
    o.duration_ms = 10'000;
    o.faults = std::move(faults);
    o.workload.seed = seed;
    o.workload.rate = 300;
    o.workload.consume_rate = 250;  // a backlog for the faults to hit
    o.history_path = dir_->path() + "/history.jsonl";
    o.drain_quiet = std::chrono::milliseconds(1000);
    o.drain_timeout = std::chrono::milliseconds(30'000);
    o.powerfs_binary = MQ_POWERFS_BIN;
    o.progress_every = std::chrono::seconds(100);
    return o;
  }

  std::unique_ptr<TempDir> dir_;
};

TEST_F(LiveMqdTest, FsyncAlwaysLosesNothingUnderKillAndPause) {
  auto r = run_live(options("always", {FaultKind::kKill, FaultKind::kPause}, 1), stdout);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::fputs(verdict_table(*r).c_str(), stdout);
  EXPECT_TRUE(r->claim.no_loss);
  ASSERT_GE(r->nemesis.injected[static_cast<int>(FaultKind::kKill)], 1);
  EXPECT_GT(r->total.acknowledged_count, 1000u);
  EXPECT_EQ(r->total.lost_count, 0u) << to_string(r->total);
  EXPECT_EQ(r->total.unexpected_count, 0u);
  EXPECT_TRUE(r->drained);
  EXPECT_FALSE(r->violation);
}

// Failed syncs (libfiu): mqd fails stop, closes its connections, and restarts from its
// log once the fault is healed; nothing confirmed is lost and the queue drains.
TEST_F(LiveMqdTest, FsyncAlwaysSurvivesFailedSyncsAndComesBack) {
  if (!capture_command({"fiu-run", "-h"}, std::chrono::milliseconds(5000)).ok() &&
      !capture_command({"sh", "-c", "command -v fiu-run"}, std::chrono::milliseconds(5000)).ok()) {
    GTEST_SKIP() << "fiu-run is not installed (Debian package fiu-utils; scripts/setup.sh installs it)";
  }
  auto r = run_live(options("always", {FaultKind::kDisk}, 7), stdout);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::fputs(verdict_table(*r).c_str(), stdout);
  ASSERT_GE(r->nemesis.injected[static_cast<int>(FaultKind::kDisk)], 1);
  EXPECT_TRUE(r->nemesis.errors.empty()) << r->nemesis.errors.front();  // injected and healed
  EXPECT_EQ(r->total.lost_count, 0u) << to_string(r->total);
  EXPECT_TRUE(r->drained);
  EXPECT_FALSE(r->violation);
}

TEST_F(LiveMqdTest, FsyncNeverLosesAcknowledgedMessagesOnPowerLossAndTheCheckerFlagsIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "the power-loss layer is a FUSE mount, which needs root; uid " << ::geteuid();
  auto r = run_live(options("never", {FaultKind::kPowerLoss}, 2), stdout);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::fputs(verdict_table(*r).c_str(), stdout);
  ASSERT_GE(r->nemesis.injected[static_cast<int>(FaultKind::kPowerLoss)], 1);
  EXPECT_FALSE(r->claim.no_loss);
  EXPECT_GT(r->total.lost_count, 0u) << "confirmed writes in the page cache must go with the power";
  EXPECT_FALSE(r->total.valid);
  EXPECT_FALSE(r->violation);  // the configuration does not claim durability there
}

}  // namespace
}  // namespace mq::live
