#pragma once
// Random walks over the model, judged step by step by ModelProperties, and the
// liveness drain at the end. Shared by the RapidCheck suites (which generate
// OpChoices and shrink them), the broken-model tests, and `mqharness walk`.
//
// An OpChoice is an operation "shape" that is interpreted against the current state
// (an ack picks one of the deliveries in flight), so that most generated operations
// are meaningful and shrinking a sequence keeps it meaningful.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/enum_count.h"
#include "base/prng.h"
#include "model/model.h"
#include "properties/model_properties.h"

namespace mq {

enum class OpKind : uint8_t {
  kSend,
  kPublish,
  kDispatch,
  kFetch,
  kAck,
  kNack,
  kAdvance,
  kCrashOrRecover,
  kToggleConsumer
};
constexpr const char* op_kind_name(OpKind k) {
  switch (k) {
    case OpKind::kSend: return "send";
    case OpKind::kPublish: return "publish";
    case OpKind::kDispatch: return "dispatch";
    case OpKind::kFetch: return "fetch";
    case OpKind::kAck: return "ack";
    case OpKind::kNack: return "nack";
    case OpKind::kAdvance: return "advance";
    case OpKind::kCrashOrRecover: return "crash-or-recover";
    case OpKind::kToggleConsumer: return "toggle-consumer";
  }
  return nullptr;  // not an enumerator
}
inline constexpr int kOpKinds = enum_count<OpKind>(op_kind_name);

struct OpChoice {
  OpKind kind = OpKind::kSend;
  uint64_t bits = 0;  // every parameter is drawn from these bits; 0 gives the simplest op
};

// Turns a choice into an operation on `model`. `next_id` numbers fresh messages;
// one send in 16 reuses an old id, to exercise the duplicate-id error.
Op interpret(const Model& model, const OpChoice& choice, MessageId& next_id);

// A choice drawn with weights that keep a run busy: mostly sends, dispatches, acks.
OpChoice random_choice(Prng& prng, const Model& model);

// The built-in default topology: a durable task queue with priorities, a visibility
// timeout and a dead-letter queue, a non-durable event queue, a topic over both.
Topology default_topology();
// A small random topology (1-3 queues, 1-4 consumers), for swarm-style runs.
Topology random_topology(Prng& prng);

// How the system under test applies an operation; the clean model by default.
using ApplyFn = std::function<Result<Effects>(Model&, const Op&)>;
Result<Effects> apply_model(Model& model, const Op& op);

// Liveness (Thm 4.1.3, repaired): once faults stop (the broker is up, consumers are
// attached and ack everything they get), every message in a queue that has a consumer
// reaches a terminal state within `bound_ns` of virtual time. Returns the violations.
std::vector<Violation> drain(Model& model, ModelProperties& props, const ApplyFn& apply, TimeNs bound_ns,
                             std::vector<std::string>* trace = nullptr);

struct WalkReport {
  uint64_t seed = 0;
  uint64_t steps = 0;
  uint64_t failed_ops = 0;                        // operations the model rejected as bad input
  std::map<std::string, uint64_t> op_counts;      // by operation name
  std::map<std::string, uint64_t> effect_counts;  // by effect kind
  std::vector<Violation> violations;              // empty when every property held
  uint64_t violation_step = 0;                    // 1-based step of the first violation
  std::vector<std::string> trace;                 // the operations, for a failure report
};

struct WalkSetup {
  ApplyFn apply = apply_model;               // the system under test
  uint32_t properties = kAllPropertiesMask;  // which properties judge the walk
  bool keep_trace = false;                   // record every operation in the report
};

// Runs `steps` random operations from the initial state of `topology`, then drains.
// Stops at the first step with a violation. Deterministic in (topology, seed, steps).
WalkReport random_walk(const Topology& topology, uint64_t seed, uint64_t steps, const WalkSetup& setup = {});

inline constexpr TimeNs kDrainBoundNs = 10'000;

}  // namespace mq
