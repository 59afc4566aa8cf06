#include "model/history_io.h"

#include <fstream>
#include <istream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mq {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Every key a version 1 line may carry, in the order the writer emits them.
constexpr const char* kKeys[] = {"v",       "index",   "time",      "process", "type",
                                 "f",       "queue",   "consumer",  "id",      "payload",
                                 "priority", "ttl_ns", "delay_ns",  "timestamp_ns",
                                 "not_before_ns", "attempts", "requeue", "error"};

bool known_key(const std::string& key) {
  for (const char* k : kKeys) {
    if (key == k) return true;
  }
  return false;
}

const char* json_type_name(const Json& j) {
  if (j.is_number_float()) return "a fraction";  // type_name() says "number" for all numbers
  return j.type_name();
}

// Reads the fields of one parsed line; every error names the file, line and field.
class FieldReader {
 public:
  FieldReader(const Json& j, std::string_view file, uint64_t line)
      : j_(j), prefix_(std::string(file) + ":" + std::to_string(line) + ": ") {}

  Status error(std::string_view field, const std::string& what) const {
    return corruption(prefix_ + "field '" + std::string(field) + "': " + what);
  }
  Status error(const std::string& what) const { return corruption(prefix_ + what); }

  bool has(const char* key) const { return j_.contains(key); }

  Status required(const char* key) const {
    return has(key) ? Status() : error(key, "missing");
  }

  Status get_string(const char* key, std::string& out) const {
    if (!has(key)) return Status();
    const Json& v = j_.at(key);
    if (!v.is_string()) return error(key, std::string("must be a string, got ") + json_type_name(v));
    out = v.get<std::string>();
    return Status();
  }

  // An integer in [lo, hi]; fractions, strings and out-of-range values are errors.
  template <typename T>
  Status get_int(const char* key, T lo, T hi, std::optional<T>& out) const {
    if (!has(key)) return Status();
    const Json& v = j_.at(key);
    if (v.is_number_unsigned()) {
      const auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(hi)) return out_of_range(key, std::to_string(u), lo, hi);
      out = static_cast<T>(u);
    } else if (v.is_number_integer()) {
      const auto s = v.get<int64_t>();
      if (s < 0 && (lo >= 0 || s < static_cast<int64_t>(lo))) {
        return out_of_range(key, std::to_string(s), lo, hi);
      }
      out = static_cast<T>(s);
    } else {
      return error(key, std::string("must be an integer, got ") + json_type_name(v));
    }
    return Status();
  }

  Status get_bool(const char* key, std::optional<bool>& out) const {
    if (!has(key)) return Status();
    const Json& v = j_.at(key);
    if (!v.is_boolean()) return error(key, std::string("must be true or false, got ") + json_type_name(v));
    out = v.get<bool>();
    return Status();
  }

 private:
  template <typename T>
  Status out_of_range(const char* key, const std::string& got, T lo, T hi) const {
    return error(key, "must be in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + got);
  }

  const Json& j_;
  std::string prefix_;
};

constexpr TimeNs kMaxTime = std::numeric_limits<TimeNs>::max();

Status read_header(const FieldReader& r, const Json& j, HistoryEvent& e) {
  for (const char* key : {"v", "time", "process", "type", "f"}) MQ_RETURN_IF_ERROR(r.required(key));
  std::optional<int64_t> version;
  MQ_RETURN_IF_ERROR(r.get_int<int64_t>("v", 0, kMaxTime, version));
  if (*version != kHistoryFormatVersion) {
    return r.error("v", "unsupported version " + std::to_string(*version) + " (this build reads " +
                            std::to_string(kHistoryFormatVersion) + ")");
  }
  std::optional<uint64_t> index;
  MQ_RETURN_IF_ERROR(r.get_int<uint64_t>("index", 0, std::numeric_limits<uint64_t>::max(), index));
  if (index) e.index = *index;
  std::optional<TimeNs> time;
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("time", 0, kMaxTime, time));
  e.time_ns = *time;
  // Jepsen numbers its client processes; we keep them as text.
  const Json& p = j.at("process");
  if (p.is_number_integer()) {
    e.process = p.is_number_unsigned() ? std::to_string(p.get<uint64_t>()) : std::to_string(p.get<int64_t>());
  } else if (p.is_string()) {
    e.process = p.get<std::string>();
  } else {
    return r.error("process", std::string("must be a string or an integer, got ") + json_type_name(p));
  }
  std::string name;
  MQ_RETURN_IF_ERROR(r.get_string("type", name));
  const auto type = parse_event_type(name);
  if (!type) return r.error("type", "unknown value '" + name + "'");
  e.type = *type;
  MQ_RETURN_IF_ERROR(r.get_string("f", name));
  const auto f = parse_event_f(name);
  if (!f) return r.error("f", "unknown value '" + name + "'");
  e.f = *f;
  return Status();
}

Status read_body(const FieldReader& r, HistoryEvent& e) {
  MQ_RETURN_IF_ERROR(r.get_string("queue", e.queue));
  MQ_RETURN_IF_ERROR(r.get_string("consumer", e.consumer));
  MQ_RETURN_IF_ERROR(r.get_string("error", e.error));
  if (r.has("payload")) {
    e.payload.emplace();
    MQ_RETURN_IF_ERROR(r.get_string("payload", *e.payload));
  }
  MQ_RETURN_IF_ERROR(r.get_int<MessageId>("id", 0, std::numeric_limits<MessageId>::max(), e.id));
  MQ_RETURN_IF_ERROR(r.get_int<Priority>("priority", 0, 255, e.priority));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("ttl_ns", 0, kMaxTime, e.ttl_ns));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("delay_ns", 0, kMaxTime, e.delay_ns));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("timestamp_ns", 0, kMaxTime, e.timestamp_ns));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("not_before_ns", 0, kMaxTime, e.not_before_ns));
  MQ_RETURN_IF_ERROR(r.get_int<uint32_t>("attempts", 0, UINT32_MAX, e.attempts));
  MQ_RETURN_IF_ERROR(r.get_bool("requeue", e.requeue));
  return Status();
}

// Parses one line, refusing duplicate keys (nlohmann would keep the last silently).
Status parse_line(std::string_view text, const std::string& prefix, Json& out) {
  std::set<std::string> seen;
  std::string duplicate;
  auto callback = [&](int d, Json::parse_event_t event, Json& parsed) {
    if (event == Json::parse_event_t::key && d == 1 && !seen.insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  try {
    out = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::parse_error& err) {
    return corruption(prefix + "not valid JSON at byte " + std::to_string(err.byte) + ": " + err.what());
  } catch (const Json::exception& err) {
    return corruption(prefix + "not valid JSON: " + err.what());
  }
  if (!duplicate.empty()) return corruption(prefix + "field '" + duplicate + "': appears twice");
  if (!out.is_object()) return corruption(prefix + "not a JSON object");
  return Status();
}

}  // namespace

Result<HistoryEvent> from_json(std::string_view text, std::string_view file, uint64_t line,
                               uint64_t index) {
  const std::string prefix = std::string(file) + ":" + std::to_string(line) + ": ";
  Json j;
  MQ_RETURN_IF_ERROR(parse_line(text, prefix, j));
  FieldReader r(j, file, line);
  for (const auto& item : j.items()) {
    if (!known_key(item.key())) return r.error(item.key(), "unknown field");
  }
  HistoryEvent e;
  e.index = index;
  e.line = line;
  MQ_RETURN_IF_ERROR(read_header(r, j, e));
  MQ_RETURN_IF_ERROR(read_body(r, e));
  Status shape = check_event_shape(e);
  if (!shape.ok()) return corruption(prefix + shape.message());
  return e;
}

Result<std::string> to_json(const HistoryEvent& e) {
  OrderedJson j;
  j["v"] = kHistoryFormatVersion;
  j["index"] = e.index;
  j["time"] = e.time_ns;
  j["process"] = e.process;
  j["type"] = event_type_name(e.type);
  j["f"] = event_f_name(e.f);
  if (!e.queue.empty()) j["queue"] = e.queue;
  if (!e.consumer.empty()) j["consumer"] = e.consumer;
  if (e.id) j["id"] = *e.id;
  if (e.payload) j["payload"] = *e.payload;
  if (e.priority) j["priority"] = *e.priority;
  if (e.ttl_ns) j["ttl_ns"] = *e.ttl_ns;
  if (e.delay_ns) j["delay_ns"] = *e.delay_ns;
  if (e.timestamp_ns) j["timestamp_ns"] = *e.timestamp_ns;
  if (e.not_before_ns) j["not_before_ns"] = *e.not_before_ns;
  if (e.attempts) j["attempts"] = *e.attempts;
  if (e.requeue) j["requeue"] = *e.requeue;
  if (!e.error.empty()) j["error"] = e.error;
  try {
    return j.dump();
  } catch (const OrderedJson::exception& err) {
    return invalid_argument(where(e) + ": cannot write the event: " + err.what());
  }
}

Status read_history_stream(std::istream& in, std::string_view file, const HistoryEventSink& sink) {
  HistoryValidator validator;
  std::string text;
  uint64_t line = 0;
  // Bounded by the stream: one iteration per line, each line bounded below.
  while (std::getline(in, text)) {
    ++line;
    const std::string prefix = std::string(file) + ":" + std::to_string(line) + ": ";
    const bool terminated = !in.eof();
    if (text.size() > kMaxHistoryLineBytes) {
      return corruption(prefix + "line longer than " + std::to_string(kMaxHistoryLineBytes) + " bytes");
    }
    if (text.empty() || text == "\r") return corruption(prefix + "empty line");
    auto event = from_json(text, file, line, line - 1);
    if (!event.ok()) {
      if (!terminated) {
        return corruption(prefix + "truncated last line (no newline at the end and not a valid event: " +
                          event.status().message() + ")");
      }
      return event.status();
    }
    Status valid = validator.add(*event);
    if (!valid.ok()) return corruption(prefix + valid.message());
    MQ_RETURN_IF_ERROR(sink(std::move(event).value()));
  }
  if (in.bad()) return io_error(std::string(file) + ":" + std::to_string(line + 1) + ": read failed");
  return Status();
}

Status for_each_history_event(const std::string& path, const HistoryEventSink& sink) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path + ": cannot open for reading");
  return read_history_stream(in, path, sink);
}

namespace {
HistoryEventSink append_to(History& h) {
  return [&h](HistoryEvent&& e) {
    h.events.push_back(std::move(e));
    return Status();
  };
}
}  // namespace

Result<History> read_history(const std::string& path) {
  History h;
  h.source = path;
  MQ_RETURN_IF_ERROR(for_each_history_event(path, append_to(h)));
  return h;
}

Result<History> parse_history(std::string_view text, std::string_view file) {
  History h;
  h.source = std::string(file);
  std::istringstream in{std::string(text)};
  MQ_RETURN_IF_ERROR(read_history_stream(in, file, append_to(h)));
  return h;
}

Result<std::string> format_history(const History& history) {
  std::string out;
  for (const auto& e : history.events) {
    auto line = to_json(e);
    if (!line.ok()) return line.status();
    out += *line;
    out += '\n';
  }
  return out;
}

Status write_history(const History& history, std::ostream& out) {
  auto text = format_history(history);
  if (!text.ok()) return text.status();
  out << *text;
  if (!out) return io_error(history.source + ": write failed");
  return Status();
}

Status write_history_file(const History& history, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return io_error(path + ": cannot open for writing");
  MQ_RETURN_IF_ERROR(write_history(history, out));
  out.close();
  if (!out) return io_error(path + ": write failed");
  return Status();
}

}  // namespace mq
