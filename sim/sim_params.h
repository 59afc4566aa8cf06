#pragma once
// SimParams: everything a run derives from its scenario and seed before it starts:
// the fault probabilities drawn from the scenario's ranges (swarm testing: each seed
// its own mix), each consumer's slow factor, and the sub-seeds of the components.
// `run` prints them first, so a reader sees what this seed exercised.
//
// SimOverrides: what `shrink` turns down to make a failing run smaller; a replay file
// records them with the seed.

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace mq::sim {

// Fault kinds, as bits of SimOverrides::disabled_faults.
enum FaultBit : uint32_t {
  kFaultLoss = 1u << 0,
  kFaultDuplicate = 1u << 1,
  kFaultBrokerCrash = 1u << 2,
  kFaultConsumerCrash = 1u << 3,
  kFaultPartition = 1u << 4,
  kFaultClog = 1u << 5,
  kFaultSlowConsumer = 1u << 6,
  kFaultNack = 1u << 7,
  kFaultSlowNetwork = 1u << 8,
  kFaultTornWrite = 1u << 9,
  kFaultBitFlip = 1u << 10,
  kFaultDiskFull = 1u << 11,
};
inline constexpr uint32_t kAllFaultBits = (1u << 12) - 1;
// "loss", "duplicate", ...; one name per bit.
const char* fault_bit_name(uint32_t bit);

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
  NetworkParams network;
  uint32_t broker_crash_ppm = 0, consumer_crash_ppm = 0, partition_ppm = 0, clog_ppm = 0;
  uint32_t nack_ppm = 0, dead_letter_ppm = 0;
  uint32_t torn_write_ppm = 0, bit_flip_ppm = 0, disk_full_ppm = 0;
  std::vector<uint32_t> slow_factor;  // [ConsumerId]; 1: not slow
  uint64_t messages = 0;
  TimeNs faulty_ns = 0, healing_ns = 0;
  bool heal = true;
  std::vector<std::string> swarm;  // what the seed drew for the scenario (sim/swarm.h): "path=value"

  // "name=value" lines, in a fixed order.
  std::vector<std::string> lines() const;
};

// Draws the per-seed values from derive_seed(seed, "swarm"), in a fixed order, then
// applies the overrides (so a disabled fault draws the same values as before: the
// other parameters do not move).
SimParams derive_params(const Scenario& scenario, uint64_t seed, const SimOverrides& overrides);

}  // namespace mq::sim
