#include "sim/sim_params.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mq::sim {
namespace {

uint32_t ppm(const Range& r, Prng& prng) { return static_cast<uint32_t>(r.draw(prng)); }

// What a disabled fault kind zeroes (its values are still drawn first, so that the
// other parameters do not move).
void turn_off(FaultKind k, SimParams& p) {
  switch (k) {
    case FaultKind::kLoss: p.network.loss_ppm = 0; return;
    case FaultKind::kDuplicate: p.network.duplicate_ppm = 0; return;
    case FaultKind::kSlowNetwork: p.network.slow_ppm = 0; return;
    case FaultKind::kBrokerCrash: p.broker_crash_ppm = 0; return;
    case FaultKind::kConsumerCrash: p.consumer_crash_ppm = 0; return;
    case FaultKind::kPartition: p.partition_ppm = 0; return;
    case FaultKind::kClog: p.clog_ppm = 0; return;
    case FaultKind::kNack: p.nack_ppm = 0; return;
    case FaultKind::kTornWrite: p.torn_write_ppm = 0; return;
    case FaultKind::kBitFlip: p.bit_flip_ppm = 0; return;
    case FaultKind::kDiskFull: p.disk_full_ppm = 0; return;
    case FaultKind::kSlowConsumer: std::fill(p.slow_factor.begin(), p.slow_factor.end(), 1); return;
  }
}

}  // namespace

const char* fault_bit_name(uint32_t bit) {
  for (int k = 0; k < kFaultKindCount; ++k) {
    if (fault_bit(static_cast<FaultKind>(k)) == bit) return fault_kind_info(static_cast<FaultKind>(k)).name;
  }
  MQ_CHECK_MSG(false, "not one fault kind's bit");
}

nlohmann::json overrides_to_json(const SimOverrides& o) {
  nlohmann::json j = nlohmann::json::object();
  if (o.messages) j["messages"] = *o.messages;
  if (o.faulty_ns) j["faulty_ns"] = *o.faulty_ns;
  j["disabled_faults"] = nlohmann::json::array();
  for (uint32_t bit = 1; bit <= kAllFaultBits; bit <<= 1) {
    if (o.disabled_faults & bit) j["disabled_faults"].push_back(fault_bit_name(bit));
  }
  if (!o.skipped_choices.empty()) j["skipped_choices"] = o.skipped_choices;
  return j;
}

Result<SimOverrides> overrides_from_json(const nlohmann::json& j, const std::string& where) {
  SimOverrides o;
  if (!j.is_object()) return invalid_argument(where + ": overrides: not a JSON object");
  auto bad = [&](const std::string& field, const std::string& what) {
    return invalid_argument(where + ": overrides/" + field + ": " + what);
  };
  if (j.contains("messages")) {
    if (!j["messages"].is_number_unsigned()) return bad("messages", "not a count");
    o.messages = j["messages"].get<uint64_t>();
  }
  if (j.contains("faulty_ns")) {
    if (!j["faulty_ns"].is_number_integer() || j["faulty_ns"].get<int64_t>() < 0) return bad("faulty_ns", "not a time");
    o.faulty_ns = j["faulty_ns"].get<TimeNs>();
  }
  for (const auto& name : j.value("disabled_faults", nlohmann::json::array())) {
    uint32_t found = 0;
    for (uint32_t bit = 1; bit <= kAllFaultBits; bit <<= 1) {
      if (name.is_string() && name.get<std::string>() == fault_bit_name(bit)) found = bit;
    }
    if (found == 0) return bad("disabled_faults", "unknown fault " + name.dump());
    o.disabled_faults |= found;
  }
  for (const auto& key : j.value("skipped_choices", nlohmann::json::array())) {
    if (!key.is_number_unsigned()) return bad("skipped_choices", "not a choice key: " + key.dump());
    o.skipped_choices.push_back(key.get<uint64_t>());
  }
  std::sort(o.skipped_choices.begin(), o.skipped_choices.end());
  return o;
}

SimParams derive_params(const Scenario& s, uint64_t seed, const SimOverrides& o) {
  SimParams p;
  p.seed = seed;
  Prng prng(derive_seed(seed, "swarm"));
  const FaultConfig& f = s.faults;
  p.network.loss_ppm = ppm(f.loss_ppm, prng);
  p.network.duplicate_ppm = ppm(f.duplicate_ppm, prng);
  p.network.slow_ppm = ppm(s.network.slow_ppm, prng);
  p.broker_crash_ppm = ppm(f.broker_crash_ppm, prng);
  p.consumer_crash_ppm = ppm(f.consumer_crash_ppm, prng);
  p.partition_ppm = ppm(f.partition_ppm, prng);
  p.clog_ppm = ppm(f.clog_ppm, prng);
  p.nack_ppm = ppm(f.nack_ppm, prng);
  p.dead_letter_ppm = ppm(f.dead_letter_ppm, prng);
  const uint32_t slow_ppm = ppm(f.slow_consumer_ppm, prng);
  for (size_t c = 0; c < s.topology.consumers.size(); ++c) {
    const bool slow = prng.chance_ppm(slow_ppm);
    const auto factor = static_cast<uint32_t>(f.slow_factor.draw(prng));
    p.slow_factor.push_back(slow ? factor : 1);
  }
  // Drawn after every older parameter, so that adding them moved none of those.
  p.torn_write_ppm = ppm(f.torn_write_ppm, prng);
  p.bit_flip_ppm = ppm(f.bit_flip_ppm, prng);
  p.disk_full_ppm = ppm(f.disk_full_ppm, prng);
  p.messages = o.messages ? std::min(*o.messages, s.workload.messages) : s.workload.messages;
  p.faulty_ns = o.faulty_ns ? std::min(*o.faulty_ns, s.durations.faulty_ns) : s.durations.faulty_ns;
  p.healing_ns = s.durations.healing_ns;
  p.heal = s.durations.heal;
  const uint32_t off = o.disabled_faults;
  for (int k = 0; k < kFaultKindCount; ++k) {
    if (off & fault_bit(static_cast<FaultKind>(k))) turn_off(static_cast<FaultKind>(k), p);
  }
  return p;
}

std::vector<std::string> SimParams::lines() const {
  auto kv = [](const char* k, uint64_t v) { return std::string(k) + "=" + std::to_string(v); };
  std::vector<std::string> out{
      kv("seed", seed),
      kv("messages", messages),
      kv("faulty_ns", static_cast<uint64_t>(faulty_ns)),
      kv("healing_ns", static_cast<uint64_t>(healing_ns)),
      std::string("heal=") + (heal ? "true" : "false"),
      kv("network.loss_ppm", network.loss_ppm),
      kv("network.duplicate_ppm", network.duplicate_ppm),
      kv("network.slow_ppm", network.slow_ppm),
      kv("faults.broker_crash_ppm", broker_crash_ppm),
      kv("faults.consumer_crash_ppm", consumer_crash_ppm),
      kv("faults.partition_ppm", partition_ppm),
      kv("faults.clog_ppm", clog_ppm),
      kv("faults.nack_ppm", nack_ppm),
      kv("faults.dead_letter_ppm", dead_letter_ppm),
      kv("faults.torn_write_ppm", torn_write_ppm),
      kv("faults.bit_flip_ppm", bit_flip_ppm),
      kv("faults.disk_full_ppm", disk_full_ppm),
  };
  for (const auto& s : swarm) out.push_back("swarm" + s);
  std::string slow = "consumers.slow_factor=";
  for (size_t c = 0; c < slow_factor.size(); ++c) slow += (c ? "," : "") + std::to_string(slow_factor[c]);
  out.push_back(slow);
  for (const char* component : {"swarm", "topology", "network", "nemesis", "disk"}) {
    out.push_back(std::string("seed.") + component + "=" + std::to_string(derive_seed(seed, component)));
  }
  return out;
}

}  // namespace mq::sim
