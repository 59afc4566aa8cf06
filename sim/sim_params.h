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

#include "base/enum_count.h"
#include "base/status.h"
#include "sim/network.h"
#include "sim/scenario.h"

namespace mq::sim {

// The simulator's fault kinds, in one table: fault_kind_info() gives each kind's
// name (run files and shrink's log print it) and the scenario knobs it draws from
// (shrink cuts them); turn_off() in sim_params.cc says what disabling it zeroes. A
// new kind does not build until both switches handle it; the count and the bits
// follow. SimOverrides::disabled_faults holds fault_bit(kind) for each kind off.
enum class FaultKind : uint8_t {
  kLoss,
  kDuplicate,
  kBrokerCrash,
  kConsumerCrash,
  kPartition,
  kClog,
  kSlowConsumer,
  kNack,
  kSlowNetwork,
  kTornWrite,
  kBitFlip,
  kDiskFull,
};

struct FaultKindInfo {
  const char* name;                   // "loss", "broker-crash", ...
  const char* section;                // the scenario's JSON object holding its knobs
  std::array<const char*, 2> knobs;   // its probabilities there (ppm ranges); nullptr: none
};

constexpr FaultKindInfo fault_kind_info(FaultKind k) {
  switch (k) {
    case FaultKind::kLoss: return {"loss", "faults", {"loss_ppm", nullptr}};
    case FaultKind::kDuplicate: return {"duplicate", "faults", {"duplicate_ppm", nullptr}};
    case FaultKind::kBrokerCrash: return {"broker-crash", "faults", {"broker_crash_ppm", nullptr}};
    case FaultKind::kConsumerCrash: return {"consumer-crash", "faults", {"consumer_crash_ppm", nullptr}};
    case FaultKind::kPartition: return {"partition", "faults", {"partition_ppm", nullptr}};
    case FaultKind::kClog: return {"clog", "faults", {"clog_ppm", nullptr}};
    case FaultKind::kSlowConsumer: return {"slow-consumer", "faults", {"slow_consumer_ppm", nullptr}};
    case FaultKind::kNack: return {"nack", "faults", {"nack_ppm", "dead_letter_ppm"}};
    case FaultKind::kSlowNetwork: return {"slow-network", "network", {"slow_ppm", nullptr}};
    case FaultKind::kTornWrite: return {"torn-write", "faults", {"torn_write_ppm", nullptr}};
    case FaultKind::kBitFlip: return {"bit-flip", "faults", {"bit_flip_ppm", nullptr}};
    case FaultKind::kDiskFull: return {"disk-full", "faults", {"disk_full_ppm", nullptr}};
  }
  return {nullptr, nullptr, {nullptr, nullptr}};  // not an enumerator
}
inline constexpr int kFaultKindCount = enum_count<FaultKind>([](FaultKind k) { return fault_kind_info(k).name; });

constexpr uint32_t fault_bit(FaultKind k) { return uint32_t{1} << static_cast<int>(k); }
inline constexpr uint32_t kAllFaultBits = (uint32_t{1} << kFaultKindCount) - 1;
// The name of the kind whose bit is `bit`. REQUIRES: one bit of kAllFaultBits.
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
