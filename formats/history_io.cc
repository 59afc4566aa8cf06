#include "formats/history_io.h"

#include <cstring>
#include <fstream>
#include <istream>
#include <limits>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/input_file.h"
#include "formats/json_config.h"

namespace mq {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Every key a line may carry, in the order the writer emits them.
constexpr const char* kKeys[] = {"v",           "index",        "time",          "process",  "type",
                                 "f",           "queue",        "topic",         "bound",    "consumer",
                                 "id",          "payload",      "priority",      "ttl_ns",   "delay_ns",
                                 "max_retries", "timestamp_ns", "not_before_ns", "attempts", "requeue",
                                 "error",       "node"};

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

  Status get_strings(const char* key, std::vector<std::string>& out) const {
    if (!has(key)) return Status();
    const Json& v = j_.at(key);
    if (!v.is_array())
      return error(key, std::string("must be an array of strings, got ") + json_type_name(v));
    out.clear();
    for (const Json& x : v) {
      if (!x.is_string()) return error(key, std::string("must hold strings only, got ") + json_type_name(x));
      out.push_back(x.get<std::string>());
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
  if (*version < kOldestHistoryFormatVersion || *version > kHistoryFormatVersion) {
    return r.error("v", "unsupported version " + std::to_string(*version) + " (this build reads " +
                            std::to_string(kOldestHistoryFormatVersion) + " to " +
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
  MQ_RETURN_IF_ERROR(r.get_string("node", e.node));
  MQ_RETURN_IF_ERROR(r.get_string("topic", e.topic));
  MQ_RETURN_IF_ERROR(r.get_strings("bound", e.bound));
  if (r.has("payload")) {
    e.payload.emplace();
    MQ_RETURN_IF_ERROR(r.get_string("payload", *e.payload));
  }
  MQ_RETURN_IF_ERROR(r.get_int<MessageId>("id", 0, std::numeric_limits<MessageId>::max(), e.id));
  MQ_RETURN_IF_ERROR(r.get_int<Priority>("priority", 0, 255, e.priority));
  // Any integer: a client's publish records what it asked, and the validator
  // (model/history.h) judges where a negative one may stand.
  constexpr TimeNs kMinTime = std::numeric_limits<TimeNs>::min();
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("ttl_ns", kMinTime, kMaxTime, e.ttl_ns));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("delay_ns", kMinTime, kMaxTime, e.delay_ns));
  MQ_RETURN_IF_ERROR(r.get_int<uint32_t>("max_retries", 0, UINT32_MAX, e.max_retries));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("timestamp_ns", 0, kMaxTime, e.timestamp_ns));
  MQ_RETURN_IF_ERROR(r.get_int<TimeNs>("not_before_ns", 0, kMaxTime, e.not_before_ns));
  MQ_RETURN_IF_ERROR(r.get_int<uint32_t>("attempts", 0, UINT32_MAX, e.attempts));
  MQ_RETURN_IF_ERROR(r.get_bool("requeue", e.requeue));
  return Status();
}

// ---- The fast path ----
// Reads the lines our writer produces (a flat object without whitespace, strings of
// printable ASCII with simple escapes, integers >= 0) without building a JSON DOM:
// about ten times faster than the nlohmann path. It gives up (returns false) on
// anything else: whitespace, a fraction, a negative number, \u escapes, bytes >= 0x80,
// an unknown or duplicate key, a value out of range, a missing field, an unknown f or
// type, a shape error. from_json then reads the line again with nlohmann, which gives
// the same event or the error naming the field: the fast path decides nothing.
class FastLine {
 public:
  FastLine(std::string_view text, HistoryEvent& e) : p_(text.data()), end_(text.data() + text.size()), e_(e) {}

  bool parse() {
    if (!lit('{')) return false;
    uint32_t seen = 0;
    // Bounded by the line: each iteration consumes at least one byte.
    for (;;) {
      std::string_view key;
      if (!plain_string(key) || !lit(':')) return false;
      const int field = field_of(key);
      if (field < 0 || (seen & (uint32_t{1} << field)) != 0) return false;
      seen |= uint32_t{1} << field;
      if (!value(field)) return false;
      if (lit(',')) continue;
      if (lit('}')) break;
      return false;
    }
    constexpr uint32_t kRequired = (1u << kV) | (1u << kTime) | (1u << kProcess) | (1u << kType) | (1u << kF);
    return p_ == end_ && (seen & kRequired) == kRequired && check_event_shape(e_).ok();
  }

 private:
  enum Field {
    kV,
    kIndex,
    kTime,
    kProcess,
    kType,
    kF,
    kQueue,
    kTopic,
    kBound,
    kConsumer,
    kId,
    kPayload,
    kPriority,
    kTtl,
    kDelay,
    kMaxRetries,
    kTimestamp,
    kNotBefore,
    kAttempts,
    kRequeue,
    kError,
    kNode,
    kFields
  };

  static int field_of(std::string_view k) {
    static constexpr std::string_view kNames[kFields] = {
        "v",        "index",   "time",     "process",     "type",         "f",
        "queue",    "topic",   "bound",    "consumer",    "id",           "payload",
        "priority", "ttl_ns",  "delay_ns", "max_retries", "timestamp_ns", "not_before_ns",
        "attempts", "requeue", "error",    "node"};
    for (int i = 0; i < kFields; ++i) {
      if (kNames[i] == k) return i;
    }
    return -1;
  }

  bool lit(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  bool word(std::string_view w) {
    if (static_cast<size_t>(end_ - p_) < w.size() || std::memcmp(p_, w.data(), w.size()) != 0) return false;
    p_ += w.size();
    return true;
  }

  // A string without escapes, as a view into the line.
  bool plain_string(std::string_view& out) {
    if (!lit('"')) return false;
    const char* start = p_;
    for (; p_ != end_; ++p_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }

  bool string(std::string& out) {
    const char* before = p_;
    std::string_view plain;
    if (plain_string(plain)) {
      out.assign(plain);
      return true;
    }
    p_ = before;
    if (!lit('"')) return false;
    out.clear();
    while (p_ != end_) {  // bounded by the line
      const auto c = static_cast<unsigned char>(*p_++);
      if (c == '"') return true;
      if (c < 0x20 || c >= 0x80) return false;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (p_ == end_) return false;
      switch (*p_++) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        default: return false;  // \u and invalid escapes: the nlohmann path
      }
    }
    return false;
  }

  // A JSON array of strings, without whitespace: ["a","b"].
  bool strings(std::vector<std::string>& out) {
    if (!lit('[')) return false;
    out.clear();
    if (lit(']')) return true;
    // Bounded by the line: each round consumes a string and a separator.
    for (;;) {
      if (!string(out.emplace_back())) return false;
      if (lit(']')) return true;
      if (!lit(',')) return false;
    }
  }

  // A JSON integer >= 0 of at most 19 digits (so it fits) and <= max.
  bool number(uint64_t max, uint64_t& out) {
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0') {
      ++p_;
      out = 0;
    } else {
      uint64_t v = 0;
      int digits = 0;
      for (; p_ != end_ && *p_ >= '0' && *p_ <= '9'; ++p_) {
        if (++digits > 19) return false;
        v = v * 10 + static_cast<uint64_t>(*p_ - '0');
      }
      out = v;
    }
    // A fraction or exponent follows: not an integer.
    if (p_ != end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E' || (*p_ >= '0' && *p_ <= '9'))) return false;
    return out <= max;
  }

  template <typename T>
  bool number(std::optional<T>& out, uint64_t max = static_cast<uint64_t>(std::numeric_limits<T>::max())) {
    uint64_t v = 0;
    if (!number(max, v)) return false;
    out = static_cast<T>(v);
    return true;
  }

  bool value(int field) {
    constexpr auto kTimeMax = static_cast<uint64_t>(std::numeric_limits<TimeNs>::max());
    uint64_t v = 0;
    std::string_view name;
    switch (field) {
      case kV:
        return number(kTimeMax, v) && v >= static_cast<uint64_t>(kOldestHistoryFormatVersion) &&
               v <= static_cast<uint64_t>(kHistoryFormatVersion);
      case kIndex:
        if (!number(std::numeric_limits<uint64_t>::max(), v)) return false;
        e_.index = v;
        return true;
      case kTime:
        if (!number(kTimeMax, v)) return false;
        e_.time_ns = static_cast<TimeNs>(v);
        return true;
      case kProcess:
        if (p_ != end_ && *p_ == '"') return string(e_.process);
        if (!number(std::numeric_limits<uint64_t>::max(), v)) return false;
        e_.process = std::to_string(v);
        return true;
      case kType: {
        if (!plain_string(name)) return false;
        const auto t = parse_event_type(name);
        if (t) e_.type = *t;
        return t.has_value();
      }
      case kF: {
        if (!plain_string(name)) return false;
        const auto f = parse_event_f(name);
        if (f) e_.f = *f;
        return f.has_value();
      }
      case kQueue: return string(e_.queue);
      case kTopic:
        return string(e_.topic);
      case kBound:
        return strings(e_.bound);
      case kConsumer: return string(e_.consumer);
      case kError: return string(e_.error);
      case kNode: return string(e_.node);
      case kPayload: return string(e_.payload.emplace());
      case kId: return number(e_.id);
      case kPriority: return number(e_.priority);
      case kTtl: return number(e_.ttl_ns);
      case kDelay: return number(e_.delay_ns);
      case kMaxRetries: return number(e_.max_retries);
      case kTimestamp: return number(e_.timestamp_ns);
      case kNotBefore: return number(e_.not_before_ns);
      case kAttempts: return number(e_.attempts);
      case kRequeue:
        if (word("true")) {
          e_.requeue = true;
        } else if (word("false")) {
          e_.requeue = false;
        } else {
          return false;
        }
        return true;
      default: return false;
    }
  }

  const char* p_;
  const char* end_;
  HistoryEvent& e_;
};

}  // namespace

Result<HistoryEvent> from_json(std::string_view text, std::string_view file, uint64_t line,
                               uint64_t index) {
  {
    HistoryEvent fast;
    fast.index = index;
    fast.line = line;
    if (FastLine(text, fast).parse()) return fast;
  }
  const std::string prefix = std::string(file) + ":" + std::to_string(line) + ": ";
  auto parsed = parse_json_line(text, prefix, /*refuse_duplicate_keys=*/true);
  if (!parsed.ok()) return parsed.status();
  const Json& j = *parsed;
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
  if (!e.topic.empty()) j["topic"] = e.topic;
  if (!e.bound.empty()) j["bound"] = e.bound;
  if (!e.consumer.empty()) j["consumer"] = e.consumer;
  if (e.id) j["id"] = *e.id;
  if (e.payload) j["payload"] = *e.payload;
  if (e.priority) j["priority"] = *e.priority;
  if (e.ttl_ns) j["ttl_ns"] = *e.ttl_ns;
  if (e.delay_ns) j["delay_ns"] = *e.delay_ns;
  if (e.max_retries) j["max_retries"] = *e.max_retries;
  if (e.timestamp_ns) j["timestamp_ns"] = *e.timestamp_ns;
  if (e.not_before_ns) j["not_before_ns"] = *e.not_before_ns;
  if (e.attempts) j["attempts"] = *e.attempts;
  if (e.requeue) j["requeue"] = *e.requeue;
  if (!e.error.empty()) j["error"] = e.error;
  if (!e.node.empty()) j["node"] = e.node;
  try {
    return j.dump();
  } catch (const OrderedJson::exception& err) {
    return invalid_argument(where(e) + ": cannot write the event: " + err.what());
  }
}

Status read_history_lines(LineReader& lines, const HistoryEventSink& sink) {
  HistoryValidator validator;
  // Bounded by the stream: one round per line, each line bounded by the reader.
  for (;;) {
    auto next = lines.next();
    if (!next.ok()) return next.status();
    if (!next->has_value()) return Status();
    const std::string_view text = **next;
    const uint64_t line = lines.line();
    if (text.empty() || text == "\r") return corruption(lines.where() + "empty line");
    auto event = from_json(text, lines.file(), line, line - 1);
    if (!event.ok()) {
      if (lines.unterminated()) {
        return corruption(lines.where() + "truncated last line (no newline at the end and not a valid event: " +
                          event.status().message() + ")");
      }
      return event.status();
    }
    Status valid = validator.add(*event);
    if (!valid.ok()) return corruption(lines.where() + valid.message());
    MQ_RETURN_IF_ERROR(sink(std::move(event).value()));
  }
}

Status read_history_stream(std::istream& in, std::string_view file, const HistoryEventSink& sink) {
  LineReader lines(in, file, kMaxHistoryLineBytes, "a history line");
  return read_history_lines(lines, sink);
}

Status for_each_history_event(const std::string& path, const HistoryEventSink& sink) {
  auto in = InputFile::open(path);
  if (!in.ok()) return in.status();
  return read_history_stream(in.value().stream(), path, sink);
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
