#include "sim/nemesis.h"

namespace mq::sim {

Nemesis::Nemesis(const Scenario& scenario, const SimParams& params, SimQueue& queue, Network& network,
                 BrokerNode& broker, std::vector<Consumer>& consumers, uint32_t producers, ChoiceSet& choices)
    : scenario_(scenario), params_(params), prng_(derive_seed(params.seed, "nemesis")),
      disk_kind_prng_(derive_seed(params.seed, "nemesis/disk-kind")), queue_(queue),
      network_(network), broker_(broker), consumers_(consumers), producers_(producers),
      choices_(choices) {}

void Nemesis::start() {
  if (params_.faulty_ns > 0) queue_.push(scenario_.faults.tick_ns, Wake{kNemesisEndpoint, kTick, 0});
}

void Nemesis::note(const std::string& what) {
  if (log_.size() < kMaxLog) log_.push_back(std::to_string(queue_.now()) + " ns: " + what);
}

// Every draw is made whatever its outcome, so one fault does not shift the others.
void Nemesis::tick() {
  ++ticks_;
  const FaultConfig& f = scenario_.faults;
  const bool crash = prng_.chance_ppm(params_.rate(FaultKind::kBrokerCrash));
  const TimeNs down = f.broker_down_ns.draw(prng_);
  CrashFaults disk;
  disk.tear = prng_.chance_ppm(params_.rate(FaultKind::kTornWrite));
  disk.tear_draw = prng_.next();
  disk.flip = prng_.chance_ppm(params_.rate(FaultKind::kBitFlip));
  disk.flip_draw = prng_.next();
  if (crash && broker_.up() && allow(kSlotBrokerCrash)) {
    disk.tear = disk.tear && allow(kSlotTornWrite);
    disk.flip = disk.flip && allow(kSlotBitFlip);
    ++stats_[FaultKind::kBrokerCrash];
    note("broker crash for " + std::to_string(down) + " ns" + (disk.tear ? ", tearing a write in flight" : "") +
         (disk.flip ? ", flipping a bit at rest" : ""));
    broker_.crash(disk);
    queue_.push(queue_.now() + down, Wake{kNemesisEndpoint, kRecoverBroker, 0});
  }
  for (ConsumerId c = 0; c < consumers_.size(); ++c) {
    const bool stop = prng_.chance_ppm(params_.rate(FaultKind::kConsumerCrash));
    const TimeNs gone = f.consumer_down_ns.draw(prng_);
    if (!stop || !consumers_[c].alive() || !allow(kSlotConsumerCrash + c)) continue;
    ++stats_[FaultKind::kConsumerCrash];
    note("consumer '" + scenario_.topology.consumers[c].name + "' crash for " + std::to_string(gone) + " ns");
    consumers_[c].crash();
    broker_.note_fault(EventF::kConsumerCrash, scenario_.topology.consumers[c].name);
    queue_.push(queue_.now() + gone, Wake{kNemesisEndpoint, kRestartConsumer, c});
  }
  if (prng_.chance_ppm(params_.rate(FaultKind::kPartition))) partition();  // draws its victims, then asks
  const bool clog = prng_.chance_ppm(params_.rate(FaultKind::kClog));
  const auto who = static_cast<Endpoint>(1 + prng_.uniform(client_endpoints(producers_, consumers_.size())));
  const TimeNs clog_ns = f.clog_ns.draw(prng_);
  if (clog && allow(kSlotClog)) {
    ++stats_[FaultKind::kClog];
    note("clog of " + client_name(who) + " for " + std::to_string(clog_ns) + " ns");
    network_.clog_until(who, queue_.now() + clog_ns);
    broker_.note_fault(EventF::kClog, client_name(who));
    queue_.push(queue_.now() + clog_ns, Wake{kNemesisEndpoint, kClogEnd, who});
  }
  disk_tick();
  const TimeNs next = queue_.now() + f.tick_ns;
  if (next < params_.faulty_ns) queue_.push(next, Wake{kNemesisEndpoint, kTick, 0});
}

std::string Nemesis::client_name(Endpoint e) const {
  const ClientAt c = client_at(producers_, e);
  return c.producer ? scenario_.topology.producers.at(c.index).name : scenario_.topology.consumers.at(c.index).name;
}

// Drawn every tick, after the older faults, whatever the outcome.
void Nemesis::disk_tick() {
  const bool full = prng_.chance_ppm(params_.rate(FaultKind::kDiskFull));
  const TimeNs length = scenario_.faults.disk_full_ns.draw(prng_);
  const uint64_t slack = prng_.uniform(4096);
  if (!full || disk_full_ || !allow(kSlotDiskFull)) return;
  disk_full_ = true;
  ++stats_[FaultKind::kDiskFull];
  if (disk_kind_prng_.chance_ppm(scenario_.faults.disk_failing_ppm)) {
    note("disk failing for " + std::to_string(length) + " ns (every sync fails: EIO)");
    broker_.disk_failing();
  } else {
    note("disk full for " + std::to_string(length) + " ns (" + std::to_string(slack) + " bytes left)");
    broker_.disk_full(slack);
  }
  queue_.push(queue_.now() + length, Wake{kNemesisEndpoint, kDiskSpace, 0});
}

void Nemesis::cut(Endpoint e, TimeNs length) {
  if (network_.partitioned(e)) return;
  network_.set_partitioned(e, true);
  broker_.note_fault(EventF::kPartition, client_name(e));
  queue_.push(queue_.now() + length, Wake{kNemesisEndpoint, kHealPartition, e});
}

// Cuts each client off the broker with probability 1/2 (at least one).
void Nemesis::partition() {
  const uint32_t clients = client_endpoints(producers_, consumers_.size());
  const TimeNs length = scenario_.faults.partition_ns.draw(prng_);
  std::string names;
  std::vector<Endpoint> chosen;
  for (Endpoint e = 1; e <= clients; ++e) {
    if (prng_.chance_ppm(500'000)) chosen.push_back(e);
  }
  if (chosen.empty()) chosen.push_back(static_cast<Endpoint>(1 + prng_.uniform(clients)));
  if (!allow(kSlotPartition)) return;
  for (Endpoint e : chosen) {
    cut(e, length);
    names += " " + client_name(e);
  }
  ++stats_[FaultKind::kPartition];
  note("partition of" + names + " from the broker for " + std::to_string(length) + " ns");
}

void Nemesis::wake(uint32_t what, uint64_t token) {
  if (what == kTick) {
    if (active_) tick();
    return;
  }
  if (frozen_) return;
  if (what == kRecoverBroker) {
    if (!broker_.up()) (void)broker_.recover();
  } else if (what == kRestartConsumer) {
    if (!consumers_[token].alive()) restart(static_cast<ConsumerId>(token));
  } else if (what == kClogEnd) {
    if (active_) broker_.note_fault(EventF::kClogEnd, client_name(static_cast<Endpoint>(token)));
  } else if (what == kDiskSpace) {
    if (disk_full_) {
      disk_full_ = false;
      broker_.disk_space();
    }
  } else {
    MQ_CHECK(what == kHealPartition);
    const auto e = static_cast<Endpoint>(token);
    if (active_ && network_.partitioned(e)) {
      network_.set_partitioned(e, false);
      broker_.note_fault(EventF::kPartitionEnd, client_name(e));
    }
  }
}

void Nemesis::restart(ConsumerId c) {
  consumers_[c].restart();
  broker_.note_fault(EventF::kConsumerRestart, scenario_.topology.consumers[c].name);
}

void Nemesis::heal_all() {
  active_ = false;
  if (frozen_) return;
  note("heal: every fault ends");
  const uint32_t clients = client_endpoints(producers_, consumers_.size());
  for (Endpoint e = 1; e <= clients; ++e) {
    if (network_.partitioned(e)) broker_.note_fault(EventF::kPartitionEnd, client_name(e));
  }
  network_.heal_all();
  if (disk_full_) {
    disk_full_ = false;
    broker_.disk_space();
  }
  if (!broker_.up()) (void)broker_.recover();
  for (ConsumerId c = 0; c < consumers_.size(); ++c) {
    if (!consumers_[c].alive()) restart(c);
    consumers_[c].heal();
  }
}

}  // namespace mq::sim
