#pragma once
// ShadowModel: the executable model run in lockstep with the broker core. The broker
// node hands it every command it gave the core, at the same virtual time, with what
// the core answered (already in the model's terms, see translate.h); the shadow
// applies the same command to mq::Model and compares, step by step:
//  - whether the command succeeded, and the error code when it failed (messages
//    differ between the two and are not compared);
//  - the effects, in order, field by field (kind, queue, consumer, the whole message).
// The time advance a core command carries is compared as a separate step (the model's
// advance(now)), so a divergence names the step where it happened: "step 1234 at
// 50000000 ns, advance" or "... ack c0 #17".
//
// Nothing is sorted: where the model's order is a choice (several timers in one
// step), the core reproduces the documented order, so sequences compare as they are.
// After the first divergence the two states differ and the shadow stops comparing.
//
// Thread-safety: none; one shadow per run.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/model.h"

namespace mq::sim {

struct Divergence {
  uint64_t step = 0;  // 1-based count of commands compared
  TimeNs time_ns = 0;
  std::string op;     // the command, as text
  std::string model;  // what the model answered
  std::string core;   // what the core answered
  std::string to_string() const;
};

class ShadowModel {
 public:
  // REQUIRES: topology.validate().ok().
  explicit ShadowModel(const Topology& topology);

  // The core advanced to now_ns and answered `core`; compares with Model::advance.
  void advance(TimeNs now_ns, const Result<Effects>& core);
  // The core ran `op` (at the model's current time) and answered `core`.
  void apply(const Op& op, const Result<Effects>& core);
  // The broker crashed at now_ns and was restored from its log, with `core` the
  // restore's effects. The model (at the last synced point: it saw only released
  // commands) advances to now_ns and crashes; the two must agree on the queues marked
  // durable, losses aside (non-durable queues lose everything on both sides).
  void crash(TimeNs now_ns, const Result<Effects>& core, const std::vector<bool>& durable);

  const std::optional<Divergence>& divergence() const { return divergence_; }
  uint64_t steps() const { return steps_; }

 private:
  static constexpr size_t kKeepFinishedIds = 1024;  // per queue
  static constexpr uint64_t kPruneEverySteps = 1024;
  void compare(const std::string& what, const Result<Effects>& model, const Result<Effects>& core);
  void prune_finished();

  Model model_;
  uint64_t steps_ = 0;
  std::optional<Divergence> divergence_;
};

}  // namespace mq::sim
