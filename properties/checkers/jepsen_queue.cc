#include "properties/checkers/jepsen_queue.h"

#include <algorithm>
#include <fstream>
#include <istream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/history_io.h"
#include "properties/checkers/verdict.h"

namespace mq {
namespace {

using Json = nlohmann::json;

std::string strip_colon(std::string s) {
  if (!s.empty() && s.front() == ':') s.erase(s.begin());
  return s;
}

Status field_error(std::string_view file, uint64_t line, std::string_view field, const std::string& what) {
  return corruption(std::string(file) + ":" + std::to_string(line) + ": field '" + std::string(field) + "': " + what);
}

Status read_type(const Json& j, std::string_view file, uint64_t line, EventType& out) {
  if (!j.contains("type")) return field_error(file, line, "type", "missing");
  if (!j["type"].is_string()) return field_error(file, line, "type", "must be a string");
  const auto t = parse_event_type(strip_colon(j["type"].get<std::string>()));
  if (!t) return field_error(file, line, "type", "must be one of invoke, ok, fail, info");
  out = *t;
  return Status();
}

Status read_process(const Json& j, std::string_view file, uint64_t line, std::string& out) {
  if (!j.contains("process")) return field_error(file, line, "process", "missing");
  const Json& p = j["process"];
  if (p.is_number_integer()) {
    out = p.dump();
  } else if (p.is_string()) {
    out = strip_colon(p.get<std::string>());
  } else {
    return field_error(file, line, "process", "must be an integer or a string");
  }
  return Status();
}

void add_to(ValueMultiset& m, const std::string& v, uint64_t n = 1) { m[v] += n; }

// a - b, multiplicities floored at 0 (multiset/minus).
ValueMultiset minus(const ValueMultiset& a, const ValueMultiset& b) {
  ValueMultiset out;
  for (const auto& [v, n] : a) {
    const auto it = b.find(v);
    const uint64_t m = it == b.end() ? 0 : it->second;
    if (n > m) out[v] = n - m;
  }
  return out;
}

// min multiplicities (multiset/intersect).
ValueMultiset intersect(const ValueMultiset& a, const ValueMultiset& b) {
  ValueMultiset out;
  for (const auto& [v, n] : a) {
    const auto it = b.find(v);
    if (it != b.end()) out[v] = std::min(n, it->second);
  }
  return out;
}

std::string list(const ValueMultiset& m) {
  std::string s;
  size_t shown = 0;
  for (const auto& [v, n] : m) {
    if (shown == kMaxListedValues) {
      s += " ...";
      break;
    }
    s += (shown++ == 0 ? "" : " ") + v + (n > 1 ? "x" + std::to_string(n) : "");
  }
  return s;
}

}  // namespace

std::string to_string(const JepsenOp& op) {
  std::string s = op.line > 0 ? "line " + std::to_string(op.line) + " " : "";
  s += op.process + " " + event_type_name(op.type) + " " + op.f;
  if (op.value) s += " " + *op.value;
  return s;
}

Result<JepsenOp> jepsen_op_from_json(std::string_view text, std::string_view file, uint64_t line) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& err) {
    return corruption(std::string(file) + ":" + std::to_string(line) + ": invalid JSON: " + err.what());
  }
  if (!j.is_object()) return corruption(std::string(file) + ":" + std::to_string(line) + ": not a JSON object");
  JepsenOp op;
  op.line = line;
  MQ_RETURN_IF_ERROR(read_process(j, file, line, op.process));
  MQ_RETURN_IF_ERROR(read_type(j, file, line, op.type));
  if (!j.contains("f")) return field_error(file, line, "f", "missing");
  if (!j["f"].is_string()) return field_error(file, line, "f", "must be a string");
  op.f = strip_colon(j["f"].get<std::string>());
  if (j.contains("time") && !j["time"].is_null()) {
    if (!j["time"].is_number_integer()) return field_error(file, line, "time", "must be an integer (ns)");
    op.time_ns = j["time"].get<int64_t>();
  }
  if (j.contains("index") && !j["index"].is_number_integer()) {
    return field_error(file, line, "index", "must be an integer");
  }
  if (j.contains("value")) op.value = j["value"].dump();
  if (op.f == "drain") {
    // As expand-queue-drain-ops: an ok drain's value is the drained elements; a
    // crashed (info) drain cannot be interpreted.
    if (op.type == EventType::kInfo) {
      return field_error(file, line, "type", "a drain must not be info (Jepsen's total-queue refuses it too)");
    }
    if (op.type == EventType::kOk) {
      if (!j.contains("value") || !j["value"].is_array()) {
        return field_error(file, line, "value", "an ok drain needs an array of the drained elements");
      }
      for (const auto& v : j["value"]) op.drained.push_back(v.dump());
    }
  }
  return op;
}

Status read_jepsen_stream(std::istream& in, std::string_view file, const JepsenOpSink& sink) {
  std::string text;
  uint64_t line = 0;
  // Bounded by the stream: one iteration per line, each line bounded below.
  while (std::getline(in, text)) {
    ++line;
    if (text.size() > kMaxHistoryLineBytes) {
      return corruption(std::string(file) + ":" + std::to_string(line) + ": line longer than " +
                        std::to_string(kMaxHistoryLineBytes) + " bytes");
    }
    if (text.empty() || text == "\r") {
      return corruption(std::string(file) + ":" + std::to_string(line) + ": empty line");
    }
    auto op = jepsen_op_from_json(text, file, line);
    if (!op.ok()) return op.status();
    MQ_RETURN_IF_ERROR(sink(std::move(op).value()));
  }
  if (in.bad()) return io_error(std::string(file) + ":" + std::to_string(line + 1) + ": read failed");
  return Status();
}

Status for_each_jepsen_op(const std::string& path, const JepsenOpSink& sink) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path + ": cannot open for reading");
  return read_jepsen_stream(in, path, sink);
}

Result<std::vector<JepsenOp>> read_jepsen_history(const std::string& path) {
  std::vector<JepsenOp> ops;
  MQ_RETURN_IF_ERROR(for_each_jepsen_op(path, [&](JepsenOp&& op) {
    ops.push_back(std::move(op));
    return Status();
  }));
  return ops;
}

Result<std::vector<JepsenOp>> parse_jepsen_history(std::string_view text, std::string_view file) {
  std::istringstream in{std::string(text)};
  std::vector<JepsenOp> ops;
  MQ_RETURN_IF_ERROR(read_jepsen_stream(in, file, [&](JepsenOp&& op) {
    ops.push_back(std::move(op));
    return Status();
  }));
  return ops;
}

Result<HistoryFormat> detect_history_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path + ": cannot open for reading");
  std::string text;
  uint64_t line = 0;
  while (line < kMaxFormatProbeLines && std::getline(in, text)) {
    ++line;
    if (text.size() > kMaxHistoryLineBytes) break;
    Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return corruption(path + ":" + std::to_string(line) + ": not a JSON object; cannot tell the history's format");
    }
    if (j.contains("v")) return HistoryFormat::kMqHarness;
    if (j.contains("f") && j["f"].is_string()) {
      const std::string f = strip_colon(j["f"].get<std::string>());
      if (f == "enqueue" || f == "dequeue" || f == "drain") return HistoryFormat::kJepsen;
    }
  }
  if (line == 0) return corruption(path + ":1: empty file: no history");
  return corruption(path + ":" + std::to_string(line) + ": field 'f': no line of the first " + std::to_string(line) +
                    " has \"v\" (an mqharness history) or f enqueue/dequeue/drain (a Jepsen queue history)");
}

uint64_t total(const ValueMultiset& m) {
  uint64_t n = 0;
  for (const auto& [v, k] : m) n += k;
  return n;
}

// The definitions follow jepsen.checker/total-queue in jepsen-io/jepsen,
// jepsen/src/jepsen/checker.clj (with expand-queue-drain-ops):
//   attempts   = multiset of the values of enqueue invokes
//   enqueues   = multiset of the values of enqueue oks
//   dequeues   = multiset of the values of dequeue oks (and of ok drains' elements)
//   ok         = (intersect dequeues attempts)
//   unexpected = the dequeues whose value was never attempted (every copy)
//   duplicated = (minus (minus dequeues attempts) unexpected)
//   lost       = (minus enqueues dequeues)
//   recovered  = (minus ok enqueues)
//   valid?     = lost and unexpected both empty
// A fail or info op and every other f count for nothing, as there.
void TotalQueueChecker::add(const JepsenOp& op) {
  if (op.f == "enqueue" && op.value) {
    if (op.type == EventType::kInvoke) add_to(attempts_, *op.value);
    if (op.type == EventType::kOk) {
      add_to(enqueues_, *op.value);
      first_enqueue_ok_.try_emplace(*op.value, op);
    }
  } else if (op.f == "dequeue" && op.type == EventType::kOk) {
    const std::string v = op.value.value_or("null");
    add_to(dequeues_, v);
    first_dequeue_.try_emplace(v, op);
  } else if (op.f == "drain" && op.type == EventType::kOk) {
    for (const auto& v : op.drained) {
      add_to(dequeues_, v);
      first_dequeue_.try_emplace(v, op);
    }
  }
}

TotalQueueReport TotalQueueChecker::finish() const {
  TotalQueueReport r;
  const ValueMultiset ok = intersect(dequeues_, attempts_);
  for (const auto& [v, n] : dequeues_) {
    if (!attempts_.contains(v)) r.unexpected[v] = n;
  }
  r.duplicated = minus(minus(dequeues_, attempts_), r.unexpected);
  r.lost = minus(enqueues_, dequeues_);
  r.recovered = minus(ok, enqueues_);
  r.attempt_count = total(attempts_);
  r.acknowledged_count = total(enqueues_);
  r.ok_count = total(ok);
  r.unexpected_count = total(r.unexpected);
  r.duplicated_count = total(r.duplicated);
  r.lost_count = total(r.lost);
  r.recovered_count = total(r.recovered);
  r.valid = r.lost.empty() && r.unexpected.empty();
  for (const auto& [v, n] : r.lost) r.witness.push_back(first_enqueue_ok_.at(v));
  for (const auto& [v, n] : r.unexpected) r.witness.push_back(first_dequeue_.at(v));
  std::stable_sort(r.witness.begin(), r.witness.end(),
                   [](const JepsenOp& a, const JepsenOp& b) { return a.line < b.line; });
  if (r.witness.size() > kMaxWitnessEvents) r.witness.resize(kMaxWitnessEvents);
  return r;
}

TotalQueueReport check_total_queue(const std::vector<JepsenOp>& ops) {
  TotalQueueChecker c;
  for (const auto& op : ops) c.add(op);
  return c.finish();
}

std::string to_string(const TotalQueueReport& r) {
  std::string s = std::string("total-queue: ") + (r.valid ? "valid" : "INVALID") +
                  ": attempt-count " + std::to_string(r.attempt_count) +
                  ", acknowledged-count " + std::to_string(r.acknowledged_count) +
                  ", ok-count " + std::to_string(r.ok_count) +
                  ", lost-count " + std::to_string(r.lost_count) +
                  ", unexpected-count " + std::to_string(r.unexpected_count) +
                  ", duplicated-count " + std::to_string(r.duplicated_count) +
                  ", recovered-count " + std::to_string(r.recovered_count) + "\n";
  const std::pair<const char*, const ValueMultiset*> parts[] = {
      {"lost", &r.lost}, {"unexpected", &r.unexpected}, {"duplicated", &r.duplicated}, {"recovered", &r.recovered}};
  for (const auto& [name, m] : parts) {
    if (!m->empty()) s += std::string("  ") + name + ": " + list(*m) + "\n";
  }
  for (const auto& op : r.witness) s += "  " + to_string(op) + "\n";
  return s;
}

}  // namespace mq
