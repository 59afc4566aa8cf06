#pragma once
// Swarm over the configuration space: a scenario's `swarm` section lists rules, each a
// place in the scenario's JSON and the values a seed may put there; every seed draws
// one value per rule and place (from derive_seed(seed, "topology"), in the order of the
// rules and of the places), so that a sweep exercises every feature the broker has
// (overflow policies, redelivery, priorities, TTL and delay mixes, topic bindings,
// dead-letter chains, idempotency windows, checkpoint sizes...), not one
// configuration with many fault mixes (docs/simulator.md, "Swarm").
//
// A rule: {"path": "/topology/queues/*/overflow", "choose": ["reject", "drop-oldest"]}
// or {"path": "/workload/ttl_ppm", "range": [0, 400000]}. The path is a JSON pointer
// whose "*" steps match every element of an array (or every member of an object);
// "choose" takes any JSON value (null removes the key), "range" an inclusive integer
// range. The drawn scenario is the document with the values put in and the swarm
// section removed, parsed and validated as any scenario: a run file or a shrunk
// reproducer holds it, and replaying it draws nothing (the other components' draws do
// not depend on it, so the run is the same).
//
// Errors (kInvalidArgument) name the file and the JSON path: a rule that matches no
// place, an empty choice list, lo > hi, and a drawn scenario that is not valid (with
// the seed and every value drawn).
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "sim/scenario.h"

namespace mq::sim {

// The scenario seed `seed` runs: `s` itself when it has no swarm section. `drawn`
// (when given) receives one "path=value" line per place a value was put.
Result<Scenario> draw_scenario(const Scenario& s, uint64_t seed, std::vector<std::string>* drawn = nullptr);

}  // namespace mq::sim
