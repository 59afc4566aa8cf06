#pragma once
// The audit of the origin document: each of its claims explored twice, as stated
// under its own design, and as repaired under the harness's model, on small bounded
// configurations. generate_audit() returns docs/theorems.md; a test fails when the
// file in the tree differs, so the document stays true as the code changes.

#include <string>

namespace mq {

// Deterministic: the same code gives the same text (no times, no machine facts).
std::string generate_audit();

}  // namespace mq
