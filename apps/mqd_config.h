#pragma once
// The broker configuration mqd serves: the topology file format of docs/model.md
// (queues, consumers, producers, topics), plus what only the production broker has,
// per queue: "overflow" ("reject", the default, or "drop-oldest"),
// "dedup_window_ids" (default 4096) and "dedup_window_ns" (default 0: by count only).
// docs/protocol.md describes it for users. Errors name the file and the JSON path.
//
// Thread-safety: functions of their arguments.

#include <string>

#include "base/status.h"
#include "impl/broker_config.h"

namespace mq::app {

// The built-in default: a durable work queue with a dead-letter queue, a priority
// queue, and a topic with two bound queues.
std::string default_broker_config_json();
Result<impl::BrokerConfig> broker_config_from_json_text(const std::string& text, const std::string& file);
Result<impl::BrokerConfig> broker_config_from_file(const std::string& path);

}  // namespace mq::app
