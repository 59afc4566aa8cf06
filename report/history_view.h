#pragma once
// HistoryView: what a picture of a history needs, derived once from its events and
// shared by the timeline, the plots and the trace export, so that they agree:
//  - lanes: one per process, producers then consumers (topology order when one is
//    given), other clients, then broker and nemesis;
//  - operations: a client's invoke paired with its completion (ok, fail, info), or
//    left open at the end (its outcome unknown, drawn as info);
//  - holds: a message delivered to a consumer, until it is acked, nacked, requeued,
//    expired, dead-lettered or lost (what the consumer had in flight);
//  - fault windows: crash..recover, partition..partition-end, clog..clog-end,
//    consumer-crash..consumer-restart, disk-full..disk-space (open ones end with the
//    history), and the instant faults (torn write, bit flip, unsynced writes lost,
//    corruption detected).
//
// Thread-safety: values; build_history_view() is a pure function.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/history.h"
#include "model/topology.h"

namespace mq::report {

struct Operation {
  uint32_t lane = 0;
  uint64_t invoke = 0;                 // event index of the invoke
  std::optional<uint64_t> completion;  // event index of ok/fail/info; none: open at the end
};

struct Hold {
  uint32_t lane = 0;  // the consumer's lane
  uint64_t from = 0;  // event index of the delivery
  uint64_t to = 0;    // event index of what ended it (the history's last event if nothing did)
};

struct FaultWindow {
  std::string kind;               // "broker down", "partition", "clog", "consumer down", "disk full"
  std::string node;               // the client it is about; empty for the broker's
  uint64_t from = 0;              // event index of the fault
  std::optional<uint64_t> to;     // event index of its end; none: still on when the history ends
  TimeNs from_ns = 0, to_ns = 0;  // to_ns: the end's time, or the history's last time
};

struct FaultInstant {
  std::string kind;  // "torn write", "bit flip", "unsynced lost", "corruption detected"
  uint64_t index = 0;
  TimeNs time_ns = 0;
};

struct HistoryView {
  std::vector<std::string> lanes;     // process names
  std::vector<uint32_t> lane_of;      // [event index] -> lane
  std::vector<Operation> operations;  // in invoke order
  std::vector<Hold> holds;            // in delivery order
  std::vector<FaultWindow> windows;   // in start order
  std::vector<FaultInstant> instants;
  TimeNs start_ns = 0, end_ns = 0;  // the first and last event's time
};

// `topology` may be null (a history checked without one orders lanes by first
// appearance within each group).
HistoryView build_history_view(const History& history, const Topology* topology);

// The message key of an event: "queue#id", empty for events without a message.
std::string message_key(const HistoryEvent& e);

}  // namespace mq::report
