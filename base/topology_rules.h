#pragma once
// The rules a topology must keep, stated once for both shapes that carry one: the
// model's Topology (model/topology.h) and the broker's BrokerConfig
// (impl/broker_config.h). impl/ depends on nothing of ours but base/, so the rules
// live here, over any config with the same members: producers, consumers, queues
// and topics, each with a `name`; queues with capacity, priority_levels,
// visibility_timeout_ns, dedup_window_ns and dead_letter_queue; consumers with
// `queue`; topics with `queues`; and find_queue(name).
//
// Errors: kInvalidArgument (an empty name, a bad bound, a queue that is its own
// dead-letter queue, a dead-letter cycle), kAlreadyExists (a duplicate name, a queue
// bound twice to one topic), kNotFound (an unknown queue named anywhere).
// Thread-safety: none needed; functions touch only their arguments.

#include <set>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq {
namespace topology_rules {

template <typename Item>
Status check_names(const std::vector<Item>& items, const char* kind) {
  std::set<std::string> seen;
  for (const auto& item : items) {
    if (item.name.empty()) return invalid_argument(std::string(kind) + " with an empty name");
    if (!seen.insert(item.name).second) {
      return already_exists(std::string("duplicate ") + kind + " name '" + item.name + "'");
    }
  }
  return Status();
}

template <typename Config, typename Queue>
Status check_queue(const Config& config, const Queue& q) {
  const std::string where = "queue '" + q.name + "': ";
  if (q.capacity == 0) return invalid_argument(where + "capacity must be > 0");
  if (q.priority_levels < 1 || q.priority_levels > 256) {
    return invalid_argument(where + "priority_levels must be in 1..256, got " + std::to_string(q.priority_levels));
  }
  if (q.visibility_timeout_ns < 0) return invalid_argument(where + "visibility_timeout_ns < 0");
  if (q.dedup_window_ns < 0) return invalid_argument(where + "dedup_window_ns < 0");
  if (q.dead_letter_queue) {
    if (!config.find_queue(*q.dead_letter_queue)) {
      return not_found(where + "unknown dead_letter_queue '" + *q.dead_letter_queue + "'");
    }
    if (*q.dead_letter_queue == q.name) return invalid_argument(where + "is its own dead_letter_queue");
  }
  return Status();
}

// A chain of dead-letter queues must end, or a message would circle forever.
// REQUIRES: every dead_letter_queue names a queue (check_queue passed).
template <typename Config>
Status check_dead_letter_chains(const Config& config) {
  for (const auto& start : config.queues) {
    const auto* q = &start;
    for (size_t hops = 0; q->dead_letter_queue; ++hops) {
      if (hops >= config.queues.size()) {
        return invalid_argument("queue '" + start.name + "': dead_letter_queue chain has a cycle");
      }
      q = &config.queues[*config.find_queue(*q->dead_letter_queue)];
    }
  }
  return Status();
}

}  // namespace topology_rules

template <typename Config>
Status validate_topology(const Config& config) {
  using namespace topology_rules;
  MQ_RETURN_IF_ERROR(check_names(config.producers, "producer"));
  MQ_RETURN_IF_ERROR(check_names(config.consumers, "consumer"));
  MQ_RETURN_IF_ERROR(check_names(config.queues, "queue"));
  MQ_RETURN_IF_ERROR(check_names(config.topics, "topic"));
  for (const auto& q : config.queues) MQ_RETURN_IF_ERROR(check_queue(config, q));
  MQ_RETURN_IF_ERROR(check_dead_letter_chains(config));
  for (const auto& c : config.consumers) {
    if (!config.find_queue(c.queue)) {
      return not_found("consumer '" + c.name + "': unknown queue '" + c.queue + "'");
    }
  }
  for (const auto& topic : config.topics) {
    std::set<std::string> bound;
    for (const auto& q : topic.queues) {
      if (!config.find_queue(q)) return not_found("topic '" + topic.name + "': unknown queue '" + q + "'");
      if (!bound.insert(q).second) return already_exists("topic '" + topic.name + "': queue '" + q + "' bound twice");
    }
  }
  return Status();
}

}  // namespace mq
