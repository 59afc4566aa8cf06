// apps/sweep_summary.h: the shard summary's line format, the output directory, and the
// merge that must refuse shards that do not make one sweep.
#include "apps/sweep_summary.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>

namespace mq::app {
namespace {

constexpr uint64_t kFirst = 3;
constexpr uint64_t kLast = 22;
constexpr uint64_t kShards = 4;

// Seeds 7 and 12 fail (shards 3 and 0 of 4): what a sweep of 3..22 would report.
SweepSummary shard_of(uint64_t shard, uint64_t shards, uint64_t first = kFirst, uint64_t last = kLast) {
  SweepSummary s;
  s.scenario = "default";
  s.build = "build/apps/mqharness";
  s.first_seed = first;
  s.last_seed = last;
  s.shard = shard;
  s.shards = shards;
  for (uint64_t seed = first; seed <= last; ++seed) {
    if (seed % shards != shard) continue;
    const bool bad = seed == 7 || seed == 12;
    tally_run(s.properties, seed, {{"shadow", !bad}, {"integrity", true}});
    if (bad)
      s.failing.push_back(
          {seed, "shadow: diverge", "build/apps/mqharness run --seed " + std::to_string(seed)});
    ++s.runs;
  }
  s.cpu_ms = 100 + shard;
  s.wall_ms = 200 + shard;
  return s;
}

std::vector<SourcedSummary> all_shards() {
  std::vector<SourcedSummary> parts;
  for (uint64_t i = 0; i < kShards; ++i) parts.push_back({"shard" + std::to_string(i), shard_of(i, kShards)});
  return parts;
}

std::string without_timing(const std::string& line) {
  return line.substr(0, line.find(",\"timing\""));
}

TEST(SweepSummary, SeedsInShardIsTheCount) {
  for (uint64_t first = 0; first < 12; ++first) {
    for (uint64_t last = first; last < 30; ++last) {
      for (uint64_t n = 1; n < 7; ++n) {
        for (uint64_t i = 0; i < n; ++i) {
          uint64_t count = 0;
          for (uint64_t s = first; s <= last; ++s) count += s % n == i ? 1 : 0;
          ASSERT_EQ(seeds_in_shard(first, last, i, n), count)
              << first << ".." << last << " " << i << "/" << n;
        }
      }
    }
  }
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(seeds_in_shard(0, kMax - 1, 0, 1), kMax);
  EXPECT_EQ(seeds_in_shard(0, kMax, 3, 4), kMax / 4 + 1);
  EXPECT_EQ(seeds_in_shard(kMax - 9, kMax, 0, 1), 10u);
  EXPECT_EQ(seeds_in_shard(1, 1'000'000, 999, 1000), 1000u);
}

TEST(SweepSummary, ShardsParseOnlyWhenInRange) {
  uint64_t i = 9, n = 9;
  EXPECT_TRUE(parse_shard("3/4", i, n));
  EXPECT_EQ(i, 3u);
  EXPECT_EQ(n, 4u);
  EXPECT_TRUE(parse_shard("0/18446744073709551615", i, n));
  EXPECT_EQ(n, std::numeric_limits<uint64_t>::max());
  for (const char* bad :
       {"4/4", "1/0", "3", "/4", "3/", "-1/4", "+1/4", "1/18446744073709551616", "1 /4", "a/b"}) {
    EXPECT_FALSE(parse_shard(bad, i, n)) << bad;
  }
}

TEST(SweepSummary, LineRoundTripsWithVersionFirstAndTimingLast) {
  const SweepSummary s = shard_of(3, kShards);
  const std::string line = summary_line(s);
  EXPECT_EQ(line.rfind("{\"mqharness_sweep\":1,", 0), 0u) << line;
  EXPECT_NE(line.find(",\"timing\":{\"cpu_ms\":103,\"wall_ms\":203}}"), std::string::npos) << line;
  auto back = summary_from_json(nlohmann::json::parse(line), "x:1");
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(summary_line(*back), line);
  ASSERT_EQ(back->failing.size(), 1u);
  EXPECT_EQ(back->failing[0].seed, 7u);
}

TEST(SweepSummary, ReadErrorsNameTheFileLineAndField) {
  auto j = nlohmann::json::parse(summary_line(shard_of(0, kShards)));
  j["shard"] = "4/4";
  auto r = summary_from_json(j, "out.txt:9");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().to_string().find("out.txt:9: /shard: expected 'i/n'"), std::string::npos)
      << r.status().to_string();
  j = nlohmann::json::parse(summary_line(shard_of(0, kShards)));
  j["runs"] = -1;
  r = summary_from_json(j, "out.txt:9");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().to_string().find("/runs"), std::string::npos) << r.status().to_string();
  j = nlohmann::json::parse(summary_line(shard_of(0, kShards)));
  j["surprise"] = 1;
  EXPECT_FALSE(summary_from_json(j, "out.txt:9").ok());
}

TEST(SweepSummary, MergedShardsEqualOneSweepOfTheRangeApartFromTiming) {
  const MergeReport report = merge_summaries(all_shards());
  ASSERT_TRUE(report.errors.empty()) << report.errors.front();
  ASSERT_TRUE(report.missing.empty());
  ASSERT_TRUE(report.merged.has_value());
  const SweepSummary whole = shard_of(0, 1);
  EXPECT_EQ(without_timing(summary_line(*report.merged)), without_timing(summary_line(whole)));
  EXPECT_EQ(report.merged->cpu_ms, 100u + 101 + 102 + 103);
  ASSERT_EQ(report.merged->failing.size(), 2u);
  EXPECT_EQ(report.merged->failing[0].seed, 7u);  // in seed order, whichever shard came first
  EXPECT_EQ(report.merged->failing[1].seed, 12u);
  // A merge of the merged summary is itself: a local sweep's summary.json is one.
  const MergeReport again = merge_summaries({{"summary.json", *report.merged}});
  ASSERT_TRUE(again.merged.has_value());
  EXPECT_EQ(summary_line(*again.merged), summary_line(*report.merged));
}

TEST(SweepSummary, MergeNamesTheMissingShards) {
  auto parts = all_shards();
  parts.erase(parts.begin() + 2);
  parts.erase(parts.begin());
  const MergeReport report = merge_summaries(parts);
  EXPECT_TRUE(report.errors.empty());
  EXPECT_EQ(report.missing, (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(report.shards, kShards);
  EXPECT_FALSE(report.merged.has_value());
}

TEST(SweepSummary, MergeRefusesAShardCountedTwice) {
  auto parts = all_shards();
  parts.push_back({"copy-of-1", shard_of(1, kShards)});
  const MergeReport report = merge_summaries(parts);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0], "shard 1/4 counted twice: shard1, copy-of-1");
  EXPECT_FALSE(report.merged.has_value());
}

TEST(SweepSummary, MergeRefusesAShardThatRanTheWrongSeeds) {
  auto parts = all_shards();
  parts[1].summary.runs -= 1;
  parts[3].summary.failing.push_back({9, "x", "y"});  // 9 % 4 == 1: not shard 3's seed
  const MergeReport report = merge_summaries(parts);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_EQ(report.errors[0], "shard1: shard 1/4 ran 4 seeds, its share of 3..22 is 5");
  EXPECT_EQ(report.errors[1], "shard3: failing seed 9 is not in shard 3/4");
}

TEST(SweepSummary, MergeRefusesShardsOfAnotherSweep) {
  auto parts = all_shards();
  parts[2] = {"other", shard_of(2, kShards, kFirst, kLast + 4)};
  MergeReport report = merge_summaries(parts);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0], "other: from another sweep (seeds 3..26, not 3..22 as in shard0)");
  parts = all_shards();
  parts[1].summary.build = "build/mutants/mqharness-mutants --mutant ttl-off-by-one";
  parts[3].summary.shadow = false;
  report = merge_summaries(parts);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_NE(report.errors[0].find("build 'build/mutants/mqharness-mutants --mutant ttl-off-by-one'"),
            std::string::npos);
  EXPECT_NE(report.errors[1].find("shadow off, not on"), std::string::npos);
  parts = all_shards();
  parts[0] = {"six", shard_of(0, 6)};
  EXPECT_EQ(merge_summaries(parts).errors.size(), 3u);  // each of the others disagrees with the first
}

class SweepDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "mq_sweep_summary_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SweepDir, ShardsWrittenAreReadBackInShardOrder) {
  ASSERT_TRUE(make_out_dir(dir_).ok());
  EXPECT_EQ(read_shard_dir(dir_).status().code(), Code::kNotFound);
  for (uint64_t i : {3u, 0u, 2u, 1u}) ASSERT_TRUE(write_shard(dir_, shard_of(i, kShards)).ok());
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/shards/2-of-4.json"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/shards/2-of-4.json.tmp"));
  auto parts = read_shard_dir(dir_);
  ASSERT_TRUE(parts.ok()) << parts.status().to_string();
  ASSERT_EQ(parts->size(), kShards);
  for (uint64_t i = 0; i < kShards; ++i) {
    EXPECT_EQ((*parts)[i].summary.shard, i);
    EXPECT_EQ((*parts)[i].source, shard_path(dir_, i, kShards) + ":1");
  }
  EXPECT_TRUE(merge_summaries(*parts).merged.has_value());
}

TEST_F(SweepDir, TheMergedSummaryIsWrittenOnlyWhenEveryShardIsThere) {
  ASSERT_TRUE(make_out_dir(dir_).ok());
  for (uint64_t i = 0; i < kShards; ++i) ASSERT_TRUE(write_shard(dir_, shard_of(i, kShards)).ok());
  auto report = merge_out_dir(dir_);
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  ASSERT_TRUE(report->merged.has_value());
  auto written = read_summaries(summary_path(dir_));
  ASSERT_TRUE(written.ok()) << written.status().to_string();
  ASSERT_EQ(written->size(), 1u);
  EXPECT_EQ(summary_line(written->front().summary), summary_line(*report->merged));
  // A shard lost afterwards (a rerun in progress): the stale summary goes.
  std::filesystem::remove(shard_path(dir_, 1, kShards));
  report = merge_out_dir(dir_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->missing, (std::vector<uint64_t>{1}));
  EXPECT_FALSE(std::filesystem::exists(summary_path(dir_)));
}

TEST_F(SweepDir, AMalformedShardFileIsNamed) {
  ASSERT_TRUE(make_out_dir(dir_).ok());
  std::ofstream(dir_ + "/shards/0-of-4.json") << "{\"mqharness_sweep\":1,\"scenario\":";
  auto parts = read_shard_dir(dir_);
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().to_string().find("0-of-4.json:1: a summary line that is not valid JSON"),
            std::string::npos)
      << parts.status().to_string();
  std::ofstream(dir_ + "/shards/0-of-4.json") << "no summary here\n";
  parts = read_shard_dir(dir_);
  ASSERT_FALSE(parts.ok());
  EXPECT_NE(parts.status().to_string().find("expected one summary line, found 0"), std::string::npos);
}

TEST_F(SweepDir, ReadingAMissingDirectoryIsNotFound) {
  const auto parts = read_shard_dir(dir_);
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.status().code(), Code::kNotFound);
  EXPECT_NE(parts.status().to_string().find("no such directory"), std::string::npos);
}

}  // namespace
}  // namespace mq::app
