#include "impl/sharded_broker.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <filesystem>
#include <system_error>
#include <thread>

#include "base/check.h"

namespace mq::impl {

std::vector<uint32_t> shard_queues(const BrokerConfig& config, uint32_t max_shards) {
  MQ_CHECK(max_shards > 0);
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
  Graph links(config.queues.size());
  for (QueueId q = 0; q < config.queues.size(); ++q) {
    const std::optional<std::string>& dlq = config.queues[q].dead_letter_queue;
    if (dlq) boost::add_edge(q, *config.find_queue(*dlq), links);
  }
  for (const TopicOptions& t : config.topics) {
    for (size_t k = 1; k < t.queues.size(); ++k) {
      boost::add_edge(*config.find_queue(t.queues[0]), *config.find_queue(t.queues[k]), links);
    }
  }
  std::vector<uint32_t> shard(config.queues.size());
  // Components are numbered as a search over the queues in order meets them: queue 0's
  // is 0, and so on, so the numbering depends on the config alone.
  if (!shard.empty()) (void)boost::connected_components(links, shard.data());
  for (uint32_t& s : shard) s %= max_shards;
  return shard;
}

Result<std::unique_ptr<ShardedBroker>> ShardedBroker::open(ShardedBrokerOptions options) {
  const BrokerOptions& o = options.broker;
  MQ_RETURN_IF_ERROR(o.config.validate());
  const uint32_t max_shards =
      options.max_shards != 0 ? options.max_shards : std::max(1u, std::thread::hardware_concurrency());
  const std::vector<uint32_t> shard_of = shard_queues(o.config, max_shards);
  const uint32_t count = shard_of.empty() ? 1 : 1 + *std::max_element(shard_of.begin(), shard_of.end());
  std::unique_ptr<ShardedBroker> b(new ShardedBroker(o.config));
  std::vector<BrokerConfig> parts(count);
  b->queue_ids_.resize(count);
  b->consumer_ids_.resize(count);
  for (BrokerConfig& part : parts) part.producers = o.config.producers;  // any producer may publish anywhere
  for (QueueId q = 0; q < o.config.queues.size(); ++q) {
    const uint32_t s = shard_of[q];
    b->queues_.push_back({s, static_cast<uint32_t>(parts[s].queues.size())});
    b->queue_ids_[s].push_back(q);
    parts[s].queues.push_back(o.config.queues[q]);
  }
  for (ConsumerId c = 0; c < o.config.consumers.size(); ++c) {
    const uint32_t s = shard_of[*o.config.find_queue(o.config.consumers[c].queue)];
    b->consumers_.push_back({s, static_cast<uint32_t>(parts[s].consumers.size())});
    b->consumer_ids_[s].push_back(c);
    parts[s].consumers.push_back(o.config.consumers[c]);
  }
  for (const TopicOptions& t : o.config.topics) {
    const uint32_t s = t.queues.empty() ? 0 : shard_of[*o.config.find_queue(t.queues[0])];
    b->topics_.push_back({s, static_cast<uint32_t>(parts[s].topics.size())});
    parts[s].topics.push_back(t);
  }
  if (!o.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) return io_error("data directory '" + o.data_dir + "': " + ec.message());
  }
  for (uint32_t s = 0; s < count; ++s) {
    BrokerOptions so = o;
    so.config = std::move(parts[s]);
    if (!o.data_dir.empty()) so.data_dir = (std::filesystem::path(o.data_dir) / ("shard-" + std::to_string(s))).string();
    auto shard = Broker::open(std::move(so));
    if (!shard.ok()) {
      b->close();
      return Status(shard.status().code(), "shard " + std::to_string(s) + ": " + shard.status().message());
    }
    b->shards_.push_back(std::move(shard).value());
  }
  return b;
}

void ShardedBroker::close() {
  for (auto& s : shards_) s->close();
}

uint32_t ShardedBroker::shard_of_queue(QueueId q) const {
  MQ_CHECK(q < queues_.size());
  return queues_[q].shard;
}

Status ShardedBroker::check_producer(ProducerId p) const {
  if (p >= config_.producers.size()) return not_found("unknown producer #" + std::to_string(p));
  return Status();
}

Status ShardedBroker::check_queue(QueueId q) const {
  if (q >= queues_.size()) return not_found("unknown queue #" + std::to_string(q));
  return Status();
}

Status ShardedBroker::check_consumer(ConsumerId c) const {
  if (c >= consumers_.size()) return not_found("unknown consumer #" + std::to_string(c));
  return Status();
}

Delivery ShardedBroker::global(uint32_t shard, Delivery d) const {
  d.consumer = consumer_ids_[shard][d.consumer];
  d.queue = queue_ids_[shard][d.queue];
  return d;
}

// ---- publishing: producer ids are the same in every shard ----

Result<Confirm> ShardedBroker::publish(ProducerId p, QueueId q, MessageSpec spec, Duration timeout) {
  MQ_RETURN_IF_ERROR(check_producer(p));
  MQ_RETURN_IF_ERROR(check_queue(q));
  const Local at = queues_[q];
  return shards_[at.shard]->publish(p, at.id, std::move(spec), timeout);
}

Result<Confirm> ShardedBroker::try_publish(ProducerId p, QueueId q, MessageSpec spec) {
  MQ_RETURN_IF_ERROR(check_producer(p));
  MQ_RETURN_IF_ERROR(check_queue(q));
  const Local at = queues_[q];
  return shards_[at.shard]->try_publish(p, at.id, std::move(spec));
}

Result<size_t> ShardedBroker::publish_batch(ProducerId p, QueueId q, std::span<MessageSpec> specs, Duration timeout) {
  MQ_RETURN_IF_ERROR(check_producer(p));
  MQ_RETURN_IF_ERROR(check_queue(q));
  const Local at = queues_[q];
  return shards_[at.shard]->publish_batch(p, at.id, specs, timeout);
}

Result<std::vector<Confirm>> ShardedBroker::publish_topic(ProducerId p, TopicId t, MessageSpec spec) {
  MQ_RETURN_IF_ERROR(check_producer(p));
  if (t >= topics_.size()) return not_found("unknown topic #" + std::to_string(t));
  return shards_[topics_[t].shard]->publish_topic(p, topics_[t].id, std::move(spec));
}

Status ShardedBroker::publish_async(ProducerId p, QueueId q, MessageSpec spec, ConfirmFn done) {
  MQ_RETURN_IF_ERROR(check_producer(p));
  MQ_RETURN_IF_ERROR(check_queue(q));
  const Local at = queues_[q];
  return shards_[at.shard]->publish_async(p, at.id, std::move(spec), std::move(done));
}

// ---- consuming ----

Result<std::optional<Delivery>> ShardedBroker::fetch(ConsumerId c, Duration timeout) {
  MQ_RETURN_IF_ERROR(check_consumer(c));
  const Local at = consumers_[c];
  auto d = shards_[at.shard]->fetch(at.id, timeout);
  if (!d.ok() || !d->has_value()) return d;
  return std::optional<Delivery>(global(at.shard, std::move(*d.value())));
}

Result<std::vector<Delivery>> ShardedBroker::fetch_batch(ConsumerId c, size_t max, Duration timeout) {
  MQ_RETURN_IF_ERROR(check_consumer(c));
  const Local at = consumers_[c];
  auto got = shards_[at.shard]->fetch_batch(at.id, max, timeout);
  if (!got.ok()) return got;
  for (Delivery& d : got.value()) d = global(at.shard, std::move(d));
  return got;
}

Status ShardedBroker::ack(ConsumerId c, MessageId id) {
  MQ_RETURN_IF_ERROR(check_consumer(c));
  const Local at = consumers_[c];
  return shards_[at.shard]->ack(at.id, id);
}

Status ShardedBroker::ack_batch(ConsumerId c, std::span<const MessageId> ids) {
  MQ_RETURN_IF_ERROR(check_consumer(c));
  const Local at = consumers_[c];
  return shards_[at.shard]->ack_batch(at.id, ids);
}

Status ShardedBroker::nack(ConsumerId c, MessageId id, bool requeue) {
  MQ_RETURN_IF_ERROR(check_consumer(c));
  const Local at = consumers_[c];
  return shards_[at.shard]->nack(at.id, id, requeue);
}

Status ShardedBroker::subscribe(ConsumerId c, Handler handler) {
  MQ_RETURN_IF_ERROR(check_consumer(c));
  const Local at = consumers_[c];
  return shards_[at.shard]->subscribe(
      at.id, [this, shard = at.shard, handler = std::move(handler)](const Delivery& d) {
        return handler(global(shard, d));
      });
}

QueueStats ShardedBroker::stats(QueueId q) {
  MQ_CHECK(q < queues_.size());
  return shards_[queues_[q].shard]->stats(queues_[q].id);
}

}  // namespace mq::impl
