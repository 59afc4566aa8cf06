// The simulated disk: the broker persists through the real write-ahead log over
// MemStorage, and each disk fault happens in a run and is survived or caught:
//  - latency: a durable publish is confirmed only after its group commit;
//  - unsynced writes lost at a crash, and a torn final write: recovery reads the
//    synced log (the torn tail ends it), the shadow model (at the last synced point)
//    agrees, every checker accepts the history;
//  - a bit flip at rest: recovery reports corruption (a frame's CRC, or the segment's
//    magic), the run stops with the fault detected, and the history up to there is
//    still correct;
//  - ENOSPC: writes fail, the broker fail-stops, answers publishes with "no space",
//    the producers back off and resend, and it comes back when space returns.

#include <gtest/gtest.h>

#include "impl/wal_record.h"
#include "properties/checkers/check_all.h"
#include "sim_test_util.h"

namespace mq::sim {
namespace {

nlohmann::json disky(uint32_t torn, uint32_t flip, uint32_t full) {
  nlohmann::json j = test::stormy_json();
  j["faults"]["broker_crash_ppm"] = 50000;
  j["faults"]["torn_write_ppm"] = torn;
  j["faults"]["bit_flip_ppm"] = flip;
  j["faults"]["disk_full_ppm"] = full;
  j["disk"] = {{"latency_ns", {100000, 2000000}}, {"segment_bytes", 8192}, {"checkpoint_bytes", 16384}};
  return j;
}

using test::count;

TEST(SimDisk, UnsyncedWritesAreLostAtCrashesAndTheRunSurvives) {
  const Scenario s = test::scenario_of(disky(0, 0, 0));
  uint64_t lost = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const SimResult r = simulate(s, seed);
    lost += r.disk.unsynced_records_lost;
    EXPECT_GT(r.disk.commits, 0u);
    EXPECT_GT(r.disk.recoveries, 0u);
    EXPECT_EQ(count(r.history, EventF::kUnsyncedLost) > 0, r.disk.unsynced_records_lost > 0);
    EXPECT_TRUE(r.quiescent) << "seed " << seed;
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
  EXPECT_GT(lost, 0u);
}

TEST(SimDisk, SegmentsRollAndCheckpointsHappen) {
  const SimResult r = simulate(test::scenario_of(disky(0, 0, 0)), 2);
  EXPECT_GT(r.disk.checkpoints, 0u);
  EXPECT_TRUE(r.quiescent);
}

TEST(SimDisk, TornWritesEndTheLogAndAreSurvived) {
  const Scenario s = test::scenario_of(disky(1000000, 0, 0));
  uint64_t torn = 0, tails = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const SimResult r = simulate(s, seed);
    torn += r.disk.torn_writes;
    tails += r.disk.torn_tails_seen;
    EXPECT_EQ(count(r.history, EventF::kTornWrite), r.disk.torn_writes);
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
  EXPECT_GT(torn, 0u);
  EXPECT_GT(tails, 0u);  // recovery read a torn tail and treated it as the end of the log
}

// A flip in a frame is caught by its CRC; one in the segment's header by its magic.
TEST(SimDisk, BitFlipIsCaughtAtRecoveryAndReported) {
  const Scenario s = test::scenario_of(disky(0, 1000000, 0));
  uint64_t detected = 0, by_magic = 0, by_checksum = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    const SimResult r = simulate(s, seed);
    if (r.disk.bit_flips == 0) continue;
    ASSERT_TRUE(r.corruption.has_value()) << "seed " << seed << ": a flipped bit must never pass silently";
    EXPECT_FALSE(r.recovery_failure.has_value()) << *r.recovery_failure;
    EXPECT_NE(r.corruption->find("corrupt"), std::string::npos) << *r.corruption;
    ++detected;
    by_magic += r.corruption->find("bad segment magic") != std::string::npos ? 1 : 0;
    by_checksum += r.corruption->find("checksum mismatch") != std::string::npos ? 1 : 0;
    EXPECT_EQ(count(r.history, EventF::kBitFlip), 1u);
    EXPECT_EQ(count(r.history, EventF::kCorruptionDetected), 1u);
    // Nothing of the broker or its clients after it: the broker is out of service.
    bool after = false;
    for (const auto& e : r.history.events) {
      if (after) {
        EXPECT_EQ(e.process, kNemesisProcess) << to_string(e);
      }
      after = after || e.f == EventF::kCorruptionDetected;
    }
    EXPECT_TRUE(r.liveness.empty());  // the run stopped on purpose: not judged
    EXPECT_FALSE(r.divergence.has_value());
    for (const auto& v : check_all(r.history, r.scenario.topology, CheckOptions{.complete = false})) {
      EXPECT_TRUE(v.valid) << "seed " << seed << ": " << to_string(v);
    }
  }
  EXPECT_GT(by_magic, 0u);
  EXPECT_GT(by_checksum, 0u);
  EXPECT_EQ(by_magic + by_checksum, detected);
}

// A log the broker wrote wrong (a well-formed record that does not fit, no bit flipped)
// is not "detected corruption": the run fails, with its own property, from the
// history alone too.
TEST(SimDisk, AnInconsistentLogWithoutAFlipFailsTheRun) {
  const Scenario s = test::scenario_of(disky(0, 0, 0));
  SimOptions o;
  o.inconsistent_log = true;
  const SimResult r = simulate(s, 1, o);
  ASSERT_TRUE(r.recovery_failure.has_value());
  EXPECT_NE(r.recovery_failure->find("which queue"), std::string::npos) << *r.recovery_failure;
  EXPECT_FALSE(r.corruption.has_value());
  EXPECT_EQ(r.disk.bit_flips, 0u);
  EXPECT_EQ(count(r.history, EventF::kRecoveryFailed), 1u);
  bool failed = false;
  for (const auto& v : check_all(r.history, r.scenario.topology, CheckOptions{})) {
    if (v.property == "recovery") failed = !v.valid;
  }
  EXPECT_TRUE(failed) << "the recovery property must fail on this history";
  // The same seed without the hook recovers every time.
  const SimResult clean = simulate(s, 1);
  EXPECT_FALSE(clean.recovery_failure.has_value());
  EXPECT_GT(clean.disk.recoveries, 0u);
}

// A machine without the crc32 instruction (disk.crc32c_table: the table, as mqd on
// ARM computes CRC-32C) writes and recovers the same log: the run is the same run,
// byte for byte, crashes, torn writes and flipped bits included, and the thread's
// own way is given back when the run ends.
TEST(SimDisk, TheTableCrcRunsTheSameRun) {
  nlohmann::json j = disky(300000, 300000, 0);
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    j["disk"]["crc32c_table"] = false;
    const SimResult instruction = simulate(test::scenario_of(j), seed);
    j["disk"]["crc32c_table"] = true;
    const SimResult table = simulate(test::scenario_of(j), seed);
    EXPECT_GT(table.disk.recoveries + table.disk.bit_flips, 0u) << "seed " << seed;
    EXPECT_EQ(table.history_hash, instruction.history_hash) << "seed " << seed;
    EXPECT_EQ(table.corruption, instruction.corruption) << "seed " << seed;
    EXPECT_FALSE(table.recovery_failure.has_value()) << *table.recovery_failure;
    EXPECT_EQ(impl::use_crc32c(impl::Crc32cWay::kInstruction), impl::Crc32cWay::kInstruction);
  }
}

TEST(SimDisk, FullDiskRefusesWritesAndTellsTheProducers) {
  nlohmann::json j = disky(0, 0, 200000);
  j["faults"]["broker_crash_ppm"] = 0;
  j["faults"]["disk_full_ns"] = {20000000, 60000000};
  const Scenario s = test::scenario_of(j);
  uint64_t failures = 0, told = 0;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    const SimResult r = simulate(s, seed);
    EXPECT_GT(r.disk.disk_full, 0u);
    failures += r.disk.write_failures;
    told += r.producers.no_space;
    EXPECT_EQ(count(r.history, EventF::kDiskFull), r.disk.disk_full);
    EXPECT_TRUE(r.quiescent) << "seed " << seed;
    EXPECT_EQ(test::failures(s, r), "") << "seed " << seed;
  }
  EXPECT_GT(failures, 0u);  // a write hit ENOSPC and the broker fail-stopped
  EXPECT_GT(told, 0u);      // ... and producers were answered "no space"
}

TEST(SimDisk, PublishIsConfirmedOnlyAfterTheSync) {
  // A slow disk: every confirmation waits for its group commit, so the run is slower
  // than with a fast disk, and correct either way.
  nlohmann::json slow = disky(0, 0, 0);
  slow.erase("faults");
  slow["disk"]["latency_ns"] = 5000000;
  nlohmann::json fast = slow;
  fast["disk"]["latency_ns"] = 0;
  const Scenario a = test::scenario_of(slow), b = test::scenario_of(fast);
  const SimResult ra = simulate(a, 1), rb = simulate(b, 1);
  EXPECT_EQ(test::failures(a, ra), "");
  EXPECT_EQ(test::failures(b, rb), "");
  EXPECT_GT(ra.end_ns, rb.end_ns);
  EXPECT_LT(ra.disk.commits, ra.disk.records);  // group commit: several records per sync
}

TEST(SimDisk, FaultEventsAreInTheHistory) {
  const SimResult r = simulate(test::scenario_of(test::stormy_json()), 3);
  EXPECT_GT(count(r.history, EventF::kPartition), 0u);
  EXPECT_EQ(count(r.history, EventF::kPartition), count(r.history, EventF::kPartitionEnd));
  EXPECT_GT(count(r.history, EventF::kClog), 0u);
  EXPECT_EQ(count(r.history, EventF::kConsumerCrash), r.faults[sim::FaultKind::kConsumerCrash]);
  EXPECT_EQ(count(r.history, EventF::kConsumerRestart), r.faults[sim::FaultKind::kConsumerCrash]);
  EXPECT_EQ(count(r.history, EventF::kCrash), r.broker.crashes);  // nemesis crashes and fail-stops
}

TEST(SimDisk, ConsumersMayAlsoPull) {
  nlohmann::json j = test::stormy_json();
  j["clients"]["fetch_interval_ns"] = 3000000;
  const Scenario s = test::scenario_of(j);
  const SimResult r = simulate(s, 2);
  EXPECT_GT(r.consumers.fetches, 0u);
  EXPECT_GT(r.broker.fetched, 0u);  // some deliveries were pulls (client deliver events)
  uint64_t pulls = 0;
  for (const auto& e : r.history.events) pulls += e.f == EventF::kDeliver && e.is_client() && e.type == EventType::kOk;
  EXPECT_GT(pulls, 0u);
  EXPECT_EQ(test::failures(s, r), "");
}

}  // namespace
}  // namespace mq::sim
