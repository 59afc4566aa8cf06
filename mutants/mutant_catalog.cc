#include "mutants/mutant_catalog.h"

namespace mq::mutants {

using impl::Mutant;

const std::vector<FaultPlan>& fault_plans() {
  static const std::vector<FaultPlan> kPlans = {
      {Mutant::kConfirmBeforeSync, "default", "", Flaw::kDurableLoss,
       "kDurableLoss: a crash loses what a durable queue was told it holds (the model has no disk)"},
      {Mutant::kDropWhenFull, "default", "", Flaw::kSeedDropWhenFull, "kSeedDropWhenFull: the same bug"},
      {Mutant::kReversedPriority, "default", "", Flaw::kReversedPriority, "kReversedPriority: the same bug"},
      {Mutant::kRetryJumpsQueue, "default", "", Flaw::kFifoSwap,
       "kFifoSwap: FIFO within a level broken (the model's nearest variant)"},
      {Mutant::kForgetInFlightOnRecovery, "default", "", Flaw::kDurableLoss,
       "kDurableLoss: a crash loses durable messages (the model has no log to replay)"},
      {Mutant::kRedeliveryNoAttempt, "default", "", Flaw::kUnboundedRetries,
       "kUnboundedRetries: a requeued message forgets its attempts"},
      {Mutant::kAckWrongMessage, "default", "", std::nullopt,
       "none: the model's ack names its message; no variant confuses two"},
      {Mutant::kTtlOffByOne, "default", "", Flaw::kTtlOffByOne, "kTtlOffByOne: the same bug, the other way round"},
      {Mutant::kEarlyDelay, "default", "", Flaw::kEarlyDelay, "kEarlyDelay: released early (at once)"},
      {Mutant::kRoundRobinSkip, "default", "", Flaw::kRoundRobinSkip, "kRoundRobinSkip: the same bug"},
      {Mutant::kDedupForgetsFinished, "default", "", std::nullopt,
       "none: the model remembers every id forever; the window is the core's"},
      {Mutant::kWalIgnoresCrc, "bitrot", "crashes that flip a bit of a synced log record (the default has no bit flips)",
       std::nullopt, "none: the model has no log"},
      {Mutant::kAckLostInReplay, "default", "", std::nullopt, "none: the model has no log to replay"},
      {Mutant::kDeadLetterLoses, "default", "", std::nullopt, "none: no variant loses a dead-letter copy"},
      {Mutant::kVisibilityNeverFires, "default", "", std::nullopt,
       "none: no variant disables the visibility timeout"},
      {Mutant::kUnboundedRetries, "default", "", Flaw::kUnboundedRetries, "kUnboundedRetries: the same bug"},
  };
  return kPlans;
}

Result<sim::Scenario> scenario_named(std::string_view name) {
  if (name == "default") return sim::default_scenario();
  if (name == "stormy") return sim::scenario_from_text(stormy_scenario_text(), "scenarios/stormy.json");
  if (name == "bitrot") return sim::scenario_from_text(bitrot_scenario_text(), "mutants/scenarios/bitrot.json");
  return invalid_argument("unknown scenario '" + std::string(name) + "'");
}

explorer::ExploreConfig explorer_config() {
  explorer::ExploreConfig c;
  QueueConfig q;
  q.name = "q";
  q.capacity = 2;
  q.priority_levels = 2;
  q.max_retries = 1;
  q.durable = true;
  q.visibility_timeout_ns = 1;
  c.topology.queues = {q};
  c.topology.consumers = {{"c0", "q", 1, AckMode::kManual}, {"c1", "q", 1, AckMode::kManual}};
  c.topology.producers = {{"p0"}};
  auto msg = [](Priority p, TimeNs ttl, TimeNs delay) {
    MessageSpec s;
    s.priority = p;
    s.ttl_ns = ttl;
    s.delay_ns = delay;
    return s;
  };
  for (const MessageSpec& m : {msg(0, 0, 0), msg(0, 0, 0), msg(1, 1, 0), msg(0, 0, 2)}) {
    c.messages.push_back({QueueId{0}, std::nullopt, m});
  }
  c.max_time_ns = 2;
  c.max_crashes = 1;
  c.fetch = false;
  c.nacks = true;
  c.max_states = 5'000'000;
  return c;
}

}  // namespace mq::mutants
