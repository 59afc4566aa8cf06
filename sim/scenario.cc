#include "sim/scenario.h"

#include <algorithm>
#include <limits>
#include <string_view>
#include <utility>

#include "base/enum_count.h"
#include "formats/json_config.h"
#include "sim/swarm.h"

namespace mq::sim {
namespace {

constexpr int64_t kMillion = 1'000'000;
constexpr TimeNs kMaxDurationNs = int64_t{1} << 50;  // ~13 virtual days: no overflow in sums

// Reads `key` as [lo, hi] or one number into `out`, if present, and checks it lies in
// [min, max].
void range(JsonFields& f, const char* key, Range& out, int64_t min, int64_t max) {
  const nlohmann::json* v = f.child(key);
  if (v == nullptr) return;
  const auto number = [](const nlohmann::json& x, int64_t& n) {
    if (!x.is_number_integer()) return false;
    n = x.get<int64_t>();
    return true;
  };
  Range r;
  bool ok = false;
  if (v->is_array() && v->size() == 2) {
    ok = number((*v)[0], r.lo) && number((*v)[1], r.hi);
  } else {
    ok = number(*v, r.lo);
    r.hi = r.lo;
  }
  if (!ok) return f.fail(f.path_of(key), "expected an integer or [lo, hi], got " + v->dump());
  if (r.lo > r.hi) {
    return f.fail(f.path_of(key), "lo " + std::to_string(r.lo) + " > hi " + std::to_string(r.hi));
  }
  if (r.lo < min || r.hi > max) {
    return f.fail(f.path_of(key), "must lie in " + std::to_string(min) + ".." + std::to_string(max) +
                                      ", got " + v->dump());
  }
  out = r;
}

void ppm(JsonFields& f, const char* key, Range& out) { range(f, key, out, 0, kMillion); }
void duration(JsonFields& f, const char* key, Range& out, int64_t min = 0) {
  range(f, key, out, min, kMaxDurationNs);
}
void duration(JsonFields& f, const char* key, TimeNs& out, int64_t min) {
  Range r{out, out};
  range(f, key, r, min, kMaxDurationNs);
  if (r.lo != r.hi) f.fail(f.path_of(key), "expected one duration, not a range");
  out = r.lo;
}

Status read_target(const nlohmann::json& j, const std::string& file, const std::string& path,
                   const Topology& topology, Target& t) {
  JsonFields f(j, file, path);
  std::string queue, topic;
  f.str("queue", queue).str("topic", topic).u32("weight", t.weight);
  if (queue.empty() == topic.empty()) f.fail(path, "expected exactly one of \"queue\" and \"topic\"");
  t.topic = !topic.empty();
  t.name = t.topic ? topic : queue;
  if (!queue.empty()) {
    const auto q = topology.find_queue(queue);
    if (!q) f.fail(f.path_of("queue"), "no queue '" + queue + "' in the topology");
    t.index = q.value_or(0);
  }
  if (!topic.empty()) {
    const auto k = topology.find_topic(topic);
    if (!k) f.fail(f.path_of("topic"), "no topic '" + topic + "' in the topology");
    t.index = k.value_or(0);
  }
  if (t.weight == 0) f.fail(f.path_of("weight"), "must be > 0");
  return f.finish();
}

// The names of Enum's enumerators for an error: "a", "b" or "c".
template <typename Enum, typename NameFn>
std::string quoted_alternatives(NameFn name_of) {
  const int n = enum_count<Enum>(name_of);
  std::string out;
  for (int k = 0; k < n; ++k) {
    if (k > 0) out += k + 1 == n ? " or " : ", ";
    out += "\"" + std::string(name_of(static_cast<Enum>(k))) + "\"";
  }
  return out;
}

void read_invalid_fields(JsonFields& f, Workload& w) {
  const nlohmann::json* list = f.child("invalid_fields");
  if (list == nullptr) return;
  const std::string path = f.path_of("invalid_fields");
  if (!list->is_array() || list->empty()) return f.fail(path, "expected a non-empty array of field names");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = path + "/" + std::to_string(i);
    const std::string name = (*list)[i].is_string() ? (*list)[i].get<std::string>() : std::string();
    const auto field = enum_named<MalformedField>(name, malformed_field_name);
    if (!field) {
      return f.fail(at, "expected " + quoted_alternatives<MalformedField>(malformed_field_name) + ", got " +
                            (*list)[i].dump());
    }
    if (std::find(w.invalid_fields.begin(), w.invalid_fields.end(), *field) != w.invalid_fields.end()) {
      return f.fail(at, "\"" + name + "\" is listed twice");
    }
    w.invalid_fields.push_back(*field);
  }
}

Status read_workload(JsonFields& parent, const std::string& file, const Topology& topology, Workload& w) {
  const nlohmann::json* j = parent.child("workload");
  if (j == nullptr) return Status();
  JsonFields f(*j, file, "/workload");
  f.u64("messages", w.messages);
  duration(f, "send_gap_ns", w.send_gap_ns);
  range(f, "payload_bytes", w.payload_bytes, 0, 1 << 20);
  range(f, "priority", w.priority, 0, 255);
  f.u32("ttl_ppm", w.ttl_ppm).u32("delay_ppm", w.delay_ppm).u32("retries_ppm", w.retries_ppm);
  f.u32("invalid_ppm", w.invalid_ppm);
  read_invalid_fields(f, w);
  duration(f, "ttl_ns", w.ttl_ns, 1);
  duration(f, "delay_ns", w.delay_ns, 1);
  range(f, "retries", w.retries, 0, std::numeric_limits<uint32_t>::max());
  for (const auto& [key, ppm] : {std::pair{"ttl_ppm", w.ttl_ppm}, std::pair{"delay_ppm", w.delay_ppm},
                                 std::pair{"retries_ppm", w.retries_ppm}, std::pair{"invalid_ppm", w.invalid_ppm}}) {
    if (ppm > kMillion) f.fail(f.path_of(key), "must be <= 1000000");
  }
  if (w.messages > 10'000'000) f.fail(f.path_of("messages"), "must be <= 10000000");
  if (const nlohmann::json* list = f.child("targets")) {
    if (!list->is_array() || list->empty()) {
      f.fail(f.path_of("targets"), "expected a non-empty array");
    } else {
      for (size_t i = 0; i < list->size(); ++i) {
        Target t;
        MQ_RETURN_IF_ERROR(read_target((*list)[i], file, "/workload/targets/" + std::to_string(i), topology, t));
        w.targets.push_back(std::move(t));
      }
    }
  }
  return f.finish();
}

void read_pull_consumers(JsonFields& f, const Topology& topology, ClientConfig& c) {
  c.pull.assign(topology.consumers.size(), false);
  const nlohmann::json* list = f.child("pull_consumers");
  if (list == nullptr) return;
  if (!list->is_array()) return f.fail(f.path_of("pull_consumers"), "expected an array of consumer names");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = f.path_of("pull_consumers") + "/" + std::to_string(i);
    if (!(*list)[i].is_string()) return f.fail(at, "expected a consumer name, got " + (*list)[i].dump());
    const std::string name = (*list)[i].get<std::string>();
    const auto it = std::find_if(topology.consumers.begin(), topology.consumers.end(),
                                 [&](const auto& k) { return k.name == name; });
    if (it == topology.consumers.end()) return f.fail(at, "no consumer '" + name + "' in the topology");
    c.pull[static_cast<size_t>(it - topology.consumers.begin())] = true;
    c.pull_consumers.push_back(name);
  }
}

Status read_clients(JsonFields& parent, const std::string& file, const Topology& topology, ClientConfig& c) {
  c.pull.assign(topology.consumers.size(), false);
  const nlohmann::json* j = parent.child("clients");
  if (j == nullptr) return Status();
  JsonFields f(*j, file, "/clients");
  read_pull_consumers(f, topology, c);
  f.u32("fetch_max", c.fetch_max).boolean("close_on_crash", c.close_on_crash).boolean("resp", c.resp);
  duration(f, "fetch_block_ns", c.fetch_block_ns, 0);
  f.u32("resp_noise_ppm", c.resp_noise_ppm);
  if (c.resp_noise_ppm > 1'000'000) f.fail(f.path_of("resp_noise_ppm"), "must be at most 1000000 (ppm)");
  f.u32("resp_hostile_ppm", c.resp_hostile_ppm);
  if (c.resp_hostile_ppm > 1'000'000) f.fail(f.path_of("resp_hostile_ppm"), "must be at most 1000000 (ppm)");
  if (c.resp && c.fetch_block_ns != whole_ms(c.fetch_block_ns)) {
    f.fail(f.path_of("fetch_block_ns"), "must be whole milliseconds with clients.resp (RESP's BLOCK is in ms)");
  }
  duration(f, "stats_interval_ns", c.stats_interval_ns, 0);
  if (c.fetch_max == 0 || c.fetch_max > 65536) f.fail(f.path_of("fetch_max"), "must lie in 1..65536");
  duration(f, "publish_timeout_ns", c.publish_timeout_ns, 1);
  duration(f, "full_backoff_ns", c.full_backoff_ns, 1);
  duration(f, "ack_timeout_ns", c.ack_timeout_ns, 1);
  f.u32("max_ack_sends", c.max_ack_sends);
  duration(f, "process_ns", c.process_ns);
  duration(f, "heartbeat_ns", c.heartbeat_ns, 1);
  duration(f, "session_timeout_ns", c.session_timeout_ns, 1);
  duration(f, "fetch_interval_ns", c.fetch_interval_ns, 0);
  if (c.max_ack_sends == 0) f.fail(f.path_of("max_ack_sends"), "must be > 0");
  if (c.session_timeout_ns <= c.heartbeat_ns) {
    f.fail(f.path_of("session_timeout_ns"), "must be > heartbeat_ns, or live consumers get detached");
  }
  return f.finish();
}

// The knobs of every fault kind whose row puts them in `section`, by their names there.
void fault_rates(JsonFields& f, std::string_view section, FaultConfig& x) {
  for (int k = 0; k < kFaultKindCount; ++k) {
    const FaultKindInfo info = fault_kind_info(static_cast<FaultKind>(k));
    if (info.section != section) continue;
    for (int knob = 0; knob < 2; ++knob) {
      if (info.knobs[knob] != nullptr) ppm(f, info.knobs[knob], x.rate(static_cast<FaultKind>(k), knob));
    }
  }
}

Status read_network(JsonFields& parent, const std::string& file, NetworkConfig& n, FaultConfig& x) {
  const nlohmann::json* j = parent.child("network");
  if (j == nullptr) return Status();
  JsonFields f(*j, file, "/network");
  duration(f, "latency_ns", n.latency_ns, 1);
  fault_rates(f, "network", x);
  duration(f, "slow_latency_ns", n.slow_latency_ns, 1);
  return f.finish();
}

Status read_faults(JsonFields& parent, const std::string& file, FaultConfig& x) {
  const nlohmann::json* j = parent.child("faults");
  if (j == nullptr) return Status();
  JsonFields f(*j, file, "/faults");
  duration(f, "tick_ns", x.tick_ns, 1);
  fault_rates(f, "faults", x);
  duration(f, "broker_down_ns", x.broker_down_ns, 1);
  duration(f, "consumer_down_ns", x.consumer_down_ns, 1);
  duration(f, "partition_ns", x.partition_ns, 1);
  duration(f, "clog_ns", x.clog_ns, 1);
  range(f, "slow_factor", x.slow_factor, 1, 1000);
  duration(f, "disk_full_ns", x.disk_full_ns, 1);
  f.u32("disk_failing_ppm", x.disk_failing_ppm);
  if (x.disk_failing_ppm > kMillion) f.fail(f.path_of("disk_failing_ppm"), "must be <= 1000000");
  return f.finish();
}

Status read_disk(JsonFields& parent, const std::string& file, DiskConfig& d) {
  const nlohmann::json* j = parent.child("disk");
  if (j == nullptr) return Status();
  JsonFields f(*j, file, "/disk");
  duration(f, "latency_ns", d.latency_ns, 0);
  duration(f, "commit_delay_ns", d.commit_delay_ns, 0);
  duration(f, "start_latency_ns", d.start_latency_ns, 0);
  f.u64("segment_bytes", d.segment_bytes).u64("checkpoint_bytes", d.checkpoint_bytes);
  f.boolean("defer_commit", d.defer_commit).boolean("restart_fresh", d.restart_fresh);
  f.boolean("crc32c_table", d.crc32c_table);
  if (d.segment_bytes < 64) f.fail(f.path_of("segment_bytes"), "must be >= 64");
  if (d.checkpoint_bytes < 64) f.fail(f.path_of("checkpoint_bytes"), "must be >= 64");
  return f.finish();
}

// The rules only; that each matches a place is checked when the scenario is known.
Status read_swarm(JsonFields& parent, const std::string& file, std::vector<SwarmRule>& rules) {
  const nlohmann::json* list = parent.child("swarm");
  if (list == nullptr) return Status();
  if (!list->is_array()) return invalid_argument(file + ": /swarm: expected an array of rules");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string at = "/swarm/" + std::to_string(i);
    JsonFields f((*list)[i], file, at);
    SwarmRule r;
    f.str("path", r.path, true);
    if (const nlohmann::json* c = f.child("choose")) {
      if (!c->is_array() || c->empty()) f.fail(f.path_of("choose"), "expected a non-empty array of values");
      for (size_t k = 0; c->is_array() && k < c->size(); ++k) r.choices.push_back((*c)[k].dump());
    }
    const bool has_range = f.child("range") != nullptr;
    range(f, "range", r.range, INT64_MIN, INT64_MAX);
    if (has_range == !r.choices.empty()) f.fail(at, "expected exactly one of \"choose\" and \"range\"");
    if (!r.path.starts_with("/")) f.fail(f.path_of("path"), "expected a JSON pointer (\"/topology/...\")");
    MQ_RETURN_IF_ERROR(f.finish());
    rules.push_back(std::move(r));
  }
  return Status();
}

Status read_durations(JsonFields& parent, const std::string& file, Durations& d) {
  const nlohmann::json* j = parent.child("durations");
  if (j == nullptr) return Status();
  JsonFields f(*j, file, "/durations");
  duration(f, "faulty_ns", d.faulty_ns, 0);
  duration(f, "healing_ns", d.healing_ns, 1);
  f.boolean("heal", d.heal);
  return f.finish();
}

// Lost packets come back only by a visibility timeout: without one, a lost push
// stays in flight until the consumer's session ends, which a live consumer's
// heartbeats prevent. Such a scenario would report liveness violations that say
// nothing about the broker, so it is refused up front.
Status check_loss_needs_timeouts(const Scenario& s) {
  const FaultConfig& f = s.faults;
  if (f.rate(FaultKind::kLoss).hi == 0 && f.rate(FaultKind::kPartition).hi == 0 &&
      f.rate(FaultKind::kClog).hi == 0)
    return Status();
  for (size_t q = 0; q < s.topology.queues.size(); ++q) {
    if (s.topology.queues[q].visibility_timeout_ns > 0) continue;
    for (ConsumerId c : s.topology.consumers_of(static_cast<QueueId>(q))) {
      if (s.topology.consumers[c].ack_mode == AckMode::kManual) {
        return invalid_argument(s.file + ": /topology/queues/" + std::to_string(q) +
                                "/visibility_timeout_ns: must be > 0 when /faults can lose packets "
                                "(loss, partition or clog), or a lost push is never redelivered");
      }
    }
  }
  return Status();
}

void default_targets(Scenario& s) {
  if (!s.workload.targets.empty()) return;
  for (QueueId q = 0; q < s.topology.queues.size(); ++q) {
    if (s.topology.consumers_of(q).empty()) continue;
    s.workload.targets.push_back(Target{false, s.topology.queues[q].name, q, 1});
  }
}

std::string stem_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const auto dot = base.rfind('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

}  // namespace

Result<Scenario> scenario_from_text(std::string_view text, const std::string& file) {
  auto json = parse_json_text(text, file);
  if (!json.ok()) return json.status();
  Scenario s;
  s.file = file;
  s.name = stem_of(file);
  s.text = std::string(text);
  JsonFields f(*json, file, "");
  const nlohmann::json* topology = f.child("topology");
  if (topology == nullptr) return invalid_argument(file + ": /topology: missing (required)");
  auto t = topology_from_json(*topology, file + " (in /topology)");
  if (!t.ok()) return t.status();
  s.topology = std::move(*t);
  std::string name;
  f.str("name", name);
  if (!name.empty()) s.name = name;
  MQ_RETURN_IF_ERROR(read_workload(f, file, s.topology, s.workload));
  MQ_RETURN_IF_ERROR(read_clients(f, file, s.topology, s.clients));
  if (s.clients.resp && malformed_fields(s) != std::vector{MalformedField::kPriority}) {
    return invalid_argument(file + ": /workload/invalid_fields: with clients.resp only [\"priority\"] (RESP's parser " +
                            "refuses a negative TTL or delay before the broker sees it)");
  }
  MQ_RETURN_IF_ERROR(read_network(f, file, s.network, s.faults));
  MQ_RETURN_IF_ERROR(read_faults(f, file, s.faults));
  MQ_RETURN_IF_ERROR(read_disk(f, file, s.disk));
  MQ_RETURN_IF_ERROR(read_durations(f, file, s.durations));
  MQ_RETURN_IF_ERROR(read_swarm(f, file, s.swarm));
  MQ_RETURN_IF_ERROR(f.finish());
  default_targets(s);
  if (s.workload.targets.empty()) {
    return invalid_argument(file + ": /workload/targets: no target, and no queue has a consumer");
  }
  MQ_RETURN_IF_ERROR(check_loss_needs_timeouts(s));
  // A swarm section is checked by drawing once: every rule must match a place, and
  // what it puts there must make a valid scenario (sweeps check every seed's draw).
  if (!s.swarm.empty()) MQ_RETURN_IF_ERROR(draw_scenario(s, 1).status());
  return s;
}

Result<Scenario> load_scenario(const std::string& path) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.status();
  return scenario_from_text(*text, path);
}

std::vector<MalformedField> malformed_fields(const Scenario& s) {
  if (!s.workload.invalid_fields.empty()) return s.workload.invalid_fields;
  if (s.clients.resp) return {MalformedField::kPriority};
  std::vector<MalformedField> all;
  for (int k = 0; k < enum_count<MalformedField>(malformed_field_name); ++k) {
    all.push_back(static_cast<MalformedField>(k));
  }
  return all;
}

Scenario default_scenario() {
  auto s = scenario_from_text(default_scenario_text(), "<built-in default>");
  MQ_CHECK_MSG(s.ok(), "the compiled-in scenarios/default.json must be valid");
  return std::move(s).value();
}

}  // namespace mq::sim
