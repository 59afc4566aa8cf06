#include "apps/sweep_summary.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "formats/json_config.h"

namespace mq::app {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSummaryPrefix = "{\"mqharness_sweep\":";
constexpr uint64_t kSummaryVersion = 1;

unsigned long long ull(uint64_t v) {
  return static_cast<unsigned long long>(v);
}

std::string range_text(uint64_t first, uint64_t last) {
  return std::to_string(first) + ".." + std::to_string(last);
}

std::string shard_text(uint64_t shard, uint64_t shards) {
  return std::to_string(shard) + "/" + std::to_string(shards);
}

// Digits only, no sign, and the value fits: "18446744073709551616" is refused, not wrapped.
bool parse_u64(const std::string& s, uint64_t& out) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  out = std::strtoull(s.c_str(), nullptr, 10);
  return errno == 0;
}

// "A..B" with A <= B (the summary always writes both ends).
bool parse_range(const std::string& text, uint64_t& first, uint64_t& last) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  return parse_u64(text.substr(0, dots), first) && parse_u64(text.substr(dots + 2), last) && first <= last;
}

Status read_property(const nlohmann::json& p, const std::string& where, const std::string& path, Tally& t) {
  if (!p.is_object()) return invalid_argument(where + ": " + path + ": not an object");
  JsonFields f(p, where, path);
  std::string name;
  PropertyTally x;
  f.str("name", name, true).u64("seeds", x.seeds, true).u64("violations", x.violations, true);
  if (const nlohmann::json* first = f.child("first_failing_seed"); first != nullptr && !first->is_null()) {
    if (!first->is_number_unsigned())
      return invalid_argument(where + ": " + path + "/first_failing_seed: not a seed");
    x.first_failing_seed = first->get<uint64_t>();
  }
  MQ_RETURN_IF_ERROR(f.finish());
  if (!t.emplace(name, x).second)
    return invalid_argument(where + ": " + path + ": property '" + name + "' twice");
  return Status();
}

Status read_failing(const nlohmann::json& a, const std::string& where, std::vector<FailingSeed>& out) {
  if (!a.is_array()) return invalid_argument(where + ": /failing: not an array");
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string path = "/failing/" + std::to_string(i);
    if (!a[i].is_object()) return invalid_argument(where + ": " + path + ": not an object");
    JsonFields f(a[i], where, path);
    FailingSeed s;
    f.u64("seed", s.seed, true).str("failure", s.failure, true).str("reproduce", s.reproduce, true);
    MQ_RETURN_IF_ERROR(f.finish());
    out.push_back(std::move(s));
  }
  return Status();
}

Status read_timing(const nlohmann::json* j, const std::string& where, SweepSummary& s) {
  if (j == nullptr) return Status();
  if (!j->is_object()) return invalid_argument(where + ": /timing: not an object");
  JsonFields f(*j, where, "/timing");
  f.u64("cpu_ms", s.cpu_ms).u64("wall_ms", s.wall_ms);
  return f.finish();
}

}  // namespace

bool parse_shard(const std::string& text, uint64_t& shard, uint64_t& shards) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) return false;
  return parse_u64(text.substr(0, slash), shard) && parse_u64(text.substr(slash + 1), shards) && shards > 0 &&
         shard < shards;
}

std::string sweep_mismatch(const SweepSummary& a, const SweepSummary& b) {
  if (a.scenario != b.scenario) return "scenario '" + b.scenario + "', not '" + a.scenario + "'";
  if (a.build != b.build) return "build '" + b.build + "', not '" + a.build + "'";
  if (a.shadow != b.shadow)
    return std::string("shadow ") + (b.shadow ? "on" : "off") + ", not " + (a.shadow ? "on" : "off");
  if (a.first_seed != b.first_seed || a.last_seed != b.last_seed) {
    return "seeds " + range_text(b.first_seed, b.last_seed) + ", not " +
           range_text(a.first_seed, a.last_seed);
  }
  if (a.shards != b.shards) return std::to_string(b.shards) + " shards, not " + std::to_string(a.shards);
  return "";
}

namespace {

void add_into(SweepSummary& into, const SweepSummary& s) {
  into.runs += s.runs;
  for (const auto& [name, p] : s.properties) {
    PropertyTally& x = into.properties[name];
    x.seeds += p.seeds;
    x.violations += p.violations;
    if (p.first_failing_seed && (!x.first_failing_seed || *p.first_failing_seed < *x.first_failing_seed)) {
      x.first_failing_seed = p.first_failing_seed;
    }
  }
  into.failing.insert(into.failing.end(), s.failing.begin(), s.failing.end());
  into.cpu_ms += s.cpu_ms;
  into.wall_ms += s.wall_ms;
}

// Checks each shard's run count and seeds, and fills `report` with what is wrong.
void check_shards(const std::vector<SourcedSummary>& parts, const std::vector<std::vector<size_t>>& by_shard,
                  MergeReport& report) {
  for (uint64_t i = 0; i < by_shard.size(); ++i) {
    const auto& holders = by_shard[i];
    if (holders.empty()) {
      report.missing.push_back(i);
      continue;
    }
    if (holders.size() > 1) {
      std::string where;
      for (size_t k : holders) where += (where.empty() ? "" : ", ") + parts[k].source;
      report.errors.push_back("shard " + shard_text(i, by_shard.size()) + " counted twice: " + where);
    }
    for (size_t k : holders) {
      const SweepSummary& s = parts[k].summary;
      const uint64_t expected = seeds_in_shard(s.first_seed, s.last_seed, i, s.shards);
      if (s.runs != expected) {
        report.errors.push_back(parts[k].source + ": shard " + shard_text(i, s.shards) + " ran " +
                                std::to_string(s.runs) + " seeds, its share of " +
                                range_text(s.first_seed, s.last_seed) + " is " + std::to_string(expected));
      }
      for (const auto& f : s.failing) {
        if (f.seed < s.first_seed || f.seed > s.last_seed || f.seed % s.shards != i) {
          report.errors.push_back(parts[k].source + ": failing seed " + std::to_string(f.seed) +
                                  " is not in shard " + shard_text(i, s.shards));
        }
      }
    }
  }
}

}  // namespace

uint64_t seeds_in_shard(uint64_t first, uint64_t last, uint64_t index, uint64_t count) {
  MQ_CHECK(first <= last && index < count);
  MQ_CHECK_MSG(first > 0 || last < UINT64_MAX || count > 1, "2^64 seeds: the count does not fit");
  // Seeds s <= x with s % count == index: none below index, then one every `count`.
  auto upto = [&](uint64_t x) -> uint64_t { return x < index ? 0 : (x - index) / count + 1; };
  return upto(last) - (first == 0 ? 0 : upto(first - 1));
}

ShardSeeds::ShardSeeds(uint64_t first, uint64_t last, uint64_t index, uint64_t count)
    : step_(count), size_(seeds_in_shard(first, last, index, count)) {
  // The first s >= first with s % count == index; it exists (and cannot overflow) when
  // the shard has a seed, since it is then <= last.
  const uint64_t r = first % count;
  first_ = size_ == 0 ? 0 : first + (index >= r ? index - r : count - (r - index));
}

uint64_t ShardSeeds::at(uint64_t k) const {
  MQ_CHECK(k < size_);
  return first_ + k * step_;  // <= last: no overflow
}

void tally_run(Tally& t, uint64_t seed, const std::vector<std::pair<std::string, bool>>& verdicts) {
  for (const auto& [property, held] : verdicts) {
    PropertyTally& p = t[property];
    ++p.seeds;
    if (held) continue;
    ++p.violations;
    if (!p.first_failing_seed || seed < *p.first_failing_seed) p.first_failing_seed = seed;
  }
}

std::string summary_line(const SweepSummary& s) {
  nlohmann::ordered_json props = nlohmann::ordered_json::array();
  for (const auto& [name, p] : s.properties) {
    nlohmann::ordered_json x;
    x["name"] = name;
    x["seeds"] = p.seeds;
    x["violations"] = p.violations;
    x["first_failing_seed"] = p.first_failing_seed ? nlohmann::ordered_json(*p.first_failing_seed) : nullptr;
    props.push_back(std::move(x));
  }
  nlohmann::ordered_json failing = nlohmann::ordered_json::array();
  for (const auto& f : s.failing) {
    nlohmann::ordered_json x;
    x["seed"] = f.seed;
    x["failure"] = f.failure;
    x["reproduce"] = f.reproduce;
    failing.push_back(std::move(x));
  }
  // Keys in this order: "mqharness_sweep" first (readers find the line by its prefix),
  // "timing" last (what differs between two runs of the same sweep).
  nlohmann::ordered_json j;
  j["mqharness_sweep"] = kSummaryVersion;
  j["scenario"] = s.scenario;
  j["build"] = s.build;
  j["shadow"] = s.shadow;
  j["seeds"] = range_text(s.first_seed, s.last_seed);
  j["shard"] = shard_text(s.shard, s.shards);
  j["runs"] = s.runs;
  j["properties"] = props;
  j["failing"] = failing;
  j["timing"]["cpu_ms"] = s.cpu_ms;
  j["timing"]["wall_ms"] = s.wall_ms;
  return j.dump();
}

Result<SweepSummary> summary_from_json(const nlohmann::json& j, const std::string& where) {
  SweepSummary s;
  JsonFields f(j, where, "");
  uint64_t version = 0;
  std::string seeds, shard;
  f.u64("mqharness_sweep", version, true).str("scenario", s.scenario, true).str("build", s.build);
  f.boolean("shadow", s.shadow).str("seeds", seeds, true).str("shard", shard, true).u64("runs", s.runs, true);
  const nlohmann::json* props = f.child("properties");
  const nlohmann::json* failing = f.child("failing");
  const nlohmann::json* timing = f.child("timing");
  MQ_RETURN_IF_ERROR(f.finish());
  if (version != kSummaryVersion) {
    return invalid_argument(where + ": /mqharness_sweep: version " + std::to_string(version) + " is not " +
                            std::to_string(kSummaryVersion));
  }
  if (!parse_range(seeds, s.first_seed, s.last_seed) || (s.first_seed == 0 && s.last_seed == UINT64_MAX)) {
    return invalid_argument(where + ": /seeds: expected 'A..B' with A <= B (fewer than 2^64 seeds), got '" +
                            seeds + "'");
  }
  if (!parse_shard(shard, s.shard, s.shards) || s.shards > kMaxMergeShards) {
    return invalid_argument(where + ": /shard: expected 'i/n' with i < n <= " +
                            std::to_string(kMaxMergeShards) + ", got '" + shard + "'");
  }
  if (props == nullptr || !props->is_array())
    return invalid_argument(where + ": /properties: missing or not an array");
  for (size_t i = 0; i < props->size(); ++i) {
    MQ_RETURN_IF_ERROR(read_property((*props)[i], where, "/properties/" + std::to_string(i), s.properties));
  }
  if (failing != nullptr) MQ_RETURN_IF_ERROR(read_failing(*failing, where, s.failing));
  MQ_RETURN_IF_ERROR(read_timing(timing, where, s));
  return s;
}

Result<std::vector<SourcedSummary>> read_summaries(const std::string& path) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.status();
  std::vector<SourcedSummary> out;
  std::istringstream in(*text);
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.starts_with(kSummaryPrefix)) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) return invalid_argument(where + ": a summary line that is not valid JSON");
    auto s = summary_from_json(j, where);
    if (!s.ok()) return s.status();
    out.push_back({where, std::move(*s)});
  }
  return out;
}

std::string shard_path(const std::string& dir, uint64_t shard, uint64_t shards) {
  return dir + "/shards/" + std::to_string(shard) + "-of-" + std::to_string(shards) + ".json";
}

std::string run_path(const std::string& dir, uint64_t seed) {
  return dir + "/runs/seed-" + std::to_string(seed) + ".jsonl";
}

std::string summary_path(const std::string& dir) {
  return dir + "/summary.json";
}

Status make_out_dir(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"/shards", "/runs"}) {
    fs::create_directories(dir + sub, ec);
    if (ec) return io_error(dir + sub + ": cannot create the directory: " + ec.message());
  }
  return Status();
}

namespace {

// Through a temporary file and a rename: a reader sees the old file or the whole new one.
Status write_summary_file(const std::string& path, const SweepSummary& s) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << summary_line(s) << "\n";
    out.flush();
    if (!out) return io_error(tmp + ": cannot write");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return io_error(path + ": cannot rename " + tmp + " to it: " + ec.message());
  return Status();
}

}  // namespace

Status write_shard(const std::string& dir, const SweepSummary& s) {
  return write_summary_file(shard_path(dir, s.shard, s.shards), s);
}

Result<std::vector<SourcedSummary>> read_shard_dir(const std::string& dir) {
  const std::string shards = dir + "/shards";
  std::error_code ec;
  if (!fs::is_directory(shards, ec)) {
    return not_found(shards + ": no such directory (not a sweep's --out directory?)");
  }
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(shards, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.ends_with(".json")) files.push_back(entry.path().string());
  }
  if (ec) return io_error(shards + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end());  // the directory's order is the file system's
  std::vector<SourcedSummary> out;
  for (const auto& file : files) {
    auto parts = read_summaries(file);
    if (!parts.ok()) return parts.status();
    if (parts->size() != 1) {
      return invalid_argument(file + ": expected one summary line, found " + std::to_string(parts->size()));
    }
    out.push_back(std::move(parts->front()));
  }
  if (out.empty()) return not_found(shards + ": no shard summaries (*.json) yet");
  return out;
}

MergeReport merge_summaries(const std::vector<SourcedSummary>& parts) {
  MQ_CHECK(!parts.empty());
  MergeReport report;
  const SweepSummary& first = parts.front().summary;
  report.shards = first.shards;
  for (const auto& p : parts) {
    if (const std::string what = sweep_mismatch(first, p.summary); !what.empty()) {
      report.errors.push_back(p.source + ": from another sweep (" + what + " as in " + parts.front().source +
                              ")");
    }
  }
  if (!report.errors.empty()) return report;
  std::vector<std::vector<size_t>> by_shard(first.shards);
  for (size_t k = 0; k < parts.size(); ++k) by_shard[parts[k].summary.shard].push_back(k);
  check_shards(parts, by_shard, report);
  if (!report.errors.empty() || !report.missing.empty()) return report;
  SweepSummary merged = first;
  merged.shard = 0;
  merged.shards = 1;
  merged.runs = 0;
  merged.properties.clear();
  merged.failing.clear();
  merged.cpu_ms = merged.wall_ms = 0;
  for (const auto& p : parts) add_into(merged, p.summary);
  std::sort(merged.failing.begin(), merged.failing.end(),
            [](const FailingSeed& a, const FailingSeed& b) { return a.seed < b.seed; });
  // Every shard ran exactly its share, none twice, none missing: so the whole range.
  MQ_CHECK(merged.runs == seeds_in_shard(first.first_seed, first.last_seed, 0, 1));
  report.merged = std::move(merged);
  return report;
}

Result<MergeReport> merge_out_dir(const std::string& dir) {
  auto parts = read_shard_dir(dir);
  if (!parts.ok()) return parts.status();
  MergeReport report = merge_summaries(*parts);
  if (report.merged) {
    MQ_RETURN_IF_ERROR(write_summary_file(summary_path(dir), *report.merged));
  } else {
    std::error_code ec;
    fs::remove(summary_path(dir), ec);  // from an earlier merge; absent is fine
  }
  return report;
}

int print_summary(const SweepSummary& s, const std::vector<std::string>& order, size_t max_failing,
                  const std::string& runs_dir) {
  size_t shown = 0;
  for (const auto& f : s.failing) {
    if (shown++ >= max_failing) break;
    std::printf("FAIL seed %llu: %s\n  reproduce: %s\n", ull(f.seed), f.failure.c_str(), f.reproduce.c_str());
    if (runs_dir.empty()) continue;
    const std::string history = run_path(runs_dir, f.seed);
    std::error_code ec;
    if (fs::exists(history, ec)) std::printf("  history: %s\n", history.c_str());
  }
  if (max_failing > 0 && s.failing.size() > max_failing)
    std::printf("... and %zu more failing seeds\n", s.failing.size() - max_failing);
  std::printf("%-14s %8s %10s  %s\n", "property", "seeds", "violations", "first failing seed");
  auto row = [&](const std::string& name, const PropertyTally& p) {
    std::printf("%-14s %8llu %10llu  %s\n", name.c_str(), ull(p.seeds), ull(p.violations),
                p.first_failing_seed ? std::to_string(*p.first_failing_seed).c_str() : "-");
  };
  for (const auto& name : order) {
    if (const auto it = s.properties.find(name); it != s.properties.end()) row(name, it->second);
  }
  for (const auto& [name, p] : s.properties) {
    if (std::find(order.begin(), order.end(), name) == order.end()) row(name, p);
  }
  const bool violated = std::any_of(s.properties.begin(), s.properties.end(),
                                    [](const auto& kv) { return kv.second.violations > 0; });
  if (!violated && s.failing.empty()) {
    std::printf("PASS: %llu seeds of '%s', every property held in every run\n", ull(s.runs),
                s.scenario.c_str());
  } else {
    std::printf(
        "FAIL: %zu of %llu seeds of '%s' broke a property (listed above, with their reproduce lines)\n",
        s.failing.size(), ull(s.runs), s.scenario.c_str());
  }
  return violated || !s.failing.empty() ? 1 : 0;
}

void print_cost(const SweepSummary& s) {
  if (s.cpu_ms == 0 || s.runs == 0) return;
  const double cpu_s = static_cast<double>(s.cpu_ms) / 1000;
  const double per_s = static_cast<double>(s.runs) / cpu_s;
  std::printf(
      "cost: %llu runs in %.1f CPU s (%.1f s elapsed, summed over shards): %.2f seeds per CPU second; "
      "10^6 seeds: %.1f core-hours\n",
      ull(s.runs), cpu_s, static_cast<double>(s.wall_ms) / 1000, per_s, 1e6 / per_s / 3600);
}

}  // namespace mq::app
