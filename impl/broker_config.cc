#include "impl/broker_config.h"

#include "base/topology_rules.h"

namespace mq::impl {

Status BrokerConfig::validate() const { return validate_topology(*this); }

std::optional<QueueId> BrokerConfig::find_queue(const std::string& name) const {
  for (QueueId q = 0; q < queues.size(); ++q) {
    if (queues[q].name == name) return q;
  }
  return std::nullopt;
}

}  // namespace mq::impl
