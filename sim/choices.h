#pragma once
// Choices: the discrete things that happen in a run by the dice or by the workload,
// each with a key that names it, so that a shrinker can take them away one by one
// and re-simulate the whole run (the node, its log, its crashes, liveness included):
//   - a message: the k-th message of producer p (it is drawn as before, then not sent);
//   - a fault of the nemesis: at its n-th tick, a broker crash, a torn write or a
//     flipped bit of that crash, a partition, a clog, a full disk, a consumer's crash;
//   - a consumer's processing failure (nack) of its k-th processed delivery;
//   - a lost or a duplicated packet: the k-th packet on one client's link, one way.
// ChoiceSet holds the keys a run must skip (SimOverrides::skipped_choices) and
// records, in order, the keys of the choices it made (SimResult::choices): the
// universe the next cut picks from. A skipped choice draws every random number it
// drew before (the draws come first, in a fixed order), so skipping one moves no other
// draw of its component; what moves is only what follows from it (fewer packets, a
// different interleaving).
//
// Keys are stable where the thing they name is: a message's key is its producer and
// number, a fault's is its tick, whatever else was skipped. A nack's or a packet's
// key counts deliveries or packets, so after another cut it may name a later one:
// deterministic all the same, and the shrinker only keeps a cut that still fails.
//
// Thread-safety: none; one per run.

#include <cstdint>
#include <string>
#include <vector>

namespace mq::sim {

enum class ChoiceKind : uint8_t {
  kMessage = 1,    // who: producer, index: message number (1-based)
  kFault = 2,      // who: nemesis tick (1-based), index: FaultSlot
  kNack = 3,       // who: consumer, index: processed deliveries (1-based)
  kLoss = 4,       // who: link (2 * client endpoint + 1 when from the broker), index: packet on it
  kDuplicate = 5,  // the same
};

// The faults of one nemesis tick, in the order it draws them.
enum FaultSlot : uint32_t {
  kSlotBrokerCrash = 0,
  kSlotTornWrite = 1,
  kSlotBitFlip = 2,
  kSlotPartition = 3,
  kSlotClog = 4,
  kSlotDiskFull = 5,
  kSlotConsumerCrash = 6,  // + the consumer's id
};

using ChoiceKey = uint64_t;
inline constexpr uint32_t kMaxChoiceWho = (1u << 24) - 1;

// REQUIRES: who <= kMaxChoiceWho.
ChoiceKey choice_key(ChoiceKind kind, uint32_t who, uint32_t index);
ChoiceKind choice_kind(ChoiceKey key);
// One line: "message 3 of producer 0", "broker crash at tick 12", ...
std::string describe_choice(ChoiceKey key);

class ChoiceSet {
 public:
  // A run records at most this many choices (enough for any run worth cutting this
  // way; a longer one is cut by the scenario's parameters first). Past it, recorded()
  // says so and the record is incomplete.
  static constexpr size_t kMaxRecorded = size_t{1} << 16;

  // `skipped` in any order; `record`: keep the choices made (SimOptions::record_choices).
  ChoiceSet(std::vector<ChoiceKey> skipped, bool record);

  // Whether the choice happens: false when it is skipped; else it is recorded.
  bool allow(ChoiceKey key);

  const std::vector<ChoiceKey>& made() const { return made_; }
  bool complete() const { return !overflow_; }

 private:
  std::vector<ChoiceKey> skipped_;  // sorted
  bool record_;
  bool overflow_ = false;
  std::vector<ChoiceKey> made_;
};

}  // namespace mq::sim
