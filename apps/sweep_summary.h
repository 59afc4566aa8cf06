#pragma once
// A sweep's result as data, and the merge of shards (docs/simulator.md, "Sweeps on
// many machines").
//
// One `SweepSummary` per shard: which seeds (range, shard i/n, runs), what ran them
// (scenario, build, shadow), the tally per property, every failing seed with the line
// that reproduces it, and timings. It is the last line `sweep` prints
// (`{"mqharness_sweep":1,...}`) and, with `--out DIR`, a file in the output directory
// that a local run, GNU parallel, Slurm array tasks and a Kubernetes Indexed Job all
// share:
//
//   DIR/shards/I-of-N.json      one shard's summary (one JSON line), written last and
//                               atomically: its presence means the shard finished
//   DIR/runs/seed-S.jsonl       a failing seed's history (+ seed-S.jsonl.run.json)
//   DIR/summary.json            the merged summary, written only when every shard is
//                               there exactly once: the same bytes a single local
//                               sweep of the whole range writes, apart from "timing"
//
// `merge_summaries` checks that the shards belong to one sweep (same scenario, build,
// shadow, seed range and shard count), that no shard is there twice, that each ran
// exactly the seeds of its residue class, and names every shard that is missing.
//
// Thread-safety: none needed; functions touch only their arguments and the files
// named.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq::app {

struct PropertyTally {
  uint64_t seeds = 0;
  uint64_t violations = 0;
  std::optional<uint64_t> first_failing_seed;
};
using Tally = std::map<std::string, PropertyTally>;

struct FailingSeed {
  uint64_t seed = 0;
  std::string failure;    // the first violated property and the first line of its message
  std::string reproduce;  // the command that re-runs this seed alone
};

struct SweepSummary {
  std::string scenario;     // the scenario's name
  std::string build;        // the program and its fixed arguments ("build/apps/mqharness")
  bool shadow = true;       // the model ran in lockstep
  uint64_t first_seed = 1;  // the whole sweep's range, inclusive
  uint64_t last_seed = 1;
  uint64_t shard = 0;  // this summary's shard: seeds with seed % shards == shard
  uint64_t shards = 1;
  uint64_t runs = 0;
  Tally properties;
  std::vector<FailingSeed> failing;  // in seed order
  // Not part of the result: what it cost (process CPU time and elapsed time, summed
  // over the shards of a merge).
  uint64_t cpu_ms = 0;
  uint64_t wall_ms = 0;
};

// The most shards a merge takes (it keeps a list per shard); `sweep --out` refuses more.
inline constexpr uint64_t kMaxMergeShards = 1'000'000;

// "i/n" with i < n; false when malformed or out of range.
bool parse_shard(const std::string& text, uint64_t& shard, uint64_t& shards);

// Seeds in [first, last] with seed % count == index, computed, not counted.
// REQUIRES: first <= last, index < count.
uint64_t seeds_in_shard(uint64_t first, uint64_t last, uint64_t index, uint64_t count);

// The seeds of one shard as arithmetic, never as a list: the k-th is first() + k *
// step(), for k < size(). Constant memory and time whatever the range (a billion-seed
// range with a shard of five seeds costs five runs, not a billion steps).
class ShardSeeds {
 public:
  // REQUIRES: first <= last, index < count (parse_seed_range and parse_shard hold).
  ShardSeeds(uint64_t first, uint64_t last, uint64_t index, uint64_t count);
  uint64_t size() const { return size_; }
  // The k-th seed of the shard, in increasing order. REQUIRES: k < size().
  uint64_t at(uint64_t k) const;

 private:
  uint64_t first_ = 0;  // the shard's smallest seed (meaningless when size_ == 0)
  uint64_t step_ = 1;
  uint64_t size_ = 0;
};

// Adds one run's verdicts (property, held) to `t`.
void tally_run(Tally& t, uint64_t seed, const std::vector<std::pair<std::string, bool>>& verdicts);

// One line of JSON that starts with {"mqharness_sweep":1 and ends with "timing".
std::string summary_line(const SweepSummary& s);
// The inverse; errors name `where` (file and line) and the field.
Result<SweepSummary> summary_from_json(const nlohmann::json& j, const std::string& where);

// The summary lines of a sweep's output (any other line is skipped) or of a shard file.
struct SourcedSummary {
  std::string source;  // "FILE:LINE"
  SweepSummary summary;
};
Result<std::vector<SourcedSummary>> read_summaries(const std::string& path);

// "" when `b` belongs to the same sweep as `a` (scenario, build, shadow, seed range,
// shard count); else what differs, for a message.
std::string sweep_mismatch(const SweepSummary& a, const SweepSummary& b);

// The output directory's layout.
std::string shard_path(const std::string& dir, uint64_t shard, uint64_t shards);
std::string run_path(const std::string& dir, uint64_t seed);
std::string summary_path(const std::string& dir);
// Creates DIR/shards and DIR/runs. kIoError naming the directory.
Status make_out_dir(const std::string& dir);
// Writes `s` as DIR/shards/I-of-N.json (one line), through a temporary file and a
// rename, so a reader never sees half a summary.
Status write_shard(const std::string& dir, const SweepSummary& s);
// Every DIR/shards/*.json; kNotFound when the directory holds none.
Result<std::vector<SourcedSummary>> read_shard_dir(const std::string& dir);

struct MergeReport {
  std::vector<std::string> errors;     // shards that do not belong, counted twice, or wrong run counts
  std::vector<uint64_t> missing;       // shard indices nobody reported
  uint64_t shards = 0;                 // the sweep's shard count
  std::optional<SweepSummary> merged;  // only when there are no errors and nothing is missing
};
// REQUIRES: !parts.empty().
MergeReport merge_summaries(const std::vector<SourcedSummary>& parts);

// Reads DIR's shards and merges them; writes DIR/summary.json when they make the whole
// sweep, else removes a stale one. Errors: reading or writing the directory.
Result<MergeReport> merge_out_dir(const std::string& dir);

// The text a merge or a sweep prints: failing seeds (at most `max_failing`, and a
// count of the rest; 0 when the caller printed them as they were found; with
// `runs_dir`, each one's history when it was kept), the table per property (in
// `order`, harness::judged_properties(); any other property after them, by name),
// then PASS or FAIL. Returns 1 when a property was violated, else 0.
int print_summary(const SweepSummary& s, const std::vector<std::string>& order, size_t max_failing,
                  const std::string& runs_dir);
// "cost: N runs in C CPU s: R seeds per CPU second; 10^6 seeds: H core-hours".
void print_cost(const SweepSummary& s);

}  // namespace mq::app
