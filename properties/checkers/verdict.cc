#include "properties/checkers/verdict.h"

#include <algorithm>

namespace mq {

Verdict pass(std::string property, std::string message) {
  return Verdict{std::move(property), true, std::move(message), {}};
}

Verdict fail(std::string property, std::string message, std::vector<HistoryEvent> witness) {
  std::stable_sort(witness.begin(), witness.end(),
                   [](const HistoryEvent& a, const HistoryEvent& b) { return a.index < b.index; });
  witness.erase(std::unique(witness.begin(), witness.end()), witness.end());
  if (witness.size() > kMaxWitnessEvents) {
    message += " (witness cut to " + std::to_string(kMaxWitnessEvents) + " of " +
               std::to_string(witness.size()) + " events)";
    witness.resize(kMaxWitnessEvents);
  }
  return Verdict{std::move(property), false, std::move(message), std::move(witness)};
}

std::string to_string(const Verdict& v) {
  std::string s = v.property + (v.valid ? ": ok: " : ": FAIL: ") + v.message + "\n";
  for (const auto& e : v.witness) s += "  " + to_string(e) + "\n";
  return s;
}

}  // namespace mq
