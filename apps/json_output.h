#pragma once
// --json (README "One convention for every command"): a verb run with --json writes
// exactly one JSON object, on one line, to standard output, and everything it would
// print for a person goes to standard error instead. The object has the shape of
// sweep's summary line: a version key naming the verb ("mqharness_check": 1), then
//   "exit_status": 0..3, "outcome": "ok" | "violated" | "input error" | "bound reached",
// then what the verb found ("verdicts", "summary", "reproduce", ...), added by the
// verb while it runs through json_result().
//
// Thread-safety: none; one verb per process. Child processes (sweep's seeds) inherit
// the redirection and never write the object (only start_json_output's process does).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "properties/checkers/verdict.h"

namespace mq::app {

// Redirects standard output to standard error and starts the object for `program`
// ("mqharness") and `verb`. Returns false (with errno's reason on stderr) if the
// descriptors cannot be set up.
bool start_json_output(const std::string& program, const std::string& verb);
// The object being built, or nullptr without --json.
nlohmann::ordered_json* json_result();
// Adds "verdicts": [{"property", "valid", "message", "witness": [event text, ...]}].
void json_add_verdicts(const std::vector<Verdict>& verdicts);
// Sets `key` to `value` (nothing without --json).
void json_set(const std::string& key, nlohmann::ordered_json value);
// Writes the object with `status` to the real standard output; returns `status`.
// Without --json it only returns `status`.
int finish_json_output(int status);

}  // namespace mq::app
