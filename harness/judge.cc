#include "harness/judge.h"

#include <string>
#include <utility>

#include "properties/checkers/check_all.h"

namespace mq::harness {

std::vector<Verdict> judge(const sim::SimResult& r) {
  std::vector<Verdict> out;
  if (r.divergence) {
    out.push_back(fail(kShadowProperty, "core and model diverge at " + r.divergence->to_string(), {}));
  } else {
    out.push_back(pass(kShadowProperty, std::to_string(r.shadow_steps) + " steps, core and model agree"));
  }
  if (r.corruption) {
    out.push_back(pass(kDiskProperty,
                       "DETECTED: a bit flipped at rest was caught at recovery (by a frame's CRC or the segment's "
                       "magic); the broker "
                       "was taken out of service and the run stopped (" +
                           *r.corruption + ")"));
    out.push_back(pass(kLivenessProperty, "not judged: the run stopped at a detected disk fault"));
  } else if (r.recovery_failure) {
    out.push_back(pass(kLivenessProperty, "not judged: the run stopped at a failed recovery (see recovery)"));
  } else if (r.cut) {
    out.push_back(
        pass(kLivenessProperty, "not judged: the run was cut after " + std::to_string(r.history_events) +
                                    " history events (a shrunk reproducer: the prefix up to its first "
                                    "violation)"));
  } else if (r.liveness.empty()) {
    out.push_back(pass(kLivenessProperty,
                       "every message confirmed and finished by " + std::to_string(r.end_ns) + " ns"));
  } else {
    std::string m;
    for (const auto& l : r.liveness) m += (m.empty() ? "" : "\n    ") + l;
    out.push_back(fail(kLivenessProperty, m, {}));
  }
  for (auto& v : check_all(r.history, r.scenario.topology, CheckOptions{.complete = r.quiescent})) {
    out.push_back(std::move(v));
  }
  return out;
}

const std::vector<std::string>& judged_properties() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names = {kShadowProperty, kDiskProperty, kLivenessProperty};
    const auto& checked = check_all_properties();
    names.insert(names.end(), checked.begin(), checked.end());
    return names;
  }();
  return kNames;
}

}  // namespace mq::harness
