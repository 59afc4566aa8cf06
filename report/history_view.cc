#include "report/history_view.h"

#include <algorithm>
#include <map>
#include <utility>

#include "base/check.h"

namespace mq::report {
namespace {

// The lanes: the topology's producers and consumers first, other clients as they
// appear, then the broker and the nemesis (always: an empty nemesis lane says "no
// fault").
std::vector<std::string> lane_names(const History& history, const Topology* topology) {
  std::vector<std::string> lanes;
  auto add = [&](const std::string& name) {
    if (std::find(lanes.begin(), lanes.end(), name) == lanes.end()) lanes.push_back(name);
  };
  if (topology != nullptr) {
    for (const auto& p : topology->producers) add(p.name);
    for (const auto& c : topology->consumers) add(c.name);
  }
  for (const auto& e : history.events) {
    if (e.is_client()) add(e.process);
  }
  add(std::string(kBrokerProcess));
  add(std::string(kNemesisProcess));
  return lanes;
}

// Whether a completed event ends what a consumer holds of its message.
bool ends_hold(const HistoryEvent& e) {
  if (e.type != EventType::kOk) return false;
  return e.f == EventF::kAck || e.f == EventF::kNack || e.f == EventF::kRequeue || e.f == EventF::kExpire ||
         e.f == EventF::kDeadLetter || e.f == EventF::kDeadLetterRefused || e.f == EventF::kLost;
}

void add_fault(HistoryView& v, std::map<std::pair<std::string, std::string>, size_t>& open,
               const HistoryEvent& e) {
  const FaultSpan span = event_f_span(e.f);  // the history format's row of f
  if (span.label == nullptr) return;
  if (span.instant) {
    v.instants.push_back({span.label, e.index, e.time_ns});
    return;
  }
  const auto key = std::make_pair(std::string(span.label), e.node);
  const auto it = open.find(key);
  if (span.opens) {
    if (it != open.end()) return;  // already on: the window goes on
    open[key] = v.windows.size();
    v.windows.push_back({span.label, e.node, e.index, std::nullopt, e.time_ns, e.time_ns});
  } else if (it != open.end()) {
    FaultWindow& w = v.windows[it->second];
    w.to = e.index;
    w.to_ns = e.time_ns;
    open.erase(it);
  }
}

}  // namespace

std::string message_key(const HistoryEvent& e) {
  if (!e.id || e.queue.empty()) return "";
  return e.queue + "#" + std::to_string(*e.id);
}

HistoryView build_history_view(const History& history, const Topology* topology) {
  HistoryView v;
  v.lanes = lane_names(history, topology);
  std::map<std::string, uint32_t> lane_index;
  for (uint32_t i = 0; i < v.lanes.size(); ++i) lane_index[v.lanes[i]] = i;
  std::map<std::string, size_t> open_op;                             // process -> operations index
  std::map<std::string, size_t> open_hold;                           // message key -> holds index
  std::map<std::pair<std::string, std::string>, size_t> open_fault;  // (kind, node) -> windows index
  const auto& events = history.events;
  v.lane_of.resize(events.size());
  if (!events.empty()) {
    v.start_ns = events.front().time_ns;
    v.end_ns = events.back().time_ns;
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& e = events[i];
    MQ_CHECK(e.index == i);  // REQUIRES: a validated history
    const uint32_t lane = lane_index.at(e.process);
    v.lane_of[i] = lane;
    if (e.is_client()) {
      if (e.type == EventType::kInvoke) {
        open_op[e.process] = v.operations.size();
        v.operations.push_back({lane, i, std::nullopt});
      } else if (const auto it = open_op.find(e.process); it != open_op.end()) {
        v.operations[it->second].completion = i;
        open_op.erase(it);
      }
    }
    const std::string key = message_key(e);
    if (!key.empty() && (ends_hold(e) || (e.f == EventF::kDeliver && e.type == EventType::kOk))) {
      if (const auto it = open_hold.find(key); it != open_hold.end()) {
        v.holds[it->second].to = i;
        open_hold.erase(it);
      }
    }
    if (e.f == EventF::kDeliver && e.type == EventType::kOk && !key.empty() && !e.consumer.empty()) {
      if (const auto it = lane_index.find(e.consumer); it != lane_index.end()) {
        open_hold[key] = v.holds.size();
        v.holds.push_back({it->second, i, i});
      }
    }
    if (e.process == kNemesisProcess) add_fault(v, open_fault, e);
  }
  const uint64_t last = events.empty() ? 0 : events.size() - 1;
  for (const auto& [key, at] : open_hold) v.holds[at].to = last;
  for (auto& w : v.windows) {
    if (!w.to) w.to_ns = v.end_ns;
  }
  return v;
}

}  // namespace mq::report
