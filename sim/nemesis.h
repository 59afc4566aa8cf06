#pragma once
// Nemesis: the fault injector. During the faulty phase it rolls its dice every
// tick_ns (in a fixed order: broker crash, each consumer's crash, partition, clog,
// disk full or failing)
// with the per-seed probabilities, and schedules the matching heal (restart, end
// of partition) after a duration drawn from the scenario's range. heal_all() ends
// every fault at once (the start of the healing phase); freeze() instead keeps the
// faults in force at that moment forever (healing disabled, to test liveness
// reporting).
//
// Every fault reaches the history as a nemesis event (crash and recover, partition
// and its end, clog and its end, consumer crash and restart, disk faults), through
// the broker node so that it is ordered with the broker's released outputs; log()
// also keeps them (time and what) for the run's report. Each fault is a choice
// (sim/choices.h), keyed by its tick and its slot: a skipped one is drawn, not made.
//
// Thread-safety: none; one per run.

#include <array>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "base/prng.h"
#include "sim/broker_node.h"
#include "sim/choices.h"
#include "sim/consumer.h"
#include "sim/sim_params.h"

namespace mq::sim {

// How many faults of each kind the nemesis made (the kinds with a `counted_as` name in
// fault_kind_info; the others stay 0).
struct FaultStats {
  std::array<uint64_t, kFaultKindCount> made{};  // [FaultKind]
  uint64_t& operator[](FaultKind k) { return made[static_cast<size_t>(k)]; }
  uint64_t operator[](FaultKind k) const { return made[static_cast<size_t>(k)]; }
  // Every fault the nemesis made (a sweep's figure).
  uint64_t total() const { return std::accumulate(made.begin(), made.end(), uint64_t{0}); }
};

class Nemesis {
 public:
  // At most this many log lines are kept (counts in stats() are exact).
  static constexpr size_t kMaxLog = 256;

  Nemesis(const Scenario& scenario, const SimParams& params, SimQueue& queue, Network& network,
          BrokerNode& broker, std::vector<Consumer>& consumers, uint32_t producers, ChoiceSet& choices);

  void start();
  void wake(uint32_t what, uint64_t token);
  void heal_all();
  void freeze() { frozen_ = true; }

  const FaultStats& stats() const { return stats_; }
  const std::vector<std::string>& log() const { return log_; }

 private:
  enum Wakes : uint32_t { kTick, kRecoverBroker, kRestartConsumer, kHealPartition, kClogEnd, kDiskSpace };

  void tick();
  void note(const std::string& what);
  void partition();
  Endpoint consumer_endpoint(ConsumerId c) const { return sim::consumer_endpoint(producers_, c); }
  std::string client_name(Endpoint e) const;
  void cut(Endpoint e, TimeNs length);
  void disk_tick();
  void restart(ConsumerId c);
  // Whether this tick's fault in `slot` is made (not a skipped choice).
  bool allow(uint32_t slot) { return choices_.allow(choice_key(ChoiceKind::kFault, ticks_, slot)); }

  const Scenario& scenario_;
  const SimParams& params_;
  Prng prng_;
  // Whether a disk fault made is a failing disk rather than a full one: drawn only
  // then, from its own stream, so that runs without failing disks draw as before.
  Prng disk_kind_prng_;
  SimQueue& queue_;
  Network& network_;
  BrokerNode& broker_;
  std::vector<Consumer>& consumers_;
  uint32_t producers_;
  ChoiceSet& choices_;
  uint32_t ticks_ = 0;   // ticks so far: the key of this tick's faults
  bool active_ = true;   // still in the faulty phase
  bool frozen_ = false;  // healing disabled: scheduled heals are ignored
  bool disk_full_ = false;
  FaultStats stats_;
  std::vector<std::string> log_;
};

}  // namespace mq::sim
