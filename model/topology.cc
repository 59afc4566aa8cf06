#include "model/topology.h"

#include "base/topology_rules.h"

namespace mq {
namespace {

template <typename Config>
std::optional<uint32_t> find_by_name(const std::vector<Config>& items, std::string_view name) {
  for (uint32_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return i;
  }
  return std::nullopt;
}

}  // namespace

Status Topology::validate() const { return validate_topology(*this); }

std::optional<QueueId> Topology::find_queue(std::string_view name) const {
  return find_by_name(queues, name);
}
std::optional<ConsumerId> Topology::find_consumer(std::string_view name) const {
  return find_by_name(consumers, name);
}
std::optional<ProducerId> Topology::find_producer(std::string_view name) const {
  return find_by_name(producers, name);
}
std::optional<TopicId> Topology::find_topic(std::string_view name) const {
  return find_by_name(topics, name);
}

QueueId Topology::queue_of(ConsumerId c) const {
  MQ_CHECK(c < consumers.size());
  auto q = find_queue(consumers[c].queue);
  MQ_CHECK(q.has_value());
  return *q;
}

std::vector<ConsumerId> Topology::consumers_of(QueueId q) const {
  MQ_CHECK(q < queues.size());
  std::vector<ConsumerId> out;
  for (ConsumerId c = 0; c < consumers.size(); ++c) {
    if (consumers[c].queue == queues[q].name) out.push_back(c);
  }
  return out;
}

std::vector<QueueId> Topology::queues_of(TopicId t) const {
  MQ_CHECK(t < topics.size());
  std::vector<QueueId> out;
  for (const auto& name : topics[t].queues) out.push_back(*find_queue(name));
  return out;
}

std::optional<QueueId> Topology::dead_letter_of(QueueId q) const {
  MQ_CHECK(q < queues.size());
  if (!queues[q].dead_letter_queue) return std::nullopt;
  return find_queue(*queues[q].dead_letter_queue);
}

}  // namespace mq
