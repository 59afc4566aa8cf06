#pragma once
// Traces: a sequence of model operations with what the model answered (an explorer
// counterexample, a model walk), written as a history, and re-executed on the real
// BrokerCore to see whether the implementation does the same.
//
// A trace file is a history (docs/history-format.md) written by HistoryRecorder at
// the model's time, plus FILE.topology.json (the form `mqharness check` reads). No
// FILE.run.json: the inputs are read back from the history itself (trace_ops):
//   - time moves: an advance to the event's time;
//   - a client's invoke: its op (consecutive publish invokes of one process, id and
//     time whose queues are exactly a topic's bound queues are one topic publish);
//   - a broker deliver that no client asked for: a dispatch of its queue;
//   - a nemesis crash or recover: that op; other broker events are effects.
// What leaves no event (a dispatch or fetch with nothing to do, an advance with no
// effect) changes nothing, so nothing is lost by reading it back this way.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/effect.h"
#include "model/history.h"
#include "model/op.h"
#include "model/topology.h"

namespace mq::sim {

struct TraceStep {
  Op op;
  Result<Effects> result = Effects{};
};

// The steps as a history, each recorded at the model's time after it (advances set it).
History trace_history(const Topology& topology, const std::vector<TraceStep>& steps, const std::string& source);

// Writes trace_history() to `path` and the topology to `path`.topology.json.
// Errors: kIoError.
Status write_trace(const std::string& path, const Topology& topology, const std::vector<TraceStep>& steps);
// The same for a history already made (run_on_core's): `replay` re-executes it.
Status write_trace_history(const std::string& path, const Topology& topology, const History& history);

// The inputs of a trace history. Errors (kInvalidArgument) name the event that no op
// explains (an unknown process, queue or consumer).
Result<std::vector<Op>> trace_ops(const History& history, const Topology& topology);

// Runs `ops` on a fresh BrokerCore configured as the simulator does
// (to_broker_config) and records its answers as a history, in the model's terms.
History run_on_core(const Topology& topology, const std::vector<Op>& ops, const std::string& source);

struct TraceComparison {
  std::optional<size_t> diverges_at;  // first event index that differs; nullopt: identical
  std::string recorded, replayed;     // the two events there, as JSON lines (or "(end)")
  size_t events = 0;                  // events compared
};
TraceComparison compare_histories(const History& recorded, const History& replayed);

}  // namespace mq::sim
