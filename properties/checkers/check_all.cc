#include "properties/checkers/check_all.h"

#include "properties/checkers/stream_check.h"

namespace mq {

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
