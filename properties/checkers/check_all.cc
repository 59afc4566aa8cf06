#include "properties/checkers/check_all.h"

#include "properties/checkers/capacity.h"
#include "properties/checkers/completeness.h"
#include "properties/checkers/duplicates.h"
#include "properties/checkers/integrity.h"
#include "properties/checkers/load_balance.h"
#include "properties/checkers/no_loss.h"
#include "properties/checkers/order.h"
#include "properties/checkers/priority.h"
#include "properties/checkers/refinement.h"
#include "properties/checkers/stream_check.h"
#include "properties/checkers/ttl_delay.h"

namespace mq {

std::optional<std::string> misnamed(const HistoryEvent& e, const Topology& topology) {
  if (!e.queue.empty() && !topology.find_queue(e.queue)) return "unknown queue '" + e.queue + "'";
  if (e.consumer.empty()) return std::nullopt;
  const auto c = topology.find_consumer(e.consumer);
  if (!c) return "unknown consumer '" + e.consumer + "'";
  if (topology.consumers[*c].queue != e.queue) {
    return "consumer '" + e.consumer + "' reads '" + topology.consumers[*c].queue + "', not '" + e.queue + "'";
  }
  return std::nullopt;
}

Verdict check_well_formed(const History& history, const Topology& topology) {
  HistoryValidator validator;
  for (const auto& e : history.events) {
    Status s = validator.add(e);
    if (!s.ok()) return fail(kWellFormed, where(e) + ": " + s.message(), {e});
    if (auto why = misnamed(e, topology)) return fail(kWellFormed, where(e) + ": " + *why, {e});
  }
  return pass(kWellFormed, std::to_string(history.events.size()) + " events, well formed");
}

std::vector<Verdict> check_all(const History& history, const Topology& topology, const CheckOptions& options) {
  // The streaming checks, fed from memory: one code path for files and histories.
  StreamingChecks checks(topology, options);
  for (const auto& e : history.events) checks.add(e);
  return checks.finish();
}

bool all_valid(const std::vector<Verdict>& verdicts) {
  for (const auto& v : verdicts) {
    if (!v.valid) return false;
  }
  return true;
}

}  // namespace mq
