#pragma once
// The audit of the origin document: each of its claims explored twice, as stated
// under its own design, and as repaired under the harness's model, on small bounded
// configurations. generate_audit() returns docs/theorems.md; a test fails when the
// file in the tree differs, so the document stays true as the code changes.

#include <string>
#include <vector>

#include "properties/explorer/explorer.h"

namespace mq {

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

// Deterministic: the same code gives the same text (no times, no machine facts).
std::string generate_audit();

}  // namespace mq
