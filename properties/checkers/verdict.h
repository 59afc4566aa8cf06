#pragma once
// Verdict: what a checker says about a history. A failing verdict carries a witness:
// the smallest set of events (copies, with their index and line) that shows the
// violation on its own, so that a person can read it without the rest of the history.
//
// Thread-safety: none; a Verdict is a value.

#include <cstddef>
#include <string>
#include <vector>

#include "model/history.h"

namespace mq {

// A witness longer than this is cut (the message says how many events were left
// out): a capacity witness, for one, is capacity + 1 publishes.
inline constexpr size_t kMaxWitnessEvents = 64;

struct Verdict {
  std::string property;  // "integrity", "no-loss", ...
  bool valid = true;
  std::string message;   // why it failed, or what was checked when it held
  std::vector<HistoryEvent> witness;  // in history order; empty when valid
};

Verdict pass(std::string property, std::string message);
// Sorts the witness by index and cuts it at kMaxWitnessEvents.
Verdict fail(std::string property, std::string message, std::vector<HistoryEvent> witness);

// "integrity: FAIL: <message>" then one indented line per witness event.
std::string to_string(const Verdict& v);

}  // namespace mq
