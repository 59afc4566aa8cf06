#include "impl/sharded_broker.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
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

namespace {

constexpr const char* kLayoutFile = "shards";

// The layout file: a comment line, then "<shard>\t<queue name>" per queue, in the
// config's order.
std::string layout_text(const BrokerConfig& config, const std::vector<uint32_t>& shard_of) {
  std::string text = "# the sharded broker's layout: <shard>\t<queue name>, one line per queue\n";
  for (QueueId q = 0; q < config.queues.size(); ++q) {
    text += std::to_string(shard_of[q]) + "\t" + config.queues[q].name + "\n";
  }
  return text;
}

constexpr uint32_t kUnset = UINT32_MAX;
constexpr const char* kChanged =
    ": the configuration changed since the directory was made (open it with the configuration it was made "
    "with)";

// Whether a complete stored layout keeps together what a command links (as
// shard_queues does) and numbers its shards 0.. with none empty.
Status check_layout(const std::string& path, const BrokerConfig& config,
                    const std::vector<uint32_t>& shard_of) {
  const std::vector<uint32_t> components = shard_queues(config, UINT32_MAX);
  std::vector<uint32_t> shard_of_component(config.queues.size(), kUnset);
  std::vector<bool> used(config.queues.size(), false);
  for (QueueId q = 0; q < config.queues.size(); ++q) {
    uint32_t& s = shard_of_component[components[q]];
    if (s != kUnset && s != shard_of[q]) {
      return failed_precondition(path + ": queue '" + config.queues[q].name +
                                 "' is linked (dead-letter queue or topic) to a queue of another shard" +
                                 kChanged);
    }
    s = shard_of[q];
    if (shard_of[q] >= used.size())
      return corruption(path + ": shard " + std::to_string(shard_of[q]) + " out of range");
    used[shard_of[q]] = true;
  }
  const auto first_unused = std::find(used.begin(), used.end(), false);
  if (std::find(first_unused, used.end(), true) != used.end()) {
    return corruption(path + ": shard " + std::to_string(first_unused - used.begin()) + " holds no queue");
  }
  return Status();
}

// The stored layout as shards by queue id. Errors: kCorruption (a malformed line, a
// queue listed twice, a shard number out of range or holding no queue),
// kFailedPrecondition (a configured queue missing, a listed one not configured,
// linked queues in two shards), each naming the file.
Result<std::vector<uint32_t>> parse_layout(const std::string& path, const std::string& text,
                                           const BrokerConfig& config) {
  std::vector<uint32_t> shard_of(config.queues.size(), kUnset);
  std::istringstream in(text);
  std::string line;
  // Bounded by the file.
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab = line.find('\t');
    uint32_t shard = 0;
    const char* end = line.data() + (tab == std::string::npos ? 0 : tab);
    const auto parsed = std::from_chars(line.data(), end, shard);
    if (tab == std::string::npos || tab == 0 || parsed.ptr != end || parsed.ec != std::errc() ||
        shard >= kUnset) {
      return corruption(path + ":" + std::to_string(number) + ": expected <shard>\\t<queue name>");
    }
    const std::optional<QueueId> q = config.find_queue(line.substr(tab + 1));
    if (!q)
      return failed_precondition(path + ": queue '" + line.substr(tab + 1) + "' is not configured" +
                                 kChanged);
    if (shard_of[*q] != kUnset)
      return corruption(path + ": queue '" + line.substr(tab + 1) + "' is listed twice");
    shard_of[*q] = shard;
  }
  for (QueueId q = 0; q < config.queues.size(); ++q) {
    if (shard_of[q] == kUnset)
      return failed_precondition(path + ": queue '" + config.queues[q].name + "' is missing" + kChanged);
  }
  MQ_RETURN_IF_ERROR(check_layout(path, config, shard_of));
  return shard_of;
}

// The shards of a data directory: as its layout file says if it has one (the
// layout is fixed when the directory is made), else `computed`, written there first.
Result<std::vector<uint32_t>> settle_layout(const std::string& dir, const BrokerConfig& config,
                                            const std::vector<uint32_t>& computed) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return io_error("data directory '" + dir + "': " + ec.message());
  const std::string path = (std::filesystem::path(dir) / kLayoutFile).string();
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) return io_error("cannot read '" + path + "'");
    return parse_layout(path, text.str(), config);
  }
  for (const QueueOptions& q : config.queues) {
    if (q.name.find('\n') != std::string::npos)
      return invalid_argument("queue name with a newline: '" + q.name + "'");
  }
  // Written whole under a temporary name, then renamed: a crash leaves no half layout.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << layout_text(config, computed);
    out.flush();
    if (!out) return io_error("cannot write '" + tmp + "'");
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return io_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  return computed;
}

}  // namespace

Result<std::unique_ptr<ShardedBroker>> ShardedBroker::open(ShardedBrokerOptions options) {
  const BrokerOptions& o = options.broker;
  MQ_RETURN_IF_ERROR(o.config.validate());
  const uint32_t max_shards =
      options.max_shards != 0 ? options.max_shards : std::max(1u, std::thread::hardware_concurrency());
  std::vector<uint32_t> shard_of = shard_queues(o.config, max_shards);
  if (!o.data_dir.empty()) {
    auto settled = settle_layout(o.data_dir, o.config, shard_of);
    if (!settled.ok()) return settled.status();
    shard_of = std::move(settled).value();
  }
  std::unique_ptr<ShardedBroker> b(new ShardedBroker(o.config));
  std::vector<BrokerConfig> parts = b->split(shard_of);
  for (uint32_t s = 0; s < parts.size(); ++s) {
    BrokerOptions so = o;
    so.config = std::move(parts[s]);
    if (!o.data_dir.empty())
      so.data_dir = (std::filesystem::path(o.data_dir) / ("shard-" + std::to_string(s))).string();
    auto shard = Broker::open(std::move(so));
    if (!shard.ok()) {
      b->close();
      return Status(shard.status().code(), "shard " + std::to_string(s) + ": " + shard.status().message());
    }
    b->shards_.push_back(std::move(shard).value());
  }
  return b;
}

// Each shard's part of the config, and the tables between global and shard ids.
std::vector<BrokerConfig> ShardedBroker::split(const std::vector<uint32_t>& shard_of) {
  const uint32_t count = shard_of.empty() ? 1 : 1 + *std::max_element(shard_of.begin(), shard_of.end());
  std::vector<BrokerConfig> parts(count);
  queue_ids_.resize(count);
  consumer_ids_.resize(count);
  for (BrokerConfig& part : parts) part.producers = config_.producers;  // any producer may publish anywhere
  for (QueueId q = 0; q < config_.queues.size(); ++q) {
    const uint32_t s = shard_of[q];
    queues_.push_back({s, static_cast<uint32_t>(parts[s].queues.size())});
    queue_ids_[s].push_back(q);
    parts[s].queues.push_back(config_.queues[q]);
  }
  for (ConsumerId c = 0; c < config_.consumers.size(); ++c) {
    const uint32_t s = shard_of[*config_.find_queue(config_.consumers[c].queue)];
    consumers_.push_back({s, static_cast<uint32_t>(parts[s].consumers.size())});
    consumer_ids_[s].push_back(c);
    parts[s].consumers.push_back(config_.consumers[c]);
  }
  for (const TopicOptions& t : config_.topics) {
    const uint32_t s = t.queues.empty() ? 0 : shard_of[*config_.find_queue(t.queues[0])];
    topics_.push_back({s, static_cast<uint32_t>(parts[s].topics.size())});
    parts[s].topics.push_back(t);
  }
  return parts;
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

Result<size_t> ShardedBroker::publish_batch(ProducerId p, QueueId q, std::span<MessageSpec> specs,
                                            Duration timeout) {
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
  return shards_[at.shard]->subscribe(at.id, [this, shard = at.shard, handler = std::move(handler)](
                                                 const Delivery& d) { return handler(global(shard, d)); });
}

QueueStats ShardedBroker::stats(QueueId q) {
  MQ_CHECK(q < queues_.size());
  return shards_[queues_[q].shard]->stats(queues_[q].id);
}

}  // namespace mq::impl
