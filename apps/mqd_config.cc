#include "apps/mqd_config.h"

#include "formats/json_config.h"
#include "sim/translate.h"

namespace mq::app {

std::string default_broker_config_json() {
  return R"({
  "queues": [
    {"name": "work", "capacity": 100000, "durable": true, "max_retries": 3,
     "visibility_timeout_ns": 30000000000, "dead_letter_queue": "work.dead"},
    {"name": "work.dead", "capacity": 100000, "durable": true},
    {"name": "urgent", "capacity": 100000, "durable": true, "priority_levels": 10},
    {"name": "events.audit", "capacity": 100000, "durable": true},
    {"name": "events.mail", "capacity": 100000}
  ],
  "consumers": [
    {"name": "worker-1", "queue": "work", "prefetch": 16},
    {"name": "worker-2", "queue": "work", "prefetch": 16},
    {"name": "worker-3", "queue": "work", "prefetch": 16},
    {"name": "worker-4", "queue": "work", "prefetch": 16},
    {"name": "dead-reader", "queue": "work.dead", "prefetch": 16},
    {"name": "urgent-1", "queue": "urgent", "prefetch": 1},
    {"name": "audit", "queue": "events.audit", "prefetch": 16},
    {"name": "mailer", "queue": "events.mail", "prefetch": 16}
  ],
  "producers": [{"name": "default"}],
  "topics": [{"name": "events", "queues": ["events.audit", "events.mail"]}]
}
)";
}

namespace {

struct QueueExtras {
  impl::OverflowPolicy overflow = impl::OverflowPolicy::kRejectPublish;
  uint32_t dedup_window_ids = impl::QueueOptions{}.dedup_window_ids;
  int64_t dedup_window_ns = 0;
};

// Takes the production-only fields out of each queue object (so that the topology
// reader, which rejects unknown fields, reads the rest) and returns them by queue.
Result<std::vector<QueueExtras>> take_extras(nlohmann::json& j, const std::string& file) {
  std::vector<QueueExtras> out;
  if (!j.is_object() || !j.contains("queues") || !j["queues"].is_array()) return out;
  auto& queues = j["queues"];
  for (size_t i = 0; i < queues.size(); ++i) {
    QueueExtras x;
    auto& q = queues[i];
    if (!q.is_object()) return out;  // the topology reader says what is wrong
    const std::string path = file + ": /queues/" + std::to_string(i) + "/";
    if (q.contains("overflow")) {
      const auto& v = q["overflow"];
      if (v == "reject") {
        x.overflow = impl::OverflowPolicy::kRejectPublish;
      } else if (v == "drop-oldest") {
        x.overflow = impl::OverflowPolicy::kDropOldest;
      } else {
        return invalid_argument(path + "overflow: expected \"reject\" or \"drop-oldest\"");
      }
      q.erase("overflow");
    }
    if (q.contains("dedup_window_ids")) {
      const auto& v = q["dedup_window_ids"];
      if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX) {
        return invalid_argument(path + "dedup_window_ids: expected an integer in 0.." + std::to_string(UINT32_MAX));
      }
      x.dedup_window_ids = v.get<uint32_t>();
      q.erase("dedup_window_ids");
    }
    if (q.contains("dedup_window_ns")) {
      const auto& v = q["dedup_window_ns"];
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return invalid_argument(path + "dedup_window_ns: expected a non-negative integer");
      }
      x.dedup_window_ns = v.get<int64_t>();
      q.erase("dedup_window_ns");
    }
    out.push_back(x);
  }
  return out;
}

}  // namespace

Result<impl::BrokerConfig> broker_config_from_json_text(const std::string& text, const std::string& file) {
  auto parsed = parse_json_text(text, file);
  if (!parsed.ok()) return parsed.status();
  nlohmann::json json = std::move(parsed).value();
  auto extras = take_extras(json, file);
  if (!extras.ok()) return extras.status();
  auto topology = topology_from_json(json, file);
  if (!topology.ok()) return topology.status();
  impl::BrokerConfig config = sim::to_broker_config(*topology);
  for (size_t q = 0; q < config.queues.size() && q < extras->size(); ++q) {
    config.queues[q].overflow = (*extras)[q].overflow;
    config.queues[q].dedup_window_ids = (*extras)[q].dedup_window_ids;
    config.queues[q].dedup_window_ns = (*extras)[q].dedup_window_ns;
  }
  const Status valid = config.validate();
  if (!valid.ok()) return Status(valid.code(), file + ": " + valid.message());
  return config;
}

Result<impl::BrokerConfig> broker_config_from_file(const std::string& path) {
  auto text = read_text_file(path);
  if (!text.ok()) return text.status();
  return broker_config_from_json_text(*text, path);
}

}  // namespace mq::app
