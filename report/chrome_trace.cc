#include "report/chrome_trace.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "report/history_view.h"

namespace mq::report {
namespace {

constexpr int kPid = 1;
// Fault windows get tracks after the lanes, numbered from here.
constexpr int kFirstFaultTid = 1000;

// Microseconds, from integer nanoseconds: a double holds every value of a run
// exactly enough that it prints back as the decimal (1234.567).
double micros(TimeNs ns) {
  return static_cast<double>(ns) / 1000.0;
}

nlohmann::json event_args(const HistoryEvent& e) {
  nlohmann::json a = nlohmann::json::object();
  a["index"] = e.index;
  if (e.line > 0) a["line"] = e.line;
  a["type"] = event_type_name(e.type);
  if (!e.queue.empty()) a["queue"] = e.queue;
  if (e.id) a["id"] = *e.id;
  if (!e.consumer.empty()) a["consumer"] = e.consumer;
  if (e.attempts) a["attempts"] = *e.attempts;
  if (e.priority) a["priority"] = *e.priority;
  if (e.requeue) a["requeue"] = *e.requeue;
  if (!e.error.empty()) a["error"] = e.error;
  if (!e.node.empty()) a["node"] = e.node;
  return a;
}

std::string slice_name(const HistoryEvent& e) {
  const std::string key = message_key(e);
  return std::string(event_f_name(e.f)) + (key.empty() ? "" : " " + key);
}

// An event and its time, already serialized: a 65,000-event history makes about
// 100,000 trace events, cheaper kept as text than as JSON trees.
struct Timed {
  TimeNs ts;
  std::string event;
};

void add_metadata(nlohmann::json& out, int tid, const std::string& name, int sort_index) {
  out.push_back(
      {{"name", "thread_name"}, {"ph", "M"}, {"pid", kPid}, {"tid", tid}, {"args", {{"name", name}}}});
  out.push_back({{"name", "thread_sort_index"},
                 {"ph", "M"},
                 {"pid", kPid},
                 {"tid", tid},
                 {"args", {{"sort_index", sort_index}}}});
}

void add_operations(const History& h, const HistoryView& v, std::vector<Timed>& out) {
  for (const Operation& op : v.operations) {
    const HistoryEvent& inv = h.events[op.invoke];
    const HistoryEvent& end = h.events[op.completion.value_or(h.events.size() - 1)];
    nlohmann::json args = event_args(inv);
    args["outcome"] = op.completion ? event_type_name(end.type) : "open";
    if (op.completion) args["completion"] = event_args(end);
    out.push_back({inv.time_ns, nlohmann::json{{"name", slice_name(inv)},
                                               {"cat", event_f_name(inv.f)},
                                               {"ph", "X"},
                                               {"ts", micros(inv.time_ns)},
                                               {"dur", micros(end.time_ns - inv.time_ns)},
                                               {"pid", kPid},
                                               {"tid", static_cast<int>(op.lane) + 1},
                                               {"args", std::move(args)}}
                                    .dump()});
  }
}

void add_instants(const History& h, const HistoryView& v, std::vector<Timed>& out) {
  for (const HistoryEvent& e : h.events) {
    if (e.is_client()) continue;
    out.push_back({e.time_ns, nlohmann::json{{"name", slice_name(e) + (e.node.empty() ? "" : " " + e.node)},
                                             {"cat", event_f_name(e.f)},
                                             {"ph", "i"},
                                             {"s", "t"},
                                             {"ts", micros(e.time_ns)},
                                             {"pid", kPid},
                                             {"tid", static_cast<int>(v.lane_of[e.index]) + 1},
                                             {"args", event_args(e)}}
                                  .dump()});
  }
}

void add_fault_windows(const HistoryView& v, nlohmann::json& metadata, std::vector<Timed>& out) {
  std::map<std::string, int> tracks;  // "kind node" -> tid
  for (const FaultWindow& w : v.windows) {
    const std::string track = "fault: " + w.kind + (w.node.empty() ? "" : " " + w.node);
    auto [it, fresh] = tracks.emplace(track, kFirstFaultTid + static_cast<int>(tracks.size()));
    if (fresh) add_metadata(metadata, it->second, track, it->second);
    out.push_back({w.from_ns, nlohmann::json{{"name", w.kind + (w.node.empty() ? "" : " " + w.node)},
                                             {"cat", "fault"},
                                             {"ph", "X"},
                                             {"ts", micros(w.from_ns)},
                                             {"dur", micros(w.to_ns - w.from_ns)},
                                             {"pid", kPid},
                                             {"tid", it->second},
                                             {"args", {{"from_index", w.from}, {"healed", w.to.has_value()}}}}
                                  .dump()});
  }
}

}  // namespace

std::string chrome_trace_json(const History& history, const Topology* topology, const std::string& title) {
  const HistoryView v = build_history_view(history, topology);
  nlohmann::json metadata = nlohmann::json::array();
  metadata.push_back(
      {{"name", "process_name"}, {"ph", "M"}, {"pid", kPid}, {"tid", 0}, {"args", {{"name", title}}}});
  for (size_t i = 0; i < v.lanes.size(); ++i)
    add_metadata(metadata, static_cast<int>(i) + 1, v.lanes[i], static_cast<int>(i));
  std::vector<Timed> timed;
  timed.reserve(history.events.size());
  add_operations(history, v, timed);
  add_instants(history, v, timed);
  add_fault_windows(v, metadata, timed);
  std::stable_sort(timed.begin(), timed.end(), [](const Timed& a, const Timed& b) { return a.ts < b.ts; });
  std::string out = "{\"traceEvents\":[";
  for (size_t i = 0; i < metadata.size(); ++i) out += (i ? "," : "") + metadata[i].dump();
  for (const Timed& t : timed) {
    out += ',';
    out += t.event;
  }
  const nlohmann::json other = {{"source", history.source}, {"events", history.events.size()}};
  out += "],\"displayTimeUnit\":\"ns\",\"otherData\":" + other.dump() + "}\n";
  return out;
}

Status write_chrome_trace(const History& history, const Topology* topology, const std::string& title,
                          const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << chrome_trace_json(history, topology, title);
  out.close();
  if (!out) return io_error(path + ": cannot write the trace");
  return Status();
}

}  // namespace mq::report
