#pragma once
// The audit of the origin document: each of its claims explored twice, as stated
// under its own design, and as repaired under the harness's model, on small bounded
// configurations. generate_audit() returns docs/theorems.md; a test fails when the
// file in the tree differs, so the document stays true as the code changes.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "explorer/explorer.h"

namespace mq::explorer {

// One exploration of the audit: a claim as stated (under the origin document's own
// design, a variant of the model) or as repaired (under the model itself).
struct AuditCase {
  std::string claim;
  bool as_stated = false;
  ExploreConfig config;  // with the one property checked
  ApplyFn variant;       // as stated: the seed's design; as repaired: empty (the model)
};
std::vector<AuditCase> audit_cases();
ExploreResult run_audit_case(const AuditCase& c, const SearchOptions& options = {});

// One exploration of the audit with its result, for the document and the report.
struct AuditRun {
  std::string claim;    // "Theorem 3.1.1 (reliability)"
  std::string reading;  // "as stated" or "as repaired"
  std::string checked;  // what was checked, in words
  ExploreConfig config;
  ApplyFn apply;  // the design explored (the model's apply_model when repaired)
  ExploreResult result;
};

// Called before each exploration (done of total) and once at the end (done == total).
using AuditProgressFn = std::function<void(size_t done, size_t total, const std::string& what)>;

// Every exploration of the audit, two per claim in the document's order.
std::vector<AuditRun> run_audit(const AuditProgressFn& progress = {});
// docs/theorems.md from the runs. REQUIRES: runs as run_audit() returns them.
std::string render_audit(const std::vector<AuditRun>& runs);

// render_audit(run_audit()). Deterministic: the same code gives the same text (no
// times, no machine facts).
std::string generate_audit();

}  // namespace mq::explorer
