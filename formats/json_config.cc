#include "formats/json_config.h"

#include <algorithm>
#include <set>

#include "formats/input_file.h"

namespace mq {

std::optional<size_t> json_too_deep(std::string_view text, size_t max_depth) {
  size_t depth = 0;
  bool in_string = false;
  // Bounded by the text: one step per byte (an escape skips the byte after it).
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

namespace {

std::string too_deep_message(size_t at) {
  return "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels at byte " + std::to_string(at + 1) +
         " (the limit for arrays and objects)";
}

// Line and column of byte `at` (0-based) of `text`, as an editor shows them.
std::string line_column(std::string_view text, size_t at) {
  at = std::min(at, text.size());
  const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(at), '\n');
  const auto last_nl = at == 0 ? std::string_view::npos : text.rfind('\n', at - 1);
  const size_t column = last_nl == std::string_view::npos ? at + 1 : at - last_nl;
  return std::to_string(line) + ":" + std::to_string(column);
}

}  // namespace

Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view file) {
  if (const auto deep = json_too_deep(text)) {
    return invalid_argument(std::string(file) + ":" + line_column(text, *deep) + ": " + too_deep_message(*deep));
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // Turn the byte offset into a line and column, which is what an editor shows.
    return invalid_argument(std::string(file) + ":" + line_column(text, e.byte > 0 ? e.byte - 1 : 0) +
                            ": not valid JSON: " + e.what());
  } catch (const nlohmann::json::exception& e) {
    // out_of_range.406: a number too large for a double ("1e400").
    return invalid_argument(std::string(file) + ": not valid JSON: " + e.what());
  }
}

Result<nlohmann::json> parse_json_line(std::string_view text, const std::string& where,
                                       bool refuse_duplicate_keys) {
  using Json = nlohmann::json;
  if (const auto deep = json_too_deep(text)) return corruption(where + too_deep_message(*deep));
  std::set<std::string> seen;
  std::string duplicate;
  auto callback = [&](int d, Json::parse_event_t event, Json& parsed) {
    if (refuse_duplicate_keys && event == Json::parse_event_t::key && d == 1 && duplicate.empty() &&
        !seen.insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  Json out;
  try {
    out = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::parse_error& err) {
    return corruption(where + "not valid JSON at byte " + std::to_string(err.byte) + ": " + err.what());
  } catch (const Json::exception& err) {
    return corruption(where + "not valid JSON: " + err.what());
  }
  if (!duplicate.empty()) return corruption(where + "field '" + duplicate + "': appears twice");
  if (!out.is_object()) return corruption(where + "not a JSON object (got " + std::string(out.type_name()) + ")");
  return out;
}

Result<std::string> read_text_file(const std::string& path) {
  auto in = InputFile::open(path);
  if (!in.ok()) return in.status();
  std::string text;
  constexpr size_t kChunk = size_t{1} << 20;
  // Bounded: at most kMaxConfigFileBytes / kChunk + 1 rounds.
  while (in.value().stream()) {
    const size_t had = text.size();
    text.resize(had + kChunk);
    in.value().stream().read(text.data() + had, static_cast<std::streamsize>(kChunk));
    text.resize(had + static_cast<size_t>(in.value().stream().gcount()));
    if (text.size() > kMaxConfigFileBytes) {
      return invalid_argument(path + ": larger than " + std::to_string(kMaxConfigFileBytes) +
                              " bytes (the limit for a configuration, scenario, run or summary file)");
    }
  }
  if (in.value().stream().bad()) return io_error(path + ": read error");
  return text;
}

Result<nlohmann::json> read_json_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.status();
  return parse_json_text(*text, path);
}

JsonFields::JsonFields(const nlohmann::json& object, std::string file, std::string path)
    : object_(object), file_(std::move(file)), path_(std::move(path)) {
  if (!object_.is_object()) fail(path_.empty() ? "/" : path_, "expected a JSON object");
}

void JsonFields::fail(const std::string& key_path, const std::string& what) {
  if (status_.ok()) status_ = invalid_argument(file_ + ": " + key_path + ": " + what);
}

const nlohmann::json* JsonFields::field(const char* key, bool required) {
  seen_.emplace_back(key);
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(key);
  if (it == object_.end()) {
    if (required) fail(path_of(key), "missing (required)");
    return nullptr;
  }
  return &*it;
}

namespace {
template <typename T>
bool in_range(const nlohmann::json& v, T& out) {
  if (v.is_number_unsigned()) {
    const auto x = v.get<uint64_t>();
    if (x > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
    out = static_cast<T>(x);
    return true;
  }
  if (v.is_number_integer()) {
    const auto x = v.get<int64_t>();
    if (x < static_cast<int64_t>(std::numeric_limits<T>::min())) return false;
    if (x > 0 && static_cast<uint64_t>(x) > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      return false;
    out = static_cast<T>(x);
    return true;
  }
  return false;
}
}  // namespace

JsonFields& JsonFields::u32(const char* key, uint32_t& out, bool required) {
  if (const auto* v = field(key, required); v && !in_range(*v, out)) {
    fail(path_of(key), "expected an integer in 0.." + std::to_string(UINT32_MAX) + ", got " + v->dump());
  }
  return *this;
}
JsonFields& JsonFields::u64(const char* key, uint64_t& out, bool required) {
  if (const auto* v = field(key, required); v && !in_range(*v, out)) {
    fail(path_of(key), "expected a non-negative integer, got " + v->dump());
  }
  return *this;
}
JsonFields& JsonFields::i64(const char* key, int64_t& out, bool required) {
  if (const auto* v = field(key, required); v && !in_range(*v, out)) {
    fail(path_of(key), "expected an integer, got " + v->dump());
  }
  return *this;
}
JsonFields& JsonFields::boolean(const char* key, bool& out, bool required) {
  if (const auto* v = field(key, required)) {
    if (v->is_boolean())
      out = v->get<bool>();
    else
      fail(path_of(key), "expected true or false, got " + v->dump());
  }
  return *this;
}
JsonFields& JsonFields::str(const char* key, std::string& out, bool required) {
  if (const auto* v = field(key, required)) {
    if (v->is_string())
      out = v->get<std::string>();
    else
      fail(path_of(key), "expected a string, got " + v->dump());
  }
  return *this;
}
const nlohmann::json* JsonFields::child(const char* key) {
  return field(key, false);
}

Status JsonFields::finish() {
  if (status_.ok() && object_.is_object()) {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
        fail(path_ + "/" + key, "unknown field");
        break;
      }
    }
  }
  return status_;
}

namespace {

Status read_queue(const nlohmann::json& j, const std::string& file, const std::string& path, QueueConfig& q) {
  JsonFields f(j, file, path);
  std::string dlq, redelivery = "back", overflow = "reject";
  f.str("name", q.name, true).u32("capacity", q.capacity, true).u32("priority_levels", q.priority_levels);
  f.boolean("durable", q.durable)
      .u32("max_retries", q.max_retries)
      .i64("visibility_timeout_ns", q.visibility_timeout_ns);
  f.str("dead_letter_queue", dlq).str("redelivery", redelivery).str("overflow", overflow);
  f.u32("dedup_window_ids", q.dedup_window_ids).i64("dedup_window_ns", q.dedup_window_ns);
  if (overflow == "reject")
    q.overflow = Overflow::kReject;
  else if (overflow == "drop-oldest")
    q.overflow = Overflow::kDropOldest;
  else
    f.fail(f.path_of("overflow"), "expected \"reject\" or \"drop-oldest\", got \"" + overflow + "\"");
  if (!dlq.empty()) q.dead_letter_queue = dlq;
  if (redelivery == "back")
    q.redelivery = Redelivery::kBack;
  else if (redelivery == "front")
    q.redelivery = Redelivery::kFront;
  else
    f.fail(f.path_of("redelivery"), "expected \"back\" or \"front\", got \"" + redelivery + "\"");
  return f.finish();
}

Status read_consumer(const nlohmann::json& j, const std::string& file, const std::string& path,
                     ConsumerConfig& c) {
  JsonFields f(j, file, path);
  std::string ack = "manual";
  f.str("name", c.name, true).str("queue", c.queue, true).u32("prefetch", c.prefetch).str("ack_mode", ack);
  if (ack == "manual")
    c.ack_mode = AckMode::kManual;
  else if (ack == "auto")
    c.ack_mode = AckMode::kAuto;
  else
    f.fail(f.path_of("ack_mode"), "expected \"manual\" or \"auto\", got \"" + ack + "\"");
  return f.finish();
}

Status read_topic(const nlohmann::json& j, const std::string& file, const std::string& path, TopicConfig& t) {
  JsonFields f(j, file, path);
  f.str("name", t.name, true);
  if (const auto* qs = f.child("queues")) {
    if (!qs->is_array()) f.fail(f.path_of("queues"), "expected an array of queue names");
    for (size_t i = 0; qs->is_array() && i < qs->size(); ++i) {
      if (!(*qs)[i].is_string()) {
        f.fail(f.path_of("queues") + "/" + std::to_string(i), "expected a queue name");
        break;
      }
      t.queues.push_back((*qs)[i].get<std::string>());
    }
  }
  return f.finish();
}

template <typename T, typename ReadOne>
Status read_list(JsonFields& f, const char* key, const std::string& file, std::vector<T>& out,
                 ReadOne read_one) {
  const auto* list = f.child(key);
  if (!list) return Status();
  if (!list->is_array()) return invalid_argument(file + ": " + f.path_of(key) + ": expected an array");
  for (size_t i = 0; i < list->size(); ++i) {
    T item;
    MQ_RETURN_IF_ERROR(read_one((*list)[i], file, f.path_of(key) + "/" + std::to_string(i), item));
    out.push_back(std::move(item));
  }
  return Status();
}

}  // namespace

Result<Topology> topology_from_json(const nlohmann::json& j, const std::string& file) {
  Topology t;
  JsonFields f(j, file, "");
  MQ_RETURN_IF_ERROR(read_list(f, "queues", file, t.queues, read_queue));
  MQ_RETURN_IF_ERROR(read_list(f, "consumers", file, t.consumers, read_consumer));
  MQ_RETURN_IF_ERROR(read_list(f, "topics", file, t.topics, read_topic));
  MQ_RETURN_IF_ERROR(read_list(
      f, "producers", file, t.producers,
      [](const nlohmann::json& p, const std::string& fl, const std::string& path, ProducerConfig& out) {
        JsonFields pf(p, fl, path);
        pf.str("name", out.name, true);
        return pf.finish();
      }));
  MQ_RETURN_IF_ERROR(f.finish());
  if (t.queues.empty()) return invalid_argument(file + ": /queues: at least one queue is needed");
  if (t.producers.empty()) t.producers.push_back({"p0"});
  const Status valid = t.validate();
  if (!valid.ok()) return Status(valid.code(), file + ": " + valid.message());
  return t;
}

nlohmann::json topology_to_json(const Topology& t) {
  nlohmann::json j;
  for (const auto& q : t.queues) {
    nlohmann::json o = {{"name", q.name},
                        {"capacity", q.capacity},
                        {"priority_levels", q.priority_levels},
                        {"durable", q.durable},
                        {"max_retries", q.max_retries},
                        {"visibility_timeout_ns", q.visibility_timeout_ns},
                        {"redelivery", q.redelivery == Redelivery::kBack ? "back" : "front"}};
    if (q.dead_letter_queue) o["dead_letter_queue"] = *q.dead_letter_queue;
    // Written only when not the default, so that older readers still take the file.
    if (q.overflow == Overflow::kDropOldest) o["overflow"] = "drop-oldest";
    if (q.dedup_window_ids > 0) o["dedup_window_ids"] = q.dedup_window_ids;
    if (q.dedup_window_ns > 0) o["dedup_window_ns"] = q.dedup_window_ns;
    j["queues"].push_back(o);
  }
  for (const auto& c : t.consumers) {
    j["consumers"].push_back({{"name", c.name},
                              {"queue", c.queue},
                              {"prefetch", c.prefetch},
                              {"ack_mode", c.ack_mode == AckMode::kManual ? "manual" : "auto"}});
  }
  for (const auto& tp : t.topics) j["topics"].push_back({{"name", tp.name}, {"queues", tp.queues}});
  for (const auto& p : t.producers) j["producers"].push_back({{"name", p.name}});
  return j;
}

}  // namespace mq
