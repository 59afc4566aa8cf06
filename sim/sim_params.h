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
// name (run files and shrink's log print it), the scenario knobs it draws from, the
// place shrink cuts them in, and what `run` calls the faults the nemesis counts of it;
// turn_off() in sim_params.cc says what disabling it zeroes. A new kind does not build
// until both switches handle it; the count, the bits and the checks below follow.
// SimOverrides::disabled_faults holds fault_bit(kind) for each kind off.
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
  // Where shrink cuts its knobs among the kinds' (0 first): an order kept as it has
  // been, since another order finds other (equally valid) reproducers.
  int cut_rank;
  // For a kind the nemesis makes and counts (FaultStats): the count's name in `run`'s
  // "faults:" line, which lists them in enumeration order; nullptr: not counted there.
  const char* counted_as;
};

constexpr FaultKindInfo fault_kind_info(FaultKind k) {
  switch (k) {
    case FaultKind::kLoss: return {"loss", "faults", {"loss_ppm", nullptr}, 1, nullptr};
    case FaultKind::kDuplicate: return {"duplicate", "faults", {"duplicate_ppm", nullptr}, 2, nullptr};
    case FaultKind::kBrokerCrash:
      return {"broker-crash", "faults", {"broker_crash_ppm", nullptr}, 3, "broker crashes"};
    case FaultKind::kConsumerCrash:
      return {"consumer-crash", "faults", {"consumer_crash_ppm", nullptr}, 4, "consumer crashes"};
    case FaultKind::kPartition: return {"partition", "faults", {"partition_ppm", nullptr}, 5, "partitions"};
    case FaultKind::kClog: return {"clog", "faults", {"clog_ppm", nullptr}, 6, "clogs"};
    case FaultKind::kSlowConsumer: return {"slow-consumer", "faults", {"slow_consumer_ppm", nullptr}, 7, nullptr};
    case FaultKind::kNack: return {"nack", "faults", {"nack_ppm", "dead_letter_ppm"}, 0, nullptr};
    case FaultKind::kSlowNetwork: return {"slow-network", "network", {"slow_ppm", nullptr}, 11, nullptr};
    case FaultKind::kTornWrite: return {"torn-write", "faults", {"torn_write_ppm", nullptr}, 8, nullptr};
    case FaultKind::kBitFlip: return {"bit-flip", "faults", {"bit_flip_ppm", nullptr}, 9, nullptr};
    case FaultKind::kDiskFull: return {"disk-full", "faults", {"disk_full_ppm", nullptr}, 10, "disk full"};
  }
  return {nullptr, nullptr, {nullptr, nullptr}, -1, nullptr};  // not an enumerator
}
inline constexpr int kFaultKindCount = enum_count<FaultKind>([](FaultKind k) { return fault_kind_info(k).name; });

// The kinds in shrink's order (by cut_rank).
constexpr std::array<FaultKind, kFaultKindCount> fault_kinds_in_cut_order() {
  std::array<FaultKind, kFaultKindCount> order{};
  std::array<bool, kFaultKindCount> ranked{};
  for (int k = 0; k < kFaultKindCount; ++k) {
    const int rank = fault_kind_info(static_cast<FaultKind>(k)).cut_rank;
    if (rank < 0 || rank >= kFaultKindCount || ranked[rank]) throw "cut_rank: each of 0..count-1 once";
    ranked[rank] = true;
    order[rank] = static_cast<FaultKind>(k);
  }
  return order;
}
inline constexpr auto kFaultKindsInCutOrder = fault_kinds_in_cut_order();  // fails to build on a bad rank

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
