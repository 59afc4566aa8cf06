#pragma once
// check_all: every history checker over one history, and the well-formedness check
// the others rely on.
//
// Thread-safety: pure functions of their arguments.

#include <string>
#include <vector>

#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/history_check.h"
#include "properties/checkers/verdict.h"

namespace mq {

inline constexpr const char* kWellFormed = history_check_name(HistoryCheck::kWellFormed);

struct CheckOptions {
  // The history ends after faults healed and consumers drained every queue, so
  // every accepted message must have ended (no-loss (4), completeness (3)) and the
  // model owes no broker event (refinement).
  bool complete = false;
  // Every message has its queue's max_retries (the history format does not carry a
  // message's own): completeness judges the retry budget, refinement stops branching
  // on it.
  bool queue_retry_budget = false;
};

// validate_history, and every queue and consumer the history names is in the
// topology, each consumer named with its own queue. Witness: the offending event.
Verdict check_well_formed(const History& history, const Topology& topology);

// The well-formed verdict, then every checker's, in the order check_all_properties()
// lists. A malformed history gets only its well-formed verdict: the others would
// judge nonsense.
// REQUIRES: topology.validate().ok().
std::vector<Verdict> check_all(const History& history, const Topology& topology,
                               const CheckOptions& options = {});

bool all_valid(const std::vector<Verdict>& verdicts);

// The properties check_all judges, in the order of its verdicts: the names of
// HistoryCheck's enumerators (properties/checkers/history_check.h), in their order.
const std::vector<std::string>& check_all_properties();

}  // namespace mq
