#pragma once
// Named faults ("mutants") in the broker and its log, to prove that the harness
// catches real bugs (docs/mutants.md, issue 7). Each fault is a small, realistic
// mistake written next to the correct code at the place where it would be made:
//
//   if (MQ_MUTANT(kReversedPriority)) { ...the buggy path... } else { ...correct... }
//
// In the production build (mq_impl, mq_sim, mqharness: MQ_MUTANTS not defined)
// MQ_MUTANT(k) is the constant `false`: the buggy paths are dead code that the
// compiler removes, there is no selection variable, and nothing can switch a fault
// on. tests/mutants_test.cc checks that with a static_assert in a production
// translation unit and by looking for the selection symbol in libmq_impl.a.
//
// In the mutant build (mutants/: mq_impl_mutants, mq_sim_mutants,
// mqharness-mutants, all compiled with MQ_MUTANTS) MQ_MUTANT(k) is true iff k is
// the one fault selected by select_mutant(). At most one fault is active at a time.
//
// Thread-safety: the selection is a process-wide atomic, so reading it from any
// thread is race-free; but select it before a run starts and do not change it while
// a run (simulate(), a Broker) is in flight, or that run sees a mix of behaviours.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/enum_count.h"

#if defined(MQ_MUTANTS)
#include <atomic>
#endif

namespace mq::impl {

// Declared in the order docs/mutants.md lists them. kNone is "the clean broker".
enum class Mutant : uint8_t {
  kNone = 0,
  kConfirmBeforeSync,         // wal.cc      Wal::write appends but skips the sync, and reports the batch synced
  kDropWhenFull,              // broker_core send_one: a full queue drops the message, the send still says ok
  kReversedPriority,          // broker_core deliver: takes the lowest non-empty level first (the seed's heap)
  kRetryJumpsQueue,           // broker_core place_ready: a retry goes to the head even under back redelivery
  kForgetInFlightOnRecovery,  // wal.cc      ImageBuilder::build: in-flight messages are left out of the image
  kRedeliveryNoAttempt,       // broker_core deliver: a redelivery does not raise the attempt count
  kAckWrongMessage,           // broker_core ack: finishes the consumer's newest delivery, not the one named
  kTtlOffByOne,               // broker_core place_ready: a message expires one tick (1 ns) before its TTL
  kEarlyDelay,                // broker_core accept: a delayed message is released one tick early
  kRoundRobinSkip,            // broker_core dispatch: the cursor steps over the consumer after the one served
  kDedupForgetsFinished,      // broker_core accept: the id is never remembered; a finished message's resend is new
  kWalIgnoresCrc,             // wal.cc      scan_segment: a record whose CRC does not match is decoded anyway
  kAckLostInReplay,           // wal.cc      ImageBuilder::apply_change: a removal of an in-flight message is skipped
  kDeadLetterLoses,           // broker_core dead_letter: the message leaves its queue, the copy never arrives
  kVisibilityNeverFires,      // broker_core deliver: the visibility timeout is never armed
  kUnboundedRetries,          // broker_core fail_delivery: max_retries is ignored; a failing message never dead-letters
};

struct MutantInfo {
  Mutant mutant;
  std::string_view name;    // what --only takes: "reversed-priority"
  std::string_view where;   // file and function of the fault point
  std::string_view breaks;  // the promise it breaks, in one line
};

// Every fault's row, in one exhaustive switch: a new enumerator does not build
// until it has its name, place and promise, and the count and kMutants follow.
constexpr MutantInfo mutant_info(Mutant m) {
  switch (m) {
    case Mutant::kNone:
      return {m, "none", "", "the clean broker"};
    case Mutant::kConfirmBeforeSync:
      return {m, "confirm-before-sync", "impl/wal.cc Wal::write",
              "a durable publish is confirmed before its record is synced; a crash loses it"};
    case Mutant::kDropWhenFull:
      return {m, "drop-when-full", "impl/broker_core.cc BrokerCore::send_one",
              "the seed's route_message: a full queue drops the message while the send reports success"};
    case Mutant::kReversedPriority:
      return {m, "reversed-priority", "impl/broker_core.cc BrokerCore::deliver",
              "the seed's heap: the lowest priority is delivered first"};
    case Mutant::kRetryJumpsQueue:
      return {m, "retry-jumps-queue", "impl/broker_core.cc BrokerCore::place_ready",
              "a retried message jumps to the head of its level under back redelivery"};
    case Mutant::kForgetInFlightOnRecovery:
      return {m, "forget-in-flight-on-recovery", "impl/wal.cc ImageBuilder::build",
              "recovery forgets the messages that were in flight: a confirmed message is lost"};
    case Mutant::kRedeliveryNoAttempt:
      return {m, "redelivery-no-attempt", "impl/broker_core.cc BrokerCore::deliver",
              "a redelivery keeps the attempt count of the first delivery: a silent duplicate"};
    case Mutant::kAckWrongMessage:
      return {m, "ack-wrong-message", "impl/broker_core.cc BrokerCore::ack",
              "an ack finishes the consumer's newest delivery instead of the message it names"};
    case Mutant::kTtlOffByOne:
      return {m, "ttl-off-by-one", "impl/broker_core.cc BrokerCore::place_ready",
              "the TTL check is off by one tick: a message expires 1 ns before its time"};
    case Mutant::kEarlyDelay:
      return {m, "early-delay", "impl/broker_core.cc BrokerCore::accept",
              "a delayed message is released one tick before its not-before time"};
    case Mutant::kRoundRobinSkip:
      return {m, "round-robin-skip", "impl/broker_core.cc BrokerCore::dispatch",
              "round-robin steps over the consumer after the one it served"};
    case Mutant::kDedupForgetsFinished:
      return {m, "dedup-forgets-finished", "impl/broker_core.cc BrokerCore::accept",
              "the idempotency window never records the id: a resent publish of a finished message goes through twice"};
    case Mutant::kWalIgnoresCrc:
      return {m, "wal-ignores-crc", "impl/wal.cc scan_segment",
              "the log reader accepts a record whose CRC does not match"};
    case Mutant::kAckLostInReplay:
      return {m, "ack-lost-in-replay", "impl/wal.cc ImageBuilder::apply_change",
              "recovery replay skips the removal of a delivered message: an acked message comes back"};
    case Mutant::kDeadLetterLoses:
      return {m, "dead-letter-loses", "impl/broker_core.cc BrokerCore::dead_letter",
              "a dead-lettered message leaves its queue but never reaches the dead-letter queue"};
    case Mutant::kVisibilityNeverFires:
      return {m, "visibility-never-fires", "impl/broker_core.cc BrokerCore::deliver",
              "the visibility timeout is never armed: an unacked delivery stays in flight forever"};
    case Mutant::kUnboundedRetries:
      return {m, "unbounded-retries", "impl/broker_core.cc BrokerCore::fail_delivery",
              "max_retries is ignored: a message that always fails is retried forever, never dead-lettered"};
  }
  return {m, {}, {}, {}};  // not an enumerator
}

// Faults only, kNone left out; enumerators are 0 (kNone), 1, 2, ...
inline constexpr size_t kMutantCount = [] {
  size_t n = 0;
  while (n + 1 < static_cast<size_t>(kMaxEnumerators) && !mutant_info(static_cast<Mutant>(n + 1)).name.empty()) ++n;
  return n;
}();

inline constexpr std::array<MutantInfo, kMutantCount> kMutants = [] {
  std::array<MutantInfo, kMutantCount> all{};
  for (size_t i = 0; i < kMutantCount; ++i) all[i] = mutant_info(static_cast<Mutant>(i + 1));
  return all;
}();

constexpr std::string_view mutant_name(Mutant m) { return mutant_info(m).name; }

constexpr std::optional<Mutant> mutant_by_name(std::string_view name) {
  if (name == "none") return Mutant::kNone;
  for (const MutantInfo& i : kMutants) {
    if (i.name == name) return i.mutant;
  }
  return std::nullopt;
}

#if defined(MQ_MUTANTS)

inline constexpr bool kMutantsCompiledIn = true;

namespace mutant_detail {
inline std::atomic<Mutant> selected_mutant{Mutant::kNone};
}  // namespace mutant_detail

// Selects the fault every later MQ_MUTANT() test sees (kNone: the clean broker).
inline void select_mutant(Mutant m) { mutant_detail::selected_mutant.store(m, std::memory_order_relaxed); }
inline Mutant selected_mutant() { return mutant_detail::selected_mutant.load(std::memory_order_relaxed); }

#define MQ_MUTANT(kName) (::mq::impl::selected_mutant() == ::mq::impl::Mutant::kName)

#else

inline constexpr bool kMutantsCompiledIn = false;

// A constant expression: `if (MQ_MUTANT(k))` is `if (false)`. The name is still
// checked against the enum, so a fault point cannot name a fault that does not exist.
#define MQ_MUTANT(kName) (static_cast<void>(::mq::impl::Mutant::kName), false)

#endif

}  // namespace mq::impl
