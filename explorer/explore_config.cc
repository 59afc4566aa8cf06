#include "explorer/explore_config.h"

#include "formats/json_config.h"

namespace mq::explorer {
namespace {

Status read_message(const nlohmann::json& j, const std::string& file, const std::string& path,
                    const Topology& t, MessageId id, MenuMessage& out) {
  JsonFields f(j, file, path);
  std::string queue, topic;
  uint32_t priority = 0, max_retries = UINT32_MAX;
  f.str("queue", queue).str("topic", topic).u32("priority", priority);
  f.i64("ttl_ns", out.spec.ttl_ns).i64("delay_ns", out.spec.delay_ns).u32("max_retries", max_retries);
  f.str("payload", out.spec.payload);
  if (queue.empty() == topic.empty()) f.fail(path, "give exactly one of \"queue\" and \"topic\"");
  if (!queue.empty() && !(out.queue = t.find_queue(queue)))
    f.fail(f.path_of("queue"), "unknown queue '" + queue + "'");
  if (!topic.empty() && !(out.topic = t.find_topic(topic)))
    f.fail(f.path_of("topic"), "unknown topic '" + topic + "'");
  if (priority > 255) f.fail(f.path_of("priority"), "must be in 0..255");
  if (out.spec.ttl_ns < 0 || out.spec.delay_ns < 0) f.fail(path, "ttl_ns and delay_ns must be >= 0");
  out.spec.id = id;
  out.spec.priority = static_cast<Priority>(priority);
  if (max_retries != UINT32_MAX) out.spec.max_retries = max_retries;
  if (out.spec.payload.empty()) out.spec.payload = "m" + std::to_string(id);
  return f.finish();
}

}  // namespace

Result<ExploreConfig> explore_config_from_json_text(std::string_view text, const std::string& file) {
  auto json = parse_json_text(text, file);
  if (!json.ok()) return json.status();
  const nlohmann::json& j = *json;
  ExploreConfig c;
  JsonFields f(j, file, "");
  const auto* topology = f.child("topology");
  if (!topology) return invalid_argument(file + ": /topology: missing (required)");
  auto t = topology_from_json(*topology, file);
  if (!t.ok()) return t.status();
  c.topology = std::move(t).value();
  f.i64("max_time_ns", c.max_time_ns).u32("max_crashes", c.max_crashes).boolean("fetch", c.fetch);
  f.boolean("nacks", c.nacks).boolean("consumer_faults", c.consumer_faults).boolean("liveness", c.liveness);
  f.u64("max_states", c.max_states).u64("max_memory_bytes", c.max_memory_bytes);
  const auto* messages = f.child("messages");
  if (messages && !messages->is_array()) f.fail("/messages", "expected an array");
  for (size_t i = 0; messages && messages->is_array() && i < messages->size(); ++i) {
    MenuMessage m;
    MQ_RETURN_IF_ERROR(
        read_message((*messages)[i], file, "/messages/" + std::to_string(i), c.topology, i + 1, m));
    c.messages.push_back(std::move(m));
  }
  MQ_RETURN_IF_ERROR(f.finish());
  if (c.messages.size() > 64) return invalid_argument(file + ": /messages: at most 64 messages");
  if (c.max_time_ns < 0) return invalid_argument(file + ": /max_time_ns: must be >= 0");
  if (c.max_crashes > 255) return invalid_argument(file + ": /max_crashes: at most 255");
  return c;
}

Result<ExploreConfig> load_explore_config(const std::string& path) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.status();
  return explore_config_from_json_text(*text, path);
}

}  // namespace mq::explorer
