#include "sim/shrink.h"

#include <algorithm>
#include <iterator>
#include <tuple>
#include <nlohmann/json.hpp>

namespace mq::sim {
namespace {

// A phase is not cut below this (a shorter one holds no nemesis tick, or no recovery).
constexpr TimeNs kMinFaultyNs = 1'000'000;
constexpr TimeNs kMinHealingNs = 1'000'000;
// The prefix search keeps at most this share of the runs for itself (it needs about
// log2 of the history's length), and doubles a dying run's cap up to this bound.
constexpr uint32_t kMaxPrefixRuns = 32;
constexpr uint64_t kFirstDyingCap = 16;
// Timeouts and periods are not cut below this (shorter ones make timer storms).
constexpr TimeNs kMinPeriodNs = 1'000'000;
// Below this many messages, one fewer is also tried.
constexpr uint64_t kStepDownBelow = 16;
constexpr int64_t kCertain = 1'000'000;  // ppm
constexpr uint64_t kMaxDyingCap = 1ull << 26;

using Json = nlohmann::json;

std::string str(uint64_t v) { return std::to_string(v); }

// The ranges cut to their low end: [section, key].
constexpr std::pair<const char*, const char*> kRanges[] = {
    {"workload", "priority"},       {"workload", "send_gap_ns"},   {"workload", "payload_bytes"},
    {"workload", "ttl_ns"},         {"workload", "delay_ns"},      {"clients", "process_ns"},
    {"clients", "full_backoff_ns"}, {"network", "latency_ns"},     {"network", "slow_latency_ns"},
    {"faults", "broker_down_ns"},   {"faults", "consumer_down_ns"}, {"faults", "partition_ns"},
    {"faults", "clog_ns"},          {"faults", "disk_full_ns"},
};

class Families {
 public:
  Families(const Reproducer& base, std::vector<std::vector<std::string>>* what) : base_(base), what_(what) {
    json_ = Json::parse(base.scenario.text, nullptr, false);
    json_ok_ = json_.is_object() && json_.contains("topology") && json_["topology"].is_object();
    if (json_ok_) base_text_ = json_.dump(2);
  }

  void family() {
    out_.emplace_back();
    if (what_) what_->emplace_back();
  }

  void add(const Reproducer& r, const std::string& what) {
    if (r.overrides == base_.overrides && r.scenario.text == base_.scenario.text &&
        r.stop_after_events == base_.stop_after_events) {
      return;
    }
    out_.back().push_back(r);
    if (what_) what_->back().push_back(what);
  }

  void add_overrides(const SimOverrides& o, const std::string& what) {
    Reproducer r = base_;
    r.overrides = o;
    add(r, what);
  }

  // A changed copy of the scenario's JSON; dropped unless it parses into a scenario.
  void add_json(const Json& changed, const std::string& what) {
    std::string text = changed.dump(2);
    if (text == base_text_) return;
    auto s = scenario_from_text(text, base_.scenario.file);
    if (!s.ok()) return;
    Reproducer r = base_;
    r.scenario = std::move(s).value();
    add(r, what);
  }

  const Reproducer& base() const { return base_; }
  bool json_ok() const { return json_ok_; }
  const Json& json() const { return json_; }
  std::vector<std::vector<Reproducer>> take() {
    std::erase_if(out_, [](const auto& f) { return f.empty(); });
    if (what_) std::erase_if(*what_, [](const auto& f) { return f.empty(); });
    return std::move(out_);
  }

 private:
  const Reproducer& base_;
  std::vector<std::vector<std::string>>* what_;
  Json json_;
  bool json_ok_ = false;
  std::string base_text_;
  std::vector<std::vector<Reproducer>> out_;
};

Json* array_at(Json& j, const char* section, const char* key) {
  if (!j.contains(section) || !j[section].is_object() || !j[section].contains(key)) return nullptr;
  Json& a = j[section][key];
  return a.is_array() ? &a : nullptr;
}

// std::erase_if for a JSON array.
template <class Pred>
void erase_where(Json& array, Pred pred) {
  Json kept = Json::array();
  for (const Json& x : array) {
    if (!pred(x)) kept.push_back(x);
  }
  array = std::move(kept);
}

std::string name_of(const Json& item) {
  return item.is_object() && item.contains("name") && item["name"].is_string() ? item["name"].get<std::string>() : "";
}

// Drops the workload targets that name a queue or topic no longer there; no target
// left: the key goes (the default: every queue that has a consumer).
void prune_targets(Json& j) {
  Json* targets = array_at(j, "workload", "targets");
  if (targets == nullptr) return;
  auto has = [&](const char* list, const std::string& name) {
    const Json* a = array_at(j, "topology", list);
    if (a == nullptr) return false;
    return std::any_of(a->begin(), a->end(), [&](const Json& x) { return name_of(x) == name; });
  };
  erase_where(*targets, [&](const Json& t) {
    if (!t.is_object()) return false;
    if (t.contains("queue") && t["queue"].is_string()) return !has("queues", t["queue"].get<std::string>());
    if (t.contains("topic") && t["topic"].is_string()) return !has("topics", t["topic"].get<std::string>());
    return false;
  });
  if (targets->empty()) j["workload"].erase("targets");
}

// Drops the pull consumers (clients.pull_consumers) no longer in the topology.
void prune_pull_consumers(Json& j) {
  if (!j.contains("clients") || !j["clients"].is_object()) return;
  Json& clients = j["clients"];
  if (!clients.contains("pull_consumers") || !clients["pull_consumers"].is_array()) return;
  const Json* consumers = array_at(j, "topology", "consumers");
  erase_where(clients["pull_consumers"], [&](const Json& n) {
    return consumers == nullptr || !n.is_string() ||
           std::none_of(consumers->begin(), consumers->end(),
                        [&](const Json& c) { return name_of(c) == n.get<std::string>(); });
  });
}

Json without_queue(const Json& in, size_t i) {
  Json j = in;
  Json& queues = j["topology"]["queues"];
  const std::string name = name_of(queues[i]);
  queues.erase(i);
  for (Json& q : queues) {
    if (q.is_object() && q.value("dead_letter_queue", std::string()) == name) q.erase("dead_letter_queue");
  }
  if (Json* consumers = array_at(j, "topology", "consumers")) {
    erase_where(*consumers, [&](const Json& c) { return c.is_object() && c.value("queue", std::string()) == name; });
  }
  if (Json* topics = array_at(j, "topology", "topics")) {
    for (Json& t : *topics) {
      if (t.is_object() && t.contains("queues") && t["queues"].is_array()) {
        erase_where(t["queues"], [&](const Json& n) { return n.is_string() && n.get<std::string>() == name; });
      }
    }
    erase_where(*topics, [](const Json& t) { return t.is_object() && t.contains("queues") && t["queues"].empty(); });
  }
  prune_targets(j);
  prune_pull_consumers(j);
  return j;
}

void message_cuts(Families& f) {
  const Reproducer& b = f.base();
  const uint64_t m = std::min(b.overrides.messages.value_or(b.scenario.workload.messages), b.scenario.workload.messages);
  f.family();
  std::vector<uint64_t> to{1, 2, 3, m / 2, m * 3 / 4, m * 7 / 8};
  if (m < kStepDownBelow) to.push_back(m - 1);
  std::sort(to.begin(), to.end());
  to.erase(std::unique(to.begin(), to.end()), to.end());
  for (const uint64_t n : to) {
    if (n == 0 || n >= m) continue;
    SimOverrides o = b.overrides;
    o.messages = n;
    f.add_overrides(o, "messages " + str(m) + " -> " + str(n));
  }
}

void fault_cuts(Families& f) {
  const Reproducer& b = f.base();
  f.family();
  if ((b.overrides.disabled_faults & kAllFaultBits) != kAllFaultBits) {
    SimOverrides o = b.overrides;
    o.disabled_faults = kAllFaultBits;
    f.add_overrides(o, "every fault kind off");
  }
  for (uint32_t bit = 1; bit <= kAllFaultBits; bit <<= 1) {
    if (b.overrides.disabled_faults & bit) continue;
    SimOverrides o = b.overrides;
    o.disabled_faults |= bit;
    f.add_overrides(o, std::string("fault kind off: ") + fault_bit_name(bit));
  }
  f.family();
  const TimeNs faulty = std::min(b.overrides.faulty_ns.value_or(b.scenario.durations.faulty_ns),
                                 b.scenario.durations.faulty_ns);
  for (const TimeNs to : {TimeNs{0}, faulty / 8, faulty / 2}) {
    if (to >= faulty || (to != 0 && to < kMinFaultyNs)) continue;
    SimOverrides o = b.overrides;
    o.faulty_ns = to;
    f.add_overrides(o, "faulty phase " + str(static_cast<uint64_t>(faulty)) + " -> " + str(static_cast<uint64_t>(to)) + " ns");
  }
}

// One family: a probability `section.key` that a fault kind still on draws from, to
// one point, certain first, then its upper end (a fault that must happen happens at
// once, with fewer messages); the dead-letter share also to 0.
void rate_cut(Families& f, const char* section, const char* key, uint32_t bit) {
  f.family();
  const Json& j = f.json();
  if ((f.base().overrides.disabled_faults & bit) || !j.contains(section) || !j[section].is_object() ||
      !j[section].contains(key)) {
    return;
  }
  const Json& v = j[section][key];
  // Only a range is cut (to a point, so that no two cuts can undo each other).
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer() || v[0] == v[1]) return;
  std::vector<int64_t> to{kCertain};
  if (v[1].get<int64_t>() != kCertain) to.push_back(v[1].get<int64_t>());
  if (std::string(key) == "dead_letter_ppm") to.push_back(0);
  for (const int64_t n : to) {
    Json c = j;
    c[section][key] = n;
    f.add_json(c, std::string(section) + "." + key + " -> " + std::to_string(n));
  }
}

void rate_cuts(Families& f) {
  for (const FaultKind kind : kFaultKindsInCutOrder) {
    const FaultKindInfo info = fault_kind_info(kind);
    for (const char* key : info.knobs) {
      if (key != nullptr) rate_cut(f, info.section, key, fault_bit(kind));
    }
  }
}

// One family: remove one element of topology.<list> (the last first).
void removal_cuts(Families& f, const char* list, size_t keep_at_least) {
  const Json& j = f.json();
  const Json* a = array_at(const_cast<Json&>(j), "topology", list);
  f.family();
  if (a == nullptr || a->size() <= keep_at_least) return;
  for (size_t i = a->size(); i-- > 0;) {
    const std::string what = std::string("removed ") + list + " '" + name_of((*a)[i]) + "'";
    if (std::string(list) == "queues") {
      f.add_json(without_queue(j, i), what);
      continue;
    }
    Json c = j;
    c["topology"][list].erase(i);
    if (std::string(list) == "topics") prune_targets(c);
    if (std::string(list) == "consumers") prune_pull_consumers(c);
    f.add_json(c, what);
  }
}

void target_cuts(Families& f) {
  Json j = f.json();
  Json* targets = array_at(j, "workload", "targets");
  f.family();
  if (targets == nullptr || targets->size() <= 1) return;
  for (size_t i = targets->size(); i-- > 0;) {
    Json c = j;
    c["workload"]["targets"].erase(i);
    f.add_json(c, "removed workload target " + str(i));
  }
}

void healing_cuts(Families& f) {
  const TimeNs h = f.base().scenario.durations.healing_ns;
  f.family();
  for (const TimeNs to : {h / 16, h / 2}) {
    if (to < kMinHealingNs || to >= h) continue;
    Json c = f.json();
    c["durations"]["healing_ns"] = to;
    f.add_json(c, "healing phase " + str(static_cast<uint64_t>(h)) + " -> " + str(static_cast<uint64_t>(to)) + " ns");
  }
}

// For each element of topology.<list>, one family per numeric field: the values
// `to(value)` proposes, biggest cut first.
void field_cuts(Families& f, const char* list, const char* key, uint64_t absent,
                std::vector<uint64_t> (*to)(uint64_t), uint64_t min = 0) {
  const Json* a = array_at(const_cast<Json&>(f.json()), "topology", list);
  if (a == nullptr) return;
  for (size_t i = 0; i < a->size(); ++i) {
    f.family();
    const Json& item = (*a)[i];
    if (!item.is_object()) continue;
    const uint64_t v = item.contains(key) && item[key].is_number_unsigned() ? item[key].get<uint64_t>() : absent;
    for (const uint64_t n : to(v)) {
      if (n >= v || n < min) continue;
      Json c = f.json();
      c["topology"][list][i][key] = n;
      f.add_json(c, std::string(key) + " of '" + name_of(item) + "' " + str(v) + " -> " + str(n));
    }
  }
}

std::vector<uint64_t> to_one_or_half(uint64_t v) { return {1, v / 2}; }
std::vector<uint64_t> to_one_or_less(uint64_t v) { return {1, v > 0 ? v - 1 : 0}; }
std::vector<uint64_t> to_zero_or_half(uint64_t v) { return {0, v / 2}; }
std::vector<uint64_t> to_one(uint64_t) { return {1}; }
std::vector<uint64_t> to_quarter_or_half(uint64_t v) { return {v / 4, v / 2}; }

// Timeouts and periods (durations, one number each) that make a run wait: a quarter,
// then a half, not below kMinPeriodNs.
constexpr std::pair<const char*, const char*> kPeriods[] = {
    {"clients", "publish_timeout_ns"}, {"clients", "ack_timeout_ns"}, {"faults", "tick_ns"},
};

void period_cuts(Families& f) {
  for (const auto& [section, key] : kPeriods) {
    f.family();
    const Json& j = f.json();
    if (!j.contains(section) || !j[section].is_object() || !j[section].contains(key) ||
        !j[section][key].is_number_unsigned()) {
      continue;
    }
    const uint64_t v = j[section][key].get<uint64_t>();
    for (const uint64_t n : to_quarter_or_half(v)) {
      if (n < static_cast<uint64_t>(kMinPeriodNs) || n >= v) continue;
      Json c = j;
      c[section][key] = n;
      f.add_json(c, std::string(section) + "." + key + " " + str(v) + " -> " + str(n));
    }
  }
}

// The client and disk features a seed's swarm may switch on (scenarios/default.json),
// each back to its default, off: a failure that does not need one shrinks without
// it (a broker restarted as a new process, say, makes every consumer reattach).
struct FeatureOff {
  const char* section;
  const char* key;
  Json off;
};

void feature_cuts(Families& f) {
  const FeatureOff kFeaturesOff[] = {
      {"clients", "pull_consumers", Json::array()}, {"clients", "close_on_crash", false},
      {"clients", "stats_interval_ns", 0},          {"disk", "defer_commit", false},
      {"disk", "restart_fresh", false},             {"faults", "disk_failing_ppm", 0},
      {"clients", "resp", false},                   {"clients", "resp_hostile_ppm", 0},
      {"disk", "crc32c_table", false},
  };
  for (const auto& [section, key, off] : kFeaturesOff) {
    f.family();
    const Json& j = f.json();
    if (!j.contains(section) || !j[section].is_object() || !j[section].contains(key) || j[section][key] == off) {
      continue;
    }
    Json c = j;
    c[section][key] = off;
    f.add_json(c, std::string(section) + "." + key + " -> " + off.dump());
  }
}

void workload_cuts(Families& f) {
  for (const char* key : {"ttl_ppm", "delay_ppm", "retries_ppm", "invalid_ppm"}) {
    f.family();
    const Json& j = f.json();
    if (!j.contains("workload") || !j["workload"].contains(key)) continue;
    Json c = j;
    c["workload"][key] = 0;
    f.add_json(c, std::string("workload ") + key + " -> 0");
  }
  for (const auto& [section, key] : kRanges) {
    f.family();
    const Json& j = f.json();
    if (!j.contains(section) || !j[section].is_object() || !j[section].contains(key)) continue;
    const Json& v = j[section][key];
    if (!v.is_array() || v.size() != 2 || v[0] == v[1]) continue;
    Json c = j;
    c[section][key] = v[0];
    f.add_json(c, std::string(section) + "." + key + " -> " + v[0].dump());
  }
}

}  // namespace

std::vector<std::vector<Reproducer>> shrink_families(const Reproducer& r, std::vector<std::vector<std::string>>* what,
                                                     bool keep_healing) {
  Families f(r, what);
  message_cuts(f);
  fault_cuts(f);
  if (f.json_ok()) {
    rate_cuts(f);
    removal_cuts(f, "queues", 1);
    removal_cuts(f, "consumers", 1);
    removal_cuts(f, "producers", 1);
    removal_cuts(f, "topics", 0);
    target_cuts(f);
    if (!keep_healing) healing_cuts(f);
    field_cuts(f, "queues", "capacity", 1, to_one_or_half);
    field_cuts(f, "queues", "priority_levels", 1, to_one_or_less);
    field_cuts(f, "queues", "max_retries", 0, to_zero_or_half);
    field_cuts(f, "consumers", "prefetch", 0, to_one);
    field_cuts(f, "queues", "visibility_timeout_ns", 0, to_quarter_or_half, kMinPeriodNs);
    period_cuts(f);
    feature_cuts(f);
    workload_cuts(f);
  }
  return f.take();
}

std::string summary(const Reproducer& r) {
  const Scenario& s = r.scenario;
  const Topology& t = s.topology;
  std::string out = str(std::min(r.overrides.messages.value_or(s.workload.messages), s.workload.messages)) +
                    " messages; " + str(t.queues.size()) + " queues (";
  for (size_t q = 0; q < t.queues.size(); ++q) {
    out += (q ? ", " : "") + t.queues[q].name + ": capacity " + str(t.queues[q].capacity) + ", " +
           str(t.queues[q].priority_levels) + " levels";
  }
  out += "), " + str(t.consumers.size()) + " consumers, " + str(t.producers.size()) + " producers; fault kinds on: ";
  std::string on;
  for (uint32_t bit = 1; bit <= kAllFaultBits; bit <<= 1) {
    if (!(r.overrides.disabled_faults & bit)) on += (on.empty() ? "" : ", ") + std::string(fault_bit_name(bit));
  }
  out += on.empty() ? "none" : on;
  const TimeNs faulty = std::min(r.overrides.faulty_ns.value_or(s.durations.faulty_ns), s.durations.faulty_ns);
  out += "; faulty phase " + str(static_cast<uint64_t>(faulty)) + " ns, healing " +
         str(static_cast<uint64_t>(s.durations.healing_ns)) + " ns";
  if (r.stop_after_events) out += "; stopped after " + str(r.stop_after_events) + " history events";
  return out;
}

uint64_t events_until(const History& h, TimeNs time_ns) {
  uint64_t n = 0;
  for (const HistoryEvent& e : h.events) {
    if (e.time_ns > time_ns) break;
    ++n;
  }
  return n;
}

namespace {

// Zeller's ddmin, complements only: cuts chunks of `items` (from halves down to single
// items, each chunk in order) while keep(candidate) says the cut still fails, greedily,
// until no single cut is kept. Bounded: at most `runs_left` calls of keep (it counts
// them down); every round calls keep once, or doubles the chunks, or ends.
template <typename T, typename Keep>
void ddmin(std::vector<T>& items, uint32_t& runs_left, Keep&& keep) {
  size_t n = 2;  // chunks
  while (!items.empty() && runs_left > 0) {
    n = std::min(n, items.size());
    const size_t chunk = (items.size() + n - 1) / n;
    bool cut = false;
    for (size_t at = 0; at < items.size() && runs_left > 0; at += chunk) {
      std::vector<T> candidate(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(at));
      const size_t end = std::min(items.size(), at + chunk);
      candidate.insert(candidate.end(), items.begin() + static_cast<std::ptrdiff_t>(end), items.end());
      --runs_left;
      if (!keep(candidate)) continue;
      items = std::move(candidate);
      n = std::max<size_t>(n - 1, 2);
      cut = true;
      break;
    }
    if (cut) continue;
    if (n >= items.size()) break;
    n = std::min(2 * n, items.size());
  }
}

// One shrink's state: the best reproducer so far and the runs it cost.
class Shrinker {
 public:
  Shrinker(const Reproducer& start, const Trial& start_trial, const StillFails& still_fails, bool keep_healing)
      : still_fails_(still_fails),
        keep_healing_(keep_healing),
        dies_(start_trial.history_events == 0),
        violation_(start_trial.violation_events) {
    out_.reproducer = start;
    out_.history_events = start_trial.history_events;
  }

  Trial attempt(const Reproducer& c) {
    ++out_.runs;
    return still_fails_(c);
  }
  // A failing trial that does not move a known violation later (a longer prefix).
  bool better(const Trial& t) const {
    return t.fails && !(t.violation_events != 0 && violation_ != 0 && t.violation_events > violation_);
  }
  void keep(const Reproducer& r, const Trial& t, const std::string& what) {
    out_.reproducer = r;
    out_.history_events = t.history_events;
    if (t.violation_events != 0) violation_ = t.violation_events;
    out_.cuts.push_back(what);
    ++out_.steps;
  }

  void greedy(uint32_t budget);
  // Whether it kept a cut.
  bool choices(uint32_t budget);
  void prefix(uint32_t budget);
  ShrinkOutcome take() { return std::move(out_); }
  uint32_t runs() const { return out_.runs; }

 private:
  const StillFails& still_fails_;
  bool keep_healing_;
  bool dies_;  // the failure is a run that dies (its history's length is unknown)
  uint64_t violation_;
  ShrinkOutcome out_;
};

// Greedy passes over the scenario's families, until a pass keeps nothing or `budget`
// runs are spent: every kept cut costs a run.
void Shrinker::greedy(uint32_t budget) {
  const uint32_t until = out_.runs + budget;
  for (bool progress = true; progress && out_.runs < until;) {
    progress = false;
    // One family at a time; after a kept cut the families are regenerated from the
    // new reproducer (a cut changes what can be cut) and the same family is tried
    // again, so that each is cut as far as it goes (the message count first: it is
    // what makes a history long) before the next one may make that harder.
    std::vector<std::vector<std::string>> what;
    auto families = shrink_families(out_.reproducer, &what, keep_healing_);
    for (size_t fam = 0; fam < families.size() && out_.runs < until; ++fam) {
      for (size_t i = 0; i < families[fam].size() && out_.runs < until; ++i) {
        const Trial t = attempt(families[fam][i]);
        if (!better(t)) continue;
        keep(families[fam][i], t, what[fam][i]);
        progress = true;
        what.clear();
        families = shrink_families(out_.reproducer, &what, keep_healing_);
        --fam;  // the loop's ++fam: this family again (unsigned wrap-around is defined)
        break;
      }
    }
  }
}

// The choices of the run (sim/choices.h), cut by ddmin: the whole simulation runs
// again for each candidate, so a failure that needs the log, a crash or liveness
// shrinks too. A run that dies is probed one event short of its abort for the choices
// it made before it.
bool Shrinker::choices(uint32_t budget) {
  if (budget < 2) return false;
  Reproducer probe = out_.reproducer;
  if (dies_) {
    if (probe.stop_after_events <= 1) return false;  // no event before the abort, or no cap before it
    probe.stop_after_events -= 1;
  }
  const Trial seen = attempt(probe);
  if (!seen.choices_known) return false;
  const uint32_t steps = out_.steps;
  // Each key once, in the order first made (a key is made once; this is a guard).
  std::vector<uint64_t> made, seen_keys;
  for (uint64_t key : seen.choices) {
    const auto at = std::lower_bound(seen_keys.begin(), seen_keys.end(), key);
    if (at != seen_keys.end() && *at == key) continue;
    seen_keys.insert(at, key);
    made.push_back(key);
  }
  const std::vector<uint64_t> all = made;
  uint32_t runs_left = budget - 1;
  ddmin(made, runs_left, [&](const std::vector<uint64_t>& kept) {
    Reproducer c = out_.reproducer;
    std::vector<uint64_t> sorted_kept = kept;
    std::sort(sorted_kept.begin(), sorted_kept.end());
    for (uint64_t key : all) {
      if (!std::binary_search(sorted_kept.begin(), sorted_kept.end(), key)) c.overrides.skipped_choices.push_back(key);
    }
    std::sort(c.overrides.skipped_choices.begin(), c.overrides.skipped_choices.end());
    c.overrides.skipped_choices.erase(
        std::unique(c.overrides.skipped_choices.begin(), c.overrides.skipped_choices.end()),
        c.overrides.skipped_choices.end());
    const Trial t = attempt(c);
    if (!better(t)) return false;
    keep(c, t, str(all.size() - kept.size()) + " of the run's " + str(all.size()) + " choices skipped (" +
                   str(kept.size()) + " kept)");
    return true;
  });
  return out_.steps > steps;
}

// The prefix: the smallest cap at which the property still fails. `lo` is a cap
// known to pass (0: none), `hi` one known to fail (0: none yet).
void Shrinker::prefix(uint32_t budget) {
  const uint32_t until = out_.runs + budget;
  Reproducer c = out_.reproducer;
  uint64_t lo = 0, hi = 0, hi_events = 0;
  auto try_cap = [&](uint64_t cap) {
    c.stop_after_events = cap;
    const Trial t = attempt(c);
    if (t.fails) {
      hi = cap;
      hi_events = t.history_events;
    } else {
      lo = cap;
    }
    return t.fails;
  };
  if (out_.reproducer.stop_after_events != 0) {
    hi = out_.reproducer.stop_after_events;  // the reproducer fails within its cap
  } else if (!dies_) {
    if (out_.runs < until) try_cap(out_.history_events);
  } else {
    for (uint64_t cap = kFirstDyingCap; cap <= kMaxDyingCap && out_.runs < until; cap *= 4) {
      if (try_cap(cap)) break;
    }
  }
  while (hi > 0 && hi - lo > 1 && out_.runs < until) try_cap(lo + (hi - lo) / 2);
  if (hi == 0) return;
  if (hi != out_.reproducer.stop_after_events) out_.cuts.push_back("stopped after " + str(hi) + " history events");
  out_.reproducer.stop_after_events = hi;
  // A run that dies: the events before the one that aborts.
  if (dies_) out_.history_events = hi - 1;
  else if (hi_events > 0) out_.history_events = hi_events;
}

}  // namespace

ShrinkOutcome shrink(const Reproducer& start, const Trial& start_trial, const StillFails& still_fails,
                     uint32_t max_runs, bool keep_healing) {
  MQ_CHECK_MSG(start.scenario.swarm.empty(), "REQUIRES: a scenario pinned to its seed's draw");
  Shrinker s(start, start_trial, still_fails, keep_healing);
  // The greedy passes may use all but a reserve for the other stages; the choices get
  // what the greedy passes and the first prefix leave, less the second prefix's share.
  const uint32_t prefix_runs = std::min(max_runs / 6, kMaxPrefixRuns);
  const uint32_t choice_reserve = max_runs / 5;
  s.greedy(max_runs - 2 * prefix_runs - choice_reserve);
  s.prefix(prefix_runs);
  const uint32_t used = s.runs();
  const uint32_t left = max_runs > used + prefix_runs ? max_runs - used - prefix_runs : 0;
  if (s.choices(left)) s.prefix(std::min(prefix_runs, max_runs - s.runs()));  // a shorter run may fail sooner
  return s.take();
}

ScheduleOutcome shrink_schedule(const std::vector<Op>& ops, const Trial& start,
                                const ScheduleFails& still_fails, uint32_t max_runs) {
  ScheduleOutcome out{ops, start.history_events, 0};
  uint32_t runs_left = max_runs;
  ddmin(out.ops, runs_left, [&](const std::vector<Op>& candidate) {
    const Trial t = still_fails(candidate);
    if (t.fails) out.history_events = t.history_events;
    return t.fails;
  });
  out.runs = max_runs - runs_left;
  return out;
}

}  // namespace mq::sim
