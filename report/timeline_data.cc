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

// A column of small integers (-1 .. kMaxCharValue) is a string, one character per
// value (code kCharBase + value): a third of the bytes of a JSON array, and bytes are
// what a browser's load time follows. Larger values fall back to an array.
constexpr int64_t kCharBase = 36;
constexpr int64_t kMaxCharValue = 126 - kCharBase;

template <typename F>
void small_column(std::ostringstream& o, const char* name, size_t n, F&& value) {
  bool fits = true;
  for (size_t i = 0; i < n && fits; ++i) {
    const int64_t v = static_cast<int64_t>(value(i));
    fits = v >= -1 && v <= kMaxCharValue;
  }
  if (!fits) return column(o, name, n, value);
  std::string text;
  text.reserve(n);
  for (size_t i = 0; i < n; ++i)
    text.push_back(static_cast<char>(kCharBase + static_cast<int64_t>(value(i))));
  o << ",\"" << name << "\":" << nlohmann::json(text).dump();
}

// Message ids: simulator ids are (producer << 32 | sequence), so "id_hi" (a small
// column) and "id_lo" take half the bytes of whole ids; ids that do not split so, or
// exceed JavaScript's safe integers, are written whole ("id", unsafe ones as strings).
void id_columns(std::ostringstream& o, const std::vector<HistoryEvent>& ev) {
  bool split = true;
  for (size_t i = 0; i < ev.size() && split; ++i) {
    split = !ev[i].id ||
            ((*ev[i].id >> 32) <= static_cast<uint64_t>(kMaxCharValue) && *ev[i].id <= kMaxSafeInteger);
  }
  if (split) {
    small_column(o, "id_hi", ev.size(),
                 [&](size_t i) { return ev[i].id ? static_cast<int64_t>(*ev[i].id >> 32) : -1; });
    column(o, "id_lo", ev.size(), [&](size_t i) { return ev[i].id ? (*ev[i].id & 0xffffffffu) : 0; });
    return;
  }
  column(o, "id", ev.size(), [&](size_t i) {
    if (!ev[i].id) return std::string("-1");
    if (*ev[i].id > kMaxSafeInteger) return "\"" + std::to_string(*ev[i].id) + "\"";
    return std::to_string(*ev[i].id);
  });
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
  for (int f = 0; f < kEventFCount; ++f)
    s.at(event_f_name(static_cast<EventF>(f)));  // f index == string index
  const auto& ev = h.events;
  const size_t n = ev.size();
  std::ostringstream o;
  nlohmann::json kinds = nlohmann::json::array();
  for (const auto& lane : v.lanes) kinds.push_back(lane_kind(lane, topology));
  o << "{\"source\":" << nlohmann::json(h.source).dump() << ",\"lanes\":" << nlohmann::json(v.lanes).dump()
    << ",\"lane_kind\":" << kinds.dump() << ",\"start\":" << v.start_ns << ",\"end\":" << v.end_ns
    << ",\"lines\":" << (n > 0 && ev.front().line > 0 ? "true" : "false");
  // Times as differences from the previous event: half the digits of absolute times.
  column(o, "dt", n, [&](size_t i) { return i == 0 ? ev[0].time_ns : ev[i].time_ns - ev[i - 1].time_ns; });
  small_column(o, "lane", n, [&](size_t i) { return v.lane_of[i]; });
  small_column(o, "type", n, [&](size_t i) { return static_cast<int>(ev[i].type); });
  small_column(o, "f", n, [&](size_t i) { return static_cast<int>(ev[i].f); });
  small_column(o, "q", n, [&](size_t i) { return s.at(ev[i].queue); });
  id_columns(o, ev);
  small_column(o, "c", n,
               [&](size_t i) { return s.at(ev[i].consumer.empty() ? ev[i].node : ev[i].consumer); });
  small_column(o, "att", n, [&](size_t i) { return ev[i].attempts.value_or(0); });
  // Errors are rare: the events that have one, and its string.
  std::vector<size_t> with_error;
  for (size_t i = 0; i < n; ++i) {
    if (!ev[i].error.empty()) with_error.push_back(i);
  }
  column(o, "err_at", with_error.size(), [&](size_t k) { return with_error[k]; });
  column(o, "err_s", with_error.size(), [&](size_t k) { return s.at(ev[with_error[k]].error); });
  // Operations and holds in order: starts as differences from the previous start,
  // ends as distances from their own start (-1: open).
  const auto& ops = v.operations;
  column(o, "op_inv_d", ops.size(), [&](size_t i) { return ops[i].invoke - (i ? ops[i - 1].invoke : 0); });
  column(o, "op_len", ops.size(), [&](size_t i) {
    return ops[i].completion ? static_cast<int64_t>(*ops[i].completion - ops[i].invoke) : -1;
  });
  const auto& holds = v.holds;
  column(o, "hold_from_d", holds.size(),
         [&](size_t i) { return holds[i].from - (i ? holds[i - 1].from : 0); });
  column(o, "hold_len", holds.size(), [&](size_t i) { return holds[i].to - holds[i].from; });
  column(o, "hold_lane", holds.size(), [&](size_t i) { return holds[i].lane; });
  nlohmann::json instants = nlohmann::json::array();
  for (const auto& x : v.instants)
    instants.push_back({{"kind", x.kind}, {"index", x.index}, {"t", x.time_ns}});
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
    << "}";
  // JSON.parse of a string literal is several times faster to load than the same
  // data as an object literal (the JavaScript parser does far less work).
  const std::string json = o.str();
  std::string js = "window.MQ_TIMELINE = JSON.parse('";
  js.reserve(json.size() + json.size() / 16 + 64);
  for (const char c : json) {
    if (c == '\\' || c == '\'') js += '\\';
    js += c;
  }
  js += "');\n";
  return js;
}

}  // namespace mq::report
