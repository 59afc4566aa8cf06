#pragma once
// The timeline's data, written as DIR/timeline-data.js ("window.MQ_TIMELINE =
// JSON.parse('{...}');", a script rather than a .json file because a page opened from
// file:// may not fetch()).
// Columnar, so a 65,000-event history is a few MB and parses in milliseconds:
//   lanes, lane_kind           lane names and "producer"/"consumer"/"client"/"broker"/"nemesis"
//   strings                    f names, queues, consumers, nodes, errors (indices below)
//   dt, lane, type, f, q, c, att   one entry per event (-1: absent); dt is the time
//                              since the previous event (the first: its time); small
//                              columns are strings, one character per value
//                              (code 36 + value), when every value fits
//   id_hi + id_lo, or id       message ids (-1: none), split when they are
//                              (hi << 32 | lo) with a small hi
//   err_at, err_s              the events with an error, and its string
//   op_inv_d, op_len           operations: invoke index as the difference from the
//                              previous one, completion as the distance from it (-1: open)
//   hold_from_d, hold_len, hold_lane   deliveries held by consumers, the same way
//   windows, instants          faults (HistoryView)
//   witness                    [{property, message, events: [index...]}] of failed verdicts
//   dlq                        queue -> its dead-letter queue (a message's life goes on there)
//
// Thread-safety: pure function.

#include <string>
#include <vector>

#include "model/history.h"
#include "model/topology.h"
#include "properties/checkers/verdict.h"
#include "report/history_view.h"

namespace mq::report {

std::string timeline_data_js(const History& history, const HistoryView& view,
                             const std::vector<Verdict>& verdicts, const Topology* topology);

}  // namespace mq::report
