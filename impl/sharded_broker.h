#pragma once
// ShardedBroker: the embedded broker on several cores. Its queues are split into
// shards, each a Broker of its own (impl/broker.h: its own shell, BrokerCore, lock,
// commit and timer threads, and log), so that producers and consumers of queues in
// different shards never wait for each other's lock.
//
// Why this changes nothing a client can see: one command of the core touches more
// than one queue only through a dead-letter link (a message finished in one queue is
// accepted by its dead-letter queue) or a topic (one publish fans out to its bound
// queues). shard_queues() keeps every such group together: a shard is a union of
// connected components of the graph whose vertices are the queues and whose edges
// are those links. Queues of different components never interact in the model, so
// each queue's guarantees (broker.h, docs/durability.md) and each topic publish's
// atomicity are those of one Broker.
//
// The API is Broker's, with the config's (global) ids everywhere: deliveries name
// the global consumer and queue. What differs, per shard:
//   - the data directory holds one subdirectory per shard, "shard-0", "shard-1", ...
//     (each a Broker's directory, with its own log and lock), and the file "shards",
//     which fixes the layout when the directory is made: each later open() reads the
//     shards from it, whatever max_shards or the machine's core count are then, and
//     refuses (kFailedPrecondition, naming the queue) a configuration whose queues it
//     does not list or whose links it would split. The configuration must otherwise
//     stay the same from one open() to the next, as a Broker's must;
//   - worker_threads and max_unconfirmed apply to each shard (a producer may have
//     max_unconfirmed confirms outstanding in each shard);
//   - broker time is each shard's own steady clock (a queue's TTLs and timeouts
//     count in its shard's time, which is the steady clock's).
//
// Thread-safety: as Broker's. The shard tables are fixed at open().

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "impl/broker.h"

namespace mq::impl {

// The shard of each queue ([QueueId]): components of the dead-letter and topic links,
// numbered in the order of their first queue, dealt round-robin over at most
// `max_shards` shards. REQUIRES: a valid config, max_shards > 0.
std::vector<uint32_t> shard_queues(const BrokerConfig& config, uint32_t max_shards);

struct ShardedBrokerOptions {
  BrokerOptions broker;  // the whole config; data_dir is the parent of the shards' directories
  uint32_t max_shards =
      0;  // 0: as many as the machine has cores; a data directory's layout file overrides it
};

class ShardedBroker {
 public:
  // Opens every shard (Broker::open with the shard's part of the config, in
  // data_dir/shard-K). Errors: those of Broker::open, from the first shard that fails
  // (the ones opened before are closed), prefixed "shard K: "; those of the layout
  // file (kCorruption: malformed; kFailedPrecondition: it does not fit the config;
  // kIoError).
  static Result<std::unique_ptr<ShardedBroker>> open(ShardedBrokerOptions options);
  ~ShardedBroker() { close(); }
  ShardedBroker(const ShardedBroker&) = delete;
  ShardedBroker& operator=(const ShardedBroker&) = delete;

  void close();

  Result<Confirm> publish(ProducerId p, QueueId q, MessageSpec spec, Duration timeout);
  Result<Confirm> try_publish(ProducerId p, QueueId q, MessageSpec spec);
  Result<size_t> publish_batch(ProducerId p, QueueId q, std::span<MessageSpec> specs, Duration timeout);
  Result<std::vector<Confirm>> publish_topic(ProducerId p, TopicId t, MessageSpec spec);
  Status publish_async(ProducerId p, QueueId q, MessageSpec spec, ConfirmFn done);
  Result<std::optional<Delivery>> fetch(ConsumerId c, Duration timeout);
  Result<std::vector<Delivery>> fetch_batch(ConsumerId c, size_t max, Duration timeout);
  Status ack(ConsumerId c, MessageId id);
  Status ack_batch(ConsumerId c, std::span<const MessageId> ids);
  Status nack(ConsumerId c, MessageId id, bool requeue);
  Status subscribe(ConsumerId c, Handler handler);
  QueueStats stats(QueueId q);

  const BrokerConfig& config() const { return config_; }
  size_t shard_count() const { return shards_.size(); }
  // REQUIRES: q < config().queues.size().
  uint32_t shard_of_queue(QueueId q) const;

 private:
  struct Local {  // an id's shard and its id there
    uint32_t shard = 0;
    uint32_t id = 0;
  };
  explicit ShardedBroker(BrokerConfig config) : config_(std::move(config)) {}
  std::vector<BrokerConfig> split(const std::vector<uint32_t>& shard_of);
  Status check_producer(ProducerId p) const;
  Status check_queue(QueueId q) const;
  Status check_consumer(ConsumerId c) const;
  // A shard's delivery, with the global consumer and queue ids.
  Delivery global(uint32_t shard, Delivery d) const;

  BrokerConfig config_;
  std::vector<std::unique_ptr<Broker>> shards_;
  std::vector<Local> queues_, consumers_, topics_;  // [global id]
  // [shard][local id] -> global id
  std::vector<std::vector<QueueId>> queue_ids_;
  std::vector<std::vector<ConsumerId>> consumer_ids_;
};

}  // namespace mq::impl
