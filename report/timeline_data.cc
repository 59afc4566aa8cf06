#include "report/timeline_data.h"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mq::report {
namespace {

// Message ids above this lose precision as a JavaScript number: written as strings.
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

class Strings {
 public:
  int at(const std::string& s) {
    if (s.empty()) return -1;
    auto [it, fresh] = index_.emplace(s, static_cast<int>(list_.size()));
    if (fresh) list_.push_back(s);
    return it->second;
  }
  nlohmann::json json() const { return list_; }

 private:
  std::map<std::string, int> index_;
  std::vector<std::string> list_;
};

const char* lane_kind(const std::string& lane, const Topology* t) {
  if (lane == kBrokerProcess) return "broker";
  if (lane == kNemesisProcess) return "nemesis";
  if (t != nullptr) {
    for (const auto& p : t->producers) {
      if (p.name == lane) return "producer";
    }
    for (const auto& c : t->consumers) {
      if (c.name == lane) return "consumer";
    }
  }
  return "client";
}

template <typename F>
void column(std::ostringstream& o, const char* name, size_t n, F&& value) {
  o << ",\"" << name << "\":[";
  for (size_t i = 0; i < n; ++i) o << (i ? "," : "") << value(i);
  o << "]";
}

std::string id_text(const std::optional<MessageId>& id) {
  if (!id) return "-1";
  if (*id > kMaxSafeInteger) return "\"" + std::to_string(*id) + "\"";
  return std::to_string(*id);
}

nlohmann::json faults_json(const HistoryView& v) {
  nlohmann::json windows = nlohmann::json::array();
  for (const FaultWindow& w : v.windows) {
    windows.push_back({{"kind", w.kind},
                       {"node", w.node},
                       {"from", w.from},
                       {"to", w.to ? static_cast<int64_t>(*w.to) : -1},
                       {"from_ns", w.from_ns},
                       {"to_ns", w.to_ns}});
  }
  return windows;
}

}  // namespace

std::string timeline_data_js(const History& h, const HistoryView& v, const std::vector<Verdict>& verdicts,
                             const Topology* topology) {
  Strings s;
  for (int f = 0; f < kEventFCount; ++f) s.at(event_f_name(static_cast<EventF>(f)));  // f index == string index
  const auto& ev = h.events;
  const size_t n = ev.size();
  std::ostringstream o;
  nlohmann::json kinds = nlohmann::json::array();
  for (const auto& lane : v.lanes) kinds.push_back(lane_kind(lane, topology));
  o << "window.MQ_TIMELINE = {\"source\":" << nlohmann::json(h.source).dump()
    << ",\"lanes\":" << nlohmann::json(v.lanes).dump() << ",\"lane_kind\":" << kinds.dump()
    << ",\"start\":" << v.start_ns << ",\"end\":" << v.end_ns
    << ",\"lines\":" << (n > 0 && ev.front().line > 0 ? "true" : "false");
  column(o, "t", n, [&](size_t i) { return ev[i].time_ns; });
  column(o, "lane", n, [&](size_t i) { return v.lane_of[i]; });
  column(o, "type", n, [&](size_t i) { return static_cast<int>(ev[i].type); });
  column(o, "f", n, [&](size_t i) { return static_cast<int>(ev[i].f); });
  column(o, "q", n, [&](size_t i) { return s.at(ev[i].queue); });
  column(o, "id", n, [&](size_t i) { return id_text(ev[i].id); });
  column(o, "c", n, [&](size_t i) { return s.at(ev[i].consumer.empty() ? ev[i].node : ev[i].consumer); });
  column(o, "att", n, [&](size_t i) { return ev[i].attempts.value_or(0); });
  column(o, "err", n, [&](size_t i) { return s.at(ev[i].error); });
  const auto& ops = v.operations;
  column(o, "op_inv", ops.size(), [&](size_t i) { return ops[i].invoke; });
  column(o, "op_end", ops.size(), [&](size_t i) { return ops[i].completion ? static_cast<int64_t>(*ops[i].completion) : -1; });
  const auto& holds = v.holds;
  column(o, "hold_from", holds.size(), [&](size_t i) { return holds[i].from; });
  column(o, "hold_to", holds.size(), [&](size_t i) { return holds[i].to; });
  column(o, "hold_lane", holds.size(), [&](size_t i) { return holds[i].lane; });
  nlohmann::json instants = nlohmann::json::array();
  for (const auto& x : v.instants) instants.push_back({{"kind", x.kind}, {"index", x.index}, {"t", x.time_ns}});
  nlohmann::json witness = nlohmann::json::array();
  for (const Verdict& verdict : verdicts) {
    if (verdict.valid) continue;
    nlohmann::json events = nlohmann::json::array();
    for (const auto& e : verdict.witness) {
      if (e.index < n) events.push_back(e.index);
    }
    witness.push_back({{"property", verdict.property}, {"message", verdict.message}, {"events", events}});
  }
  nlohmann::json dlq = nlohmann::json::object();
  if (topology != nullptr) {
    for (const auto& q : topology->queues) {
      if (q.dead_letter_queue) dlq[q.name] = *q.dead_letter_queue;
    }
  }
  o << ",\"windows\":" << faults_json(v).dump() << ",\"instants\":" << instants.dump()
    << ",\"witness\":" << witness.dump() << ",\"dlq\":" << dlq.dump() << ",\"strings\":" << s.json().dump()
    << "};\n";
  return o.str();
}

}  // namespace mq::report
