#include "live/target.h"

#include "live/beanstalk_target.h"
#include "live/nats_target.h"
#include "live/rabbitmq_target.h"
#include "live/mqd_target.h"
#include "live/redis_target.h"

namespace mq::live {

const char* fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::kKill:
      return "kill";
    case FaultKind::kPause:
      return "pause";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kDisk:
      return "disk";
    case FaultKind::kPowerLoss:
      return "power";
  }
  return "?";
}

std::optional<FaultKind> parse_fault_kind(const std::string& name) {
  for (int i = 0; i < kFaultKindCount; ++i) {
    const auto k = static_cast<FaultKind>(i);
    if (name == fault_kind_name(k)) return k;
  }
  if (name == "power-loss") return FaultKind::kPowerLoss;
  return std::nullopt;
}

namespace {

struct Known {
  const char* name;
  std::vector<const char*> configs;
};

const std::vector<Known>& known() {
  static const std::vector<Known> k = {
      {"redis-list", {"none", "aof-everysec", "aof-always"}},
      {"redis-stream", {"none", "aof-everysec", "aof-always"}},
      {"rabbitmq-classic", {"durable"}},
      {"rabbitmq-quorum", {"durable"}},
      {"nats-js", {"file-storage"}},
      {"beanstalkd", {"no-binlog", "binlog", "binlog-fsync-always"}},
      {"mqd", {"always", "batch", "never"}},
  };
  return k;
}

}  // namespace

std::vector<std::string> target_names() {
  std::vector<std::string> out;
  for (const auto& k : known()) {
    for (const char* c : k.configs) out.push_back(std::string(k.name) + "/" + c);
  }
  return out;
}

Result<std::unique_ptr<Target>> make_target(const std::string& name, const std::string& config) {
  std::unique_ptr<Target> t;
  if (name == "redis-list" || name == "redis-stream") {
    if (auto p = RedisTarget::parse_persistence(config)) {
      t = std::make_unique<RedisTarget>(name == "redis-list" ? RedisPattern::kList : RedisPattern::kStream,
                                        *p);
    }
  }
  if ((name == "rabbitmq-classic" || name == "rabbitmq-quorum") && config == "durable") {
    t = std::make_unique<RabbitTarget>(name == "rabbitmq-classic" ? RabbitQueueType::kClassic
                                                                  : RabbitQueueType::kQuorum);
  }
  if (name == "nats-js" && config == "file-storage") t = std::make_unique<NatsTarget>();
  if (name == "beanstalkd") {
    if (auto d = BeanstalkTarget::parse(config)) t = std::make_unique<BeanstalkTarget>(*d);
  }
  if (name == "mqd") {
    if (auto f = MqdTarget::parse_fsync(config)) t = std::make_unique<MqdTarget>(*f);
  }
  if (t == nullptr) {
    std::string list;
    for (const auto& n : target_names()) list += (list.empty() ? "" : ", ") + n;
    return invalid_argument("unknown target '" + name + "' with config '" + config + "'; known: " + list);
  }
  return t;
}

}  // namespace mq::live
