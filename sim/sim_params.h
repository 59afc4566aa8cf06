#pragma once
// SimParams: everything a run derives from its scenario and seed before it starts:
// the fault probabilities drawn from the scenario's ranges (swarm testing: each seed
// its own mix), each consumer's slow factor, and the sub-seeds of the components.
// `run` prints them first, so a reader sees what this seed exercised.
//
// SimOverrides: what `shrink` turns down to make a failing run smaller; a replay file
// records them with the seed.

#include <array>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sim/fault_kind.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace mq::sim {

struct SimOverrides {
  std::optional<uint64_t> messages;    // fewer messages than the scenario's
  std::optional<TimeNs> faulty_ns;     // a shorter faulty phase
  uint32_t disabled_faults = 0;        // FaultBit set
  std::vector<uint64_t> skipped_choices;  // ChoiceKeys not made (sim/choices.h), sorted
  friend bool operator==(const SimOverrides&, const SimOverrides&) = default;
};

// The overrides as run files and reports write them: {"messages", "faulty_ns",
// "disabled_faults": [names], "skipped_choices": [keys]} (the last only when some are).
nlohmann::json overrides_to_json(const SimOverrides& o);
// The same back. Errors (kInvalidArgument) name the field: `where` says whose it is.
Result<SimOverrides> overrides_from_json(const nlohmann::json& j, const std::string& where);

struct SimParams {
  uint64_t seed = 0;
  FaultRates<uint32_t> rate_ppm{};    // drawn from the scenario's FaultConfig::rate_ppm
  std::vector<uint32_t> slow_factor;  // [ConsumerId]; 1: not slow
  uint64_t messages = 0;
  TimeNs faulty_ns = 0, healing_ns = 0;
  bool heal = true;
  std::vector<std::string> swarm;  // what the seed drew for the scenario (sim/swarm.h): "path=value"

  uint32_t rate(FaultKind k, int knob = 0) const { return rate_ppm[static_cast<size_t>(k)][knob]; }
  NetworkParams network() const {
    return {rate(FaultKind::kLoss), rate(FaultKind::kDuplicate), rate(FaultKind::kSlowNetwork)};
  }
  // "name=value" lines, in a fixed order.
  std::vector<std::string> lines() const;
};

// Draws the per-seed values from derive_seed(seed, "swarm"), the kinds' rates in
// their rows' draw order, then applies the overrides (so a disabled fault draws the
// same values as before: the other parameters do not move).
SimParams derive_params(const Scenario& scenario, uint64_t seed, const SimOverrides& overrides);

}  // namespace mq::sim
