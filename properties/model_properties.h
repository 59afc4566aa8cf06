#pragma once
// ModelProperties: the seed's theorems, repaired and stated over single steps of the
// model. Each step is (state before, operation, result, state after); the checker
// keeps what it needs across steps (pending FIFO order, round-robin counts) and
// reports every property a step breaks.
//
// Properties (docs/model.md maps each to the seed's theorem it states):
//  capacity      a send is accepted iff the queue was below capacity (Def. 2.3),
//                counting as room what a drop-oldest queue dropped for it in the
//                same step; no queue ever exceeds its capacity;
//  fifo          within a queue and priority level, first deliveries happen in the
//                order the messages became ready (Thm 3.2.1, 4.1.4);
//  priority      a delivery takes a message of the highest priority that was ready;
//  round_robin   among consumers of a queue that had credit at every dispatch since
//                the last crash, dispatch counts differ by at most 1 (Thm 3.3.1);
//  no_loss       every accepted message is still accounted for after every step; a
//                message is lost only by a crash, and only from a non-durable
//                queue (Thm 3.1.1, 4.1.2);
//  ttl_delay     nothing is delivered at or after its expiry, nor before its
//                not-before time; nothing expires early; nothing is released early;
//  conservation  check_invariants holds after every step: each accepted message in
//                exactly one place (Thm 4.1.1), and a failed operation changes nothing.
// Liveness (Thm 4.1.3) is judged at the end of a run by drain(): see model_walk.h.

#include <string>
#include <vector>

#include "base/bytes.h"
#include "model/model.h"

namespace mq {

enum class ModelProperty {
  kCapacity,
  kFifo,
  kPriority,
  kRoundRobin,
  kNoLoss,
  kTtlDelay,
  kConservation,
  kLiveness,
  // The origin document's claims read literally, for the audit (docs/theorems.md).
  // They are not part of kAllPropertiesMask: most of them are false as stated.
  kSeedReliability,  // 3.1.1: no message is ever lost (not even by a crash)
  kSeedOrder,        // 3.2.1, 4.1.4: every dequeue takes the oldest message of the queue
  kSeedBalance,      // 3.3.1: all consumers' loads differ by at most epsilon = 1
  kSeedIntegrity,    // 4.1.1: every message is in some queue
  kSeedDelivery,     // 4.1.2: send(p, q, m) = true implies m is in q
  kSeedConsumption,  // 4.1.3: a dequeued message is processed (acked)
};
inline constexpr ModelProperty kAllModelProperties[] = {
    ModelProperty::kCapacity,     ModelProperty::kFifo,    ModelProperty::kPriority,
    ModelProperty::kRoundRobin,   ModelProperty::kNoLoss,  ModelProperty::kTtlDelay,
    ModelProperty::kConservation, ModelProperty::kLiveness};
const char* property_name(ModelProperty p);
inline constexpr uint32_t bit(ModelProperty p) {
  return 1u << static_cast<int>(p);
}
inline constexpr uint32_t kAllPropertiesMask = (1u << 8) - 1;
inline constexpr ModelProperty kSeedClaims[] = {
    ModelProperty::kSeedReliability, ModelProperty::kSeedOrder,    ModelProperty::kSeedBalance,
    ModelProperty::kSeedIntegrity,   ModelProperty::kSeedDelivery, ModelProperty::kSeedConsumption};

struct Violation {
  ModelProperty property;
  std::string message;  // names the queue, message and consumer involved
};

class ModelProperties {
 public:
  // Checks the properties whose bit is set in `enabled` (a test that shows one
  // property catching one flaw enables that property alone).
  explicit ModelProperties(const Model& initial, uint32_t enabled = kAllPropertiesMask);
  bool enabled(ModelProperty p) const { return (enabled_ & bit(p)) != 0; }

  // Judges one step. REQUIRES: `after` is `before` with `op` applied, giving `result`.
  std::vector<Violation> observe(const Model& before, const Op& op, const Result<Effects>& result,
                                 const Model& after);

  // The explorer keeps what the checker remembers as part of each state. normalize()
  // subtracts the smallest round-robin count from all (only differences matter), so
  // that a cycle of the model is a cycle of (model, checker) too.
  void normalize();
  void encode(ByteWriter& w) const;
  void decode(ByteReader& r);  // REQUIRES: bytes written by encode() of the same topology
  friend bool operator==(const ModelProperties&, const ModelProperties&) = default;

 private:
  struct QueueTrack {
    // Flat containers: the explorer copies a checker per transition.
    std::vector<std::vector<MessageId>> never_delivered;  // [level], in order of becoming ready
    std::vector<MessageId> live;                          // accepted ids not finished, sorted
    struct Turn {
      ConsumerId consumer;
      uint64_t count;  // dispatch deliveries in the current window
      bool eligible;   // had credit at every choosing dispatch of the window
      friend bool operator==(const Turn&, const Turn&) = default;
    };
    std::vector<Turn> turns;  // the queue's consumers, in round-robin order
    Turn& turn(ConsumerId c);
    friend bool operator==(const QueueTrack&, const QueueTrack&) = default;
  };

  void check_capacity(const Model& before, const Op& op, const Effects& fx, const Model& after,
                      std::vector<Violation>& out) const;
  void check_fifo(const Effect& e, std::vector<Violation>& out);
  void check_priority(const Model& before, const Effect& e, std::vector<Violation>& out) const;
  void check_round_robin(const Model& before, const Op& op, const Effects& fx, std::vector<Violation>& out);
  void check_no_loss(const Op& op, const Effects& fx, const Model& after, std::vector<Violation>& out);
  void check_ttl_delay(const Model& after, const Effect& e, std::vector<Violation>& out) const;
  void check_seed_claims(const Model& before, const Op& op, const Effects& fx, const Model& after,
                         std::vector<Violation>& out) const;
  void reset_round_robin();

  uint32_t enabled_;
  std::vector<QueueTrack> queues_;
};

}  // namespace mq
