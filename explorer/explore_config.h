#pragma once
// ExploreConfig: a bounded configuration of the model for exhaustive exploration:
// the topology, the finite menu of messages the producers may send (each at most
// once, in any order), a discrete clock bound, a crash budget, which fault and
// consumer actions are enabled, and the search bounds.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/topology.h"
#include "properties/model_properties.h"

namespace mq::explorer {

struct MenuMessage {
  std::optional<QueueId> queue;  // exactly one of queue and topic
  std::optional<TopicId> topic;
  MessageSpec spec;
};

struct ExploreConfig {
  Topology topology;
  std::vector<MenuMessage> messages;  // at most 64
  TimeNs max_time_ns = 0;             // the clock advances by 1 up to here
  uint32_t max_crashes = 0;
  bool fetch = true;             // consumers may pull
  bool nacks = true;             // consumers may nack (requeue or dead-letter)
  bool consumer_faults = false;  // consumers may detach and attach again
  bool liveness = true;          // keep the state graph and look for non-terminating cycles
  uint64_t max_states = 20'000'000;
  uint64_t max_memory_bytes = uint64_t{8} << 30;
  uint32_t properties = kAllPropertiesMask;
};

// Reads the JSON form (docs/explorer.md); every error names the file and field.
Result<ExploreConfig> load_explore_config(const std::string& path);
Result<ExploreConfig> explore_config_from_json_text(std::string_view text, const std::string& file);

}  // namespace mq::explorer
