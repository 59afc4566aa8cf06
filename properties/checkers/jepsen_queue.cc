#include "properties/checkers/jepsen_queue.h"

#include <algorithm>
#include <fstream>
#include <istream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/history_io.h"
#include "formats/input_file.h"
#include "formats/json_config.h"
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
  auto parsed = parse_json_line(text, std::string(file) + ":" + std::to_string(line) + ": ");
  if (!parsed.ok()) return parsed.status();
  Json& j = parsed.value();
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

Status read_jepsen_lines(LineReader& lines, const JepsenOpSink& sink) {
  // Bounded by the stream: one round per line, each line bounded by the reader.
  for (;;) {
    auto next = lines.next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return Status();
    const std::string_view text = **next;
    if (text.empty() || text == "\r") return corruption(lines.where() + "empty line");
    auto op = jepsen_op_from_json(text, lines.file(), lines.line());
    if (!op.ok()) return op.status();
    MQ_RETURN_IF_ERROR(sink(std::move(op).value()));
  }
}

Status read_jepsen_stream(std::istream& in, std::string_view file, const JepsenOpSink& sink) {
  LineReader lines(in, file, kMaxHistoryLineBytes, "a history line");
  return read_jepsen_lines(lines, sink);
}

Status for_each_jepsen_op(const std::string& path, const JepsenOpSink& sink) {
  auto in = InputFile::open(path);
  if (!in.ok()) return in.status();
  return read_jepsen_stream(in.value().stream(), path, sink);
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

Result<HistoryFormat> detect_history_format(LineReader& lines) {
  lines.mark(kMaxFormatProbeBytes);
  uint64_t probed = 0;
  Status verdict = Status();
  std::optional<HistoryFormat> format;
  // Bounded by kMaxFormatProbeLines (and the reader's kMaxFormatProbeBytes).
  while (!format && verdict.ok() && probed < kMaxFormatProbeLines) {
    auto next = lines.next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) break;
    ++probed;
    const std::string_view text = **next;
    // The readers' own message for a line that is no JSON object, whichever line it is.
    if (text.empty() || text == "\r") return corruption(lines.where() + "empty line");
    auto j = parse_json_line(text, lines.where());
    if (!j.ok()) return j.status();
    if (j->contains("v")) format = HistoryFormat::kMqHarness;
    const auto f = j->find("f");
    if (f != j->end() && f->is_string()) {
      const std::string name = strip_colon(f->get<std::string>());
      if (name == "enqueue" || name == "dequeue" || name == "drain") format = HistoryFormat::kJepsen;
    }
  }
  lines.rewind();
  if (format) return *format;
  if (probed == 0) return corruption(lines.file() + ":1: empty file: no history");
  return corruption(lines.file() + ":" + std::to_string(probed) + ": field 'f': no line of the first " +
                    std::to_string(probed) +
                    " has \"v\" (an mqharness history) or f enqueue/dequeue/drain (a Jepsen queue history)");
}

Result<HistoryFormat> detect_history_format(const std::string& path) {
  auto in = InputFile::open(path);
  if (!in.ok()) return in.status();
  LineReader lines(in.value().stream(), path, kMaxHistoryLineBytes, "a history line");
  return detect_history_format(lines);
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
