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
  // `history` outlives `checks`, so they borrow its events instead of copying them.
  StreamingChecks checks(topology, options);
  for (const auto& e : history.events) checks.add_borrowed(e);
  return checks.finish();
}

const std::vector<std::string>& check_all_properties() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (int k = 0; k < kHistoryChecks; ++k) names.emplace_back(history_check_name(static_cast<HistoryCheck>(k)));
    return names;
  }();
  return kNames;
}

bool all_valid(const std::vector<Verdict>& verdicts) {
  for (const auto& v : verdicts) {
    if (!v.valid) return false;
  }
  return true;
}

}  // namespace mq
