#pragma once
// FaultKind: the simulator's fault kinds, in one table. fault_kind_info() gives each
// kind's name (run files and shrink's log print it), the scenario knobs it draws its
// probabilities from, the place shrink cuts them in, where the seed draws them, and
// what `run` calls the faults the nemesis counts of it. The scenario reads the knobs,
// derive_params() draws and prints them and turning the kind off zeroes its rate, all
// from this table: a new kind is its enumerator, its row, and its mechanism (with its
// own durations, if any, in the scenario). It does not build until the row's switch
// handles it; the count, the bits and the orders below follow.
// SimOverrides::disabled_faults holds fault_bit(kind) for each kind off.

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/check.h"
#include "base/enum_count.h"

namespace mq::sim {

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
  const char* name;     // "loss", "broker-crash", ...
  const char* section;  // the scenario's JSON object holding its knobs
  // Its probabilities there (ppm ranges): [0] the kind's rate, which turning it off
  // zeroes; [1] a share of those faults (nack: the dead-letter ones), or nullptr.
  std::array<const char*, 2> knobs;
  // Where shrink cuts its knobs among the kinds' (0 first), and where a seed draws
  // them: orders kept as they have been, since another cut order finds other (equally
  // valid) reproducers and another draw order gives every seed other rates. A new
  // kind draws last, so that no older draw moves.
  int cut_rank, draw_rank;
  // For a kind the nemesis makes and counts (FaultStats): the count's name in `run`'s
  // "faults:" line, which lists them in enumeration order; nullptr: not counted there.
  const char* counted_as;
};

constexpr FaultKindInfo fault_kind_info(FaultKind k) {
  switch (k) {
    case FaultKind::kLoss: return {"loss", "faults", {"loss_ppm", nullptr}, 1, 0, nullptr};
    case FaultKind::kDuplicate: return {"duplicate", "faults", {"duplicate_ppm", nullptr}, 2, 1, nullptr};
    case FaultKind::kBrokerCrash:
      return {"broker-crash", "faults", {"broker_crash_ppm", nullptr}, 3, 3, "broker crashes"};
    case FaultKind::kConsumerCrash:
      return {"consumer-crash", "faults", {"consumer_crash_ppm", nullptr}, 4, 4, "consumer crashes"};
    case FaultKind::kPartition: return {"partition", "faults", {"partition_ppm", nullptr}, 5, 5, "partitions"};
    case FaultKind::kClog: return {"clog", "faults", {"clog_ppm", nullptr}, 6, 6, "clogs"};
    case FaultKind::kSlowConsumer:
      return {"slow-consumer", "faults", {"slow_consumer_ppm", nullptr}, 7, 8, nullptr};
    case FaultKind::kNack: return {"nack", "faults", {"nack_ppm", "dead_letter_ppm"}, 0, 7, nullptr};
    case FaultKind::kSlowNetwork: return {"slow-network", "network", {"slow_ppm", nullptr}, 11, 2, nullptr};
    case FaultKind::kTornWrite: return {"torn-write", "faults", {"torn_write_ppm", nullptr}, 8, 9, nullptr};
    case FaultKind::kBitFlip: return {"bit-flip", "faults", {"bit_flip_ppm", nullptr}, 9, 10, nullptr};
    case FaultKind::kDiskFull: return {"disk-full", "faults", {"disk_full_ppm", nullptr}, 10, 11, "disk full"};
  }
  return {nullptr, nullptr, {nullptr, nullptr}, -1, -1, nullptr};  // not an enumerator
}
inline constexpr int kFaultKindCount = enum_count<FaultKind>([](FaultKind k) { return fault_kind_info(k).name; });

// The kinds in the order of a rank column (&FaultKindInfo::cut_rank or draw_rank).
constexpr std::array<FaultKind, kFaultKindCount> fault_kinds_by(int FaultKindInfo::*rank_of) {
  std::array<FaultKind, kFaultKindCount> order{};
  std::array<bool, kFaultKindCount> ranked{};
  for (int k = 0; k < kFaultKindCount; ++k) {
    const int rank = fault_kind_info(static_cast<FaultKind>(k)).*rank_of;
    if (rank < 0 || rank >= kFaultKindCount || ranked[rank]) throw "a rank: each of 0..count-1 once";
    ranked[rank] = true;
    order[rank] = static_cast<FaultKind>(k);
  }
  return order;
}
// Both fail to build on a bad rank.
inline constexpr auto kFaultKindsInCutOrder = fault_kinds_by(&FaultKindInfo::cut_rank);
inline constexpr auto kFaultKindsInDrawOrder = fault_kinds_by(&FaultKindInfo::draw_rank);

constexpr uint32_t fault_bit(FaultKind k) { return uint32_t{1} << static_cast<int>(k); }
inline constexpr uint32_t kAllFaultBits = (uint32_t{1} << kFaultKindCount) - 1;
// The name of the kind whose bit is `bit`. REQUIRES: one bit of kAllFaultBits.
inline const char* fault_bit_name(uint32_t bit) {
  for (int k = 0; k < kFaultKindCount; ++k) {
    if (fault_bit(static_cast<FaultKind>(k)) == bit) return fault_kind_info(static_cast<FaultKind>(k)).name;
  }
  MQ_CHECK_MSG(false, "not one fault kind's bit");
}

// One value per knob of each kind (the scenario's ranges, a seed's drawn rates).
template <class T>
using FaultRates = std::array<std::array<T, 2>, kFaultKindCount>;

}  // namespace mq::sim
