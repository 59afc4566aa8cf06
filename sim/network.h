#pragma once
// Network: the links between the broker and each client, in virtual time.
//
// Every packet gets its own latency, drawn from the scenario's two-level mix (most
// packets on the fast path, `slow_ppm` of them on the slow one), so reordering
// follows from the draw. During the faulty phase a packet may also be lost
// (`loss_ppm`) or delivered twice (`duplicate_ppm`, each copy with its own latency).
// A partitioned client's packets, both ways, are dropped; a clogged client's packets
// are held until the clog ends, then sent with a fresh latency. heal_all() ends every
// fault at once. Each loss and duplication is a choice (sim/choices.h): the k-th
// packet on a client's link, one way, which a shrinker may take away.
//
// Thread-safety: none; one network per run. Randomness comes only from its own Prng.

#include <cstdint>
#include <vector>

#include "base/prng.h"
#include "sim/choices.h"
#include "sim/scenario.h"
#include "sim/sim_event.h"

namespace mq::sim {

struct NetworkParams {
  uint32_t loss_ppm = 0;
  uint32_t duplicate_ppm = 0;
  uint32_t slow_ppm = 0;
};

struct NetworkStats {
  uint64_t sent = 0, lost = 0, duplicated = 0, partitioned = 0, clogged = 0;
};

class Network {
 public:
  // `clients`: the number of client endpoints (1..clients). `choices` outlives the network.
  Network(const NetworkConfig& config, NetworkParams params, uint64_t seed, SimQueue& queue, uint32_t clients,
          ChoiceSet& choices);

  // Sends from one endpoint to another; one of them is the broker.
  void send(Endpoint from, Endpoint to, Packet packet);

  // Loss and duplication apply only while lossy (the faulty phase).
  void set_lossy(bool lossy) { lossy_ = lossy; }
  void set_partitioned(Endpoint client, bool cut);
  void clog_until(Endpoint client, TimeNs until_ns);
  bool partitioned(Endpoint client) const { return cut_[client]; }
  void heal_all();

  const NetworkStats& stats() const { return stats_; }

 private:
  TimeNs latency();

  NetworkConfig config_;
  NetworkParams params_;
  Prng prng_;
  SimQueue& queue_;
  std::vector<bool> cut_;              // [Endpoint]: partitioned from the broker
  std::vector<TimeNs> clogged_until_;  // [Endpoint]
  ChoiceSet& choices_;
  std::vector<uint32_t> packets_;      // [2 * Endpoint + from the broker]: packets sent on the link
  bool lossy_ = false;
  NetworkStats stats_;
};

}  // namespace mq::sim
