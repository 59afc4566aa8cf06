#include "sim/nemesis.h"

namespace mq::sim {

Nemesis::Nemesis(const Scenario& scenario, const SimParams& params, SimQueue& queue, Network& network,
                 BrokerNode& broker, std::vector<Consumer>& consumers, uint32_t producers)
    : scenario_(scenario), params_(params), prng_(derive_seed(params.seed, "nemesis")), queue_(queue),
      network_(network), broker_(broker), consumers_(consumers), producers_(producers) {}

void Nemesis::start() {
  if (params_.faulty_ns > 0) queue_.push(scenario_.faults.tick_ns, Wake{kNemesisEndpoint, kTick, 0});
}

void Nemesis::note(const std::string& what) {
  if (log_.size() < kMaxLog) log_.push_back(std::to_string(queue_.now()) + " ns: " + what);
}

// Every draw is made whatever its outcome, so one fault does not shift the others.
void Nemesis::tick() {
  const FaultConfig& f = scenario_.faults;
  const bool crash = prng_.chance_ppm(params_.broker_crash_ppm);
  const TimeNs down = f.broker_down_ns.draw(prng_);
  if (crash && broker_.up()) {
    ++stats_.broker_crashes;
    note("broker crash for " + std::to_string(down) + " ns");
    broker_.crash();
    queue_.push(queue_.now() + down, Wake{kNemesisEndpoint, kRecoverBroker, 0});
  }
  for (ConsumerId c = 0; c < consumers_.size(); ++c) {
    const bool stop = prng_.chance_ppm(params_.consumer_crash_ppm);
    const TimeNs gone = f.consumer_down_ns.draw(prng_);
    if (!stop || !consumers_[c].alive()) continue;
    ++stats_.consumer_crashes;
    note("consumer '" + scenario_.topology.consumers[c].name + "' crash for " + std::to_string(gone) + " ns");
    consumers_[c].crash();
    queue_.push(queue_.now() + gone, Wake{kNemesisEndpoint, kRestartConsumer, c});
  }
  if (prng_.chance_ppm(params_.partition_ppm)) partition();
  const bool clog = prng_.chance_ppm(params_.clog_ppm);
  const auto who = static_cast<Endpoint>(1 + prng_.uniform(producers_ + consumers_.size()));
  const TimeNs clog_ns = f.clog_ns.draw(prng_);
  if (clog) {
    ++stats_.clogs;
    note("clog of endpoint " + std::to_string(who) + " for " + std::to_string(clog_ns) + " ns");
    network_.clog_until(who, queue_.now() + clog_ns);
  }
  const TimeNs next = queue_.now() + f.tick_ns;
  if (next < params_.faulty_ns) queue_.push(next, Wake{kNemesisEndpoint, kTick, 0});
}

// Cuts each client off the broker with probability 1/2 (at least one).
void Nemesis::partition() {
  const uint32_t clients = producers_ + static_cast<uint32_t>(consumers_.size());
  const TimeNs length = scenario_.faults.partition_ns.draw(prng_);
  std::string cut;
  for (Endpoint e = 1; e <= clients; ++e) {
    if (!prng_.chance_ppm(500'000)) continue;
    network_.set_partitioned(e, true);
    cut += " " + std::to_string(e);
    queue_.push(queue_.now() + length, Wake{kNemesisEndpoint, kHealPartition, e});
  }
  if (cut.empty()) {
    const auto e = static_cast<Endpoint>(1 + prng_.uniform(clients));
    network_.set_partitioned(e, true);
    cut = " " + std::to_string(e);
    queue_.push(queue_.now() + length, Wake{kNemesisEndpoint, kHealPartition, e});
  }
  ++stats_.partitions;
  note("partition of endpoints" + cut + " from the broker for " + std::to_string(length) + " ns");
}

void Nemesis::wake(uint32_t what, uint64_t token) {
  if (what == kTick) {
    if (active_) tick();
    return;
  }
  if (frozen_) return;
  if (what == kRecoverBroker) {
    if (!broker_.up()) broker_.recover();
  } else if (what == kRestartConsumer) {
    if (!consumers_[token].alive()) consumers_[token].restart();
  } else {
    MQ_CHECK(what == kHealPartition);
    if (active_) network_.set_partitioned(static_cast<Endpoint>(token), false);
  }
}

void Nemesis::heal_all() {
  active_ = false;
  if (frozen_) return;
  note("heal: every fault ends");
  network_.heal_all();
  if (!broker_.up()) broker_.recover();
  for (auto& c : consumers_) {
    if (!c.alive()) c.restart();
    c.heal();
  }
}

}  // namespace mq::sim
