#include "sim/sim_params.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mq::sim {
namespace {

uint32_t ppm(const Range& r, Prng& prng) { return static_cast<uint32_t>(r.draw(prng)); }

}  // namespace

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
  for (const FaultKind k : kFaultKindsInDrawOrder) {
    const FaultKindInfo info = fault_kind_info(k);
    for (int knob = 0; knob < 2; ++knob) {
      if (info.knobs[knob] != nullptr) p.rate_ppm[static_cast<size_t>(k)][knob] = ppm(f.rate(k, knob), prng);
    }
    // Each consumer's slowness, drawn right after the rate it depends on.
    if (k != FaultKind::kSlowConsumer) continue;
    for (size_t c = 0; c < s.topology.consumers.size(); ++c) {
      const bool slow = prng.chance_ppm(p.rate(k));
      const auto factor = static_cast<uint32_t>(f.slow_factor.draw(prng));
      p.slow_factor.push_back(slow ? factor : 1);
    }
  }
  p.messages = o.messages ? std::min(*o.messages, s.workload.messages) : s.workload.messages;
  p.faulty_ns = o.faulty_ns ? std::min(*o.faulty_ns, s.durations.faulty_ns) : s.durations.faulty_ns;
  p.healing_ns = s.durations.healing_ns;
  p.heal = s.durations.heal;
  // A kind off: its rate zeroed (its values were drawn all the same).
  for (int k = 0; k < kFaultKindCount; ++k) {
    if (o.disabled_faults & fault_bit(static_cast<FaultKind>(k))) p.rate_ppm[k][0] = 0;
  }
  if (o.disabled_faults & fault_bit(FaultKind::kSlowConsumer))
    std::fill(p.slow_factor.begin(), p.slow_factor.end(), 1);
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
  };
  // Each kind's drawn rates, in draw order, named by the scenario's knob ("faults.loss_ppm").
  for (const FaultKind k : kFaultKindsInDrawOrder) {
    const FaultKindInfo info = fault_kind_info(k);
    for (int knob = 0; knob < 2; ++knob) {
      const char* name = info.knobs[knob];
      if (name != nullptr) out.push_back(kv((std::string(info.section) + "." + name).c_str(), rate(k, knob)));
    }
  }
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
