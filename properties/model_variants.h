#pragma once
// Variants of the model that break exactly one promise each. The tests use them to
// show that each property (and each checker, and the explorer) catches the bug it is
// for; the audit uses the two that are the origin document's own design
// (kSeedDropWhenFull, kReversedPriority). They are not specifications of anything.

#include <string>

#include "base/enum_count.h"
#include "properties/model_walk.h"

namespace mq {

enum class Flaw {
  kSeedDropWhenFull,  // the seed's route_message: a full queue drops, the send still says yes
  kOverCapacity,      // a full queue stores the message anyway
  kFifoSwap,          // the two oldest never-delivered messages of a level trade places
  kReversedPriority,  // the seed's heap: the lowest priority is delivered first
  kRoundRobinSkip,    // round-robin steps over the consumer after the one it served
  kSilentLoss,        // an ack also drops a ready message, keeping the books balanced
  kTtlOffByOne,       // expiry uses now - 1: a message is delivered at its expiry time
  kEarlyDelay,        // a delayed message is ready at once
  kForgetAcked,       // an acked message vanishes from the accounts
  kDurableLoss,       // a crash empties durable queues too
  kParkedRedelivery,  // a requeued message is parked far in the future
  kUnboundedRetries,  // a requeued message forgets its attempts: retries never run out
};

constexpr const char* flaw_name(Flaw f) {
  switch (f) {
    case Flaw::kSeedDropWhenFull: return "SeedDropWhenFull";
    case Flaw::kOverCapacity: return "OverCapacity";
    case Flaw::kFifoSwap: return "FifoSwap";
    case Flaw::kReversedPriority: return "ReversedPriority";
    case Flaw::kRoundRobinSkip: return "RoundRobinSkip";
    case Flaw::kSilentLoss: return "SilentLoss";
    case Flaw::kTtlOffByOne: return "TtlOffByOne";
    case Flaw::kEarlyDelay: return "EarlyDelay";
    case Flaw::kForgetAcked: return "ForgetAcked";
    case Flaw::kDurableLoss: return "DurableLoss";
    case Flaw::kParkedRedelivery: return "ParkedRedelivery";
    case Flaw::kUnboundedRetries: return "UnboundedRetries";
  }
  return nullptr;  // not an enumerator
}
inline constexpr int kFlawCount = enum_count<Flaw>(flaw_name);

// The system under test "`inner` with this flaw", for random_walk and explore.
// Flaws compose: flawed_model(a, flawed_model(b)).
ApplyFn flawed_model(Flaw flaw, ApplyFn inner = apply_model);

// The origin document's own design, as its sketch code behaves: a full queue drops
// the message while the send reports success (route_message), and the priority heap
// pops the lowest priority first (PriorityMessage::cmp's reverse()). Its other
// choices are configuration: retries go to the back (Redelivery::kBack), nothing is
// durable, consumers have no prefetch limit.
ApplyFn seed_design_model();

}  // namespace mq
