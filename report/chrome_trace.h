#pragma once
// Trace export: a history in the Chrome Trace Event format (JSON object form, the
// format Perfetto and chrome://tracing open).
//
// One process (pid 1) named after the run; one track (tid) per lane of the
// HistoryView (producers, consumers, broker, nemesis) with "thread_name" and
// "thread_sort_index" metadata; a client operation is a complete slice ("ph":"X")
// from its invoke to its completion, named "f queue#id", its outcome and fields in
// args; a broker step and a nemesis event are instant events ("ph":"i", scope "t")
// on their track; a fault window is a complete slice on a track of its own per kind
// and node ("fault: partition p0"), since windows of different kinds overlap and
// slices on one track must nest. Timestamps are microseconds with nanosecond
// precision ("ts": 1234.567), written in non-decreasing order, so every track's
// events are monotone. An operation still open at the end lasts to the last event.
//
// Thread-safety: pure functions.

#include <string>

#include "base/status.h"
#include "model/history.h"
#include "model/topology.h"

namespace mq::report {

// The trace as one JSON document. `title` names the process ("mqharness run seed 1").
std::string chrome_trace_json(const History& history, const Topology* topology, const std::string& title);
// Writes it to `path`. Errors: kIoError naming the path.
Status write_chrome_trace(const History& history, const Topology* topology, const std::string& title,
                          const std::string& path);

}  // namespace mq::report
