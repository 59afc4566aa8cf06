#pragma once
// Scenario: everything a simulation run needs except its seed, read from a JSON file
// (docs/simulator.md, "Scenario files"): the topology, the workload the producers
// generate, how the clients behave (timeouts, processing time), the network's
// latency, the fault mix as a range per probability (each seed draws its own value
// from each range: swarm testing), and the lengths of the faulty and healing phases.
//
// Units: every duration is in virtual nanoseconds (`_ns`), every probability in parts
// per million (`_ppm`). A range is written [lo, hi] (inclusive) or as one number.
//
// Errors (Status, kInvalidArgument or kIoError): name the file and the JSON path of
// the field, e.g. "s.json: /faults/loss_ppm: lo 5 > hi 2".
//
// Thread-safety: a Scenario is an immutable value once loaded; share it freely.

#include <cstdint>
#include <string>
#include <vector>

#include "base/prng.h"
#include "base/status.h"
#include "model/topology.h"
#include "sim/fault_kind.h"

namespace mq::sim {

// An inclusive integer range; a seed draws one value from it.
struct Range {
  int64_t lo = 0;
  int64_t hi = 0;
  int64_t draw(Prng& prng) const { return prng.range(lo, hi); }
  friend bool operator==(const Range&, const Range&) = default;
};

// Where a producer sends: a queue (send) or a topic (publish to every bound queue).
struct Target {
  bool topic = false;
  std::string name;
  uint32_t index = 0;   // QueueId or TopicId, resolved against the topology
  uint32_t weight = 1;  // chosen with probability weight / sum of weights
};

// A field a malformed message (workload.invalid_ppm) gets wrong.
enum class MalformedField : uint8_t { kPriority, kTtl, kDelay };
constexpr const char* malformed_field_name(MalformedField f) {
  switch (f) {
    case MalformedField::kPriority: return "priority";
    case MalformedField::kTtl: return "ttl";
    case MalformedField::kDelay: return "delay";
  }
  return nullptr;  // not an enumerator
}

struct Workload {
  uint64_t messages = 100;      // in total, spread round-robin over the producers
  std::vector<Target> targets;  // default: every queue that has a consumer, weight 1
  Range send_gap_ns{1'000'000, 5'000'000};  // from a confirm to the next send
  Range payload_bytes{1, 32};
  Range priority{0, 0};         // clipped to the target's priority levels
  uint32_t ttl_ppm = 0;         // share of messages with a TTL
  Range ttl_ns{50'000'000, 500'000'000};
  uint32_t delay_ppm = 0;       // share of messages with a delay
  Range delay_ns{1'000'000, 50'000'000};
  // Share of messages with their own retry budget (MessageSpec::max_retries, RESP's
  // RETRIES) drawn from `retries`; the others take their queue's.
  uint32_t retries_ppm = 0;
  Range retries{0, 3};
  // Share of messages sent malformed on purpose, as a faulty client would, which the
  // broker must refuse as a whole (InvalidArgument) and the producer gives up: one
  // field drawn of `invalid_fields`, a priority above the target's levels (above the
  // lowest of a topic's bound queues; none when the target has 256 levels), a TTL of
  // -1 or a delay of -1. Drawn, like retries, from the producer's own stream
  // derive_seed(seed, "options/<name>"): the other draws stay as they were.
  uint32_t invalid_ppm = 0;
  // Empty (the default): every field the clients can send malformed, which over RESP
  // (clients.resp: its parser refuses a negative TTL or delay itself) is the priority
  // only. See malformed_fields().
  std::vector<MalformedField> invalid_fields;
};

// RESP (clients.resp) carries TTL, DELAY and BLOCK in whole milliseconds.
inline constexpr TimeNs kNsPerMs = 1'000'000;
// `ns` rounded up to a whole number of milliseconds (0 stays 0).
constexpr TimeNs whole_ms(TimeNs ns) { return (ns + kNsPerMs - 1) / kNsPerMs * kNsPerMs; }

struct ClientConfig {
  TimeNs publish_timeout_ns = 20'000'000;  // then the producer resends, same id
  Range full_backoff_ns{5'000'000, 20'000'000};  // after "queue full", before resending
  TimeNs ack_timeout_ns = 20'000'000;      // then the consumer resends the ack
  uint32_t max_ack_sends = 3;              // then it gives up (the visibility timeout takes over)
  Range process_ns{100'000, 2'000'000};    // a consumer's work per message
  TimeNs heartbeat_ns = 20'000'000;        // a consumer says hello this often
  TimeNs session_timeout_ns = 100'000'000; // the broker detaches a consumer silent this long
  // A consumer with an empty inbox also pulls (fetch) this often; 0: push only.
  TimeNs fetch_interval_ns = 0;
  // Consumers (by name) that hold pull sessions, as mqd's clients do: their
  // deliveries wait at the broker until they fetch them, up to fetch_max at a time,
  // each fetch waiting up to fetch_block_ns for one (0: answered at once). `pull` is
  // the same list resolved: [ConsumerId] -> whether it pulls.
  std::vector<std::string> pull_consumers;
  std::vector<bool> pull;
  uint32_t fetch_max = 1;
  TimeNs fetch_block_ns = 0;
  // A crashed consumer's connection closes (its kernel resets it): the broker hears
  // of it over the network and detaches the session then, not at its timeout.
  bool close_on_crash = false;
  // Each consumer asks for its queue's STATS and for INFO this often; 0: never.
  TimeNs stats_interval_ns = 0;
  // The producers and the pull consumers speak RESP through mqd's command layer and
  // the client library (sim/resp_route.h): TTL and delay draws are rounded up to whole
  // milliseconds, and fetch_block_ns must be whole milliseconds.
  bool resp = false;
  // With resp: the share of a RESP client's requests that it precedes with a command
  // the broker answers without touching a queue: a malformed or unknown one (an error)
  // or PING, ECHO and the like (sim/resp_route.h, "Noise"). Without resp it has no
  // effect (typed requests have no such commands), so a swarm may draw it for every seed.
  uint32_t resp_noise_ppm = 0;
  // With resp: the share of the RESP clients' requests before which a hostile client,
  // none of the scenario's, connects and writes bytes that end its connection (not
  // RESP, a bound exceeded, QUIT: sim/resp_route.h, "Hostile clients"). Without resp it
  // has no effect, like resp_noise_ppm.
  uint32_t resp_hostile_ppm = 0;
  bool pulls(ConsumerId c) const { return c < pull.size() && pull[c]; }
};

// The network's slow path: its share of packets is the slow-network fault kind's
// knob (/network/slow_ppm), kept with the other kinds' in FaultConfig::rate_ppm.
struct NetworkConfig {
  Range latency_ns{50'000, 500'000};  // one way, most packets
  Range slow_latency_ns{2'000'000, 20'000'000};
};

// Probabilities are ranges in ppm; `tick_ns` is how often the nemesis rolls its dice.
// What each probability means is said where the fault is made (the kinds' table,
// sim/fault_kind.h, names them): per packet the network loses one, delivers it twice
// or takes the slow path; per tick the nemesis crashes the broker, each consumer,
// partitions, clogs, fills the disk; per broker crash the write in flight is torn, a
// bit flips at rest in a synced record (docs/simulator.md, "The simulated disk"); per
// delivery a consumer's processing fails and it nacks (of those, the dead-letter
// share without requeue); per seed, each consumer is slow.
struct FaultConfig {
  TimeNs tick_ns = 10'000'000;
  FaultRates<Range> rate_ppm{};  // [kind][knob], read by the names in the kinds' rows
  Range broker_down_ns{5'000'000, 50'000'000};
  Range consumer_down_ns{5'000'000, 100'000'000};
  Range partition_ns{5'000'000, 100'000'000};
  Range clog_ns{5'000'000, 50'000'000};
  Range slow_factor{2, 20};                   // per consumer, drawn once per seed
  Range disk_full_ns{5'000'000, 50'000'000};  // the disk stays full (appends fail with ENOSPC)
  // Of those disk faults, the share where the disk fails instead (every sync fails
  // with EIO for disk_full_ns): both stop the broker until the fault ends.
  uint32_t disk_failing_ppm = 0;

  Range& rate(FaultKind k, int knob = 0) { return rate_ppm[static_cast<size_t>(k)][knob]; }
  const Range& rate(FaultKind k, int knob = 0) const { return rate_ppm[static_cast<size_t>(k)][knob]; }
};

// The broker's simulated disk: the write-ahead log over impl::MemStorage.
struct DiskConfig {
  Range latency_ns{20'000, 200'000};   // one group commit: append + sync
  TimeNs commit_delay_ns = 0;          // the server shell's group-commit delay (its rule 3)
  uint64_t segment_bytes = 256u << 10;   // small, so that segments roll in a run
  uint64_t checkpoint_bytes = 1u << 20;  // ... and checkpoints happen
  // The server shell's deferred group commit (ShellOptions::defer_commit, what mqd
  // runs): a commit starts once the requests already waiting at that instant are
  // handled, not at once.
  bool defer_commit = false;
  // A broker crash is followed by a new process, as mqd starts (a new server shell
  // from the recovered log: ServerShell::recovered), not by restoring the crashed
  // one's core in place; sessions are then forgotten and the consumers attach again.
  bool restart_fresh = false;
  // A restart's new log generation (its first checkpoint) takes this long to write:
  // meanwhile the broker is starting, and answers every request "unavailable" (as mqd
  // does while it recovers). 0: at once. The first start of a run is always at once.
  TimeNs start_latency_ns = 0;
  // The simulated machine computes CRC-32C by the table, as a processor without the
  // crc32 instruction does (impl::use_crc32c): the code mqd runs on ARM.
  bool crc32c_table = false;
};

// One rule of the scenario's `swarm` section (sim/swarm.h): a place in the scenario's
// JSON and the values a seed may put there.
struct SwarmRule {
  std::string path;                  // a JSON pointer; "*" steps match every element
  std::vector<std::string> choices;  // JSON texts; empty: `range` instead
  Range range;
  friend bool operator==(const SwarmRule&, const SwarmRule&) = default;
};

struct Durations {
  TimeNs faulty_ns = 2'000'000'000;   // faults happen in [0, faulty_ns)
  TimeNs healing_ns = 10'000'000'000;  // then everything heals; all must end by faulty+healing
  bool heal = true;                    // false: faults in force at faulty_ns stay (tests liveness)
};

struct Scenario {
  std::string name;   // the file's stem, or "default"
  std::string file;   // where it was read from ("<built-in>" for the default)
  std::string text;   // the JSON text it was read from (replay files embed it)
  Topology topology;
  Workload workload;
  ClientConfig clients;
  NetworkConfig network;
  FaultConfig faults;
  DiskConfig disk;
  Durations durations;
  std::vector<SwarmRule> swarm;  // empty: every seed runs this very scenario
};

// Parses and validates a scenario. `file` names it in errors.
Result<Scenario> scenario_from_text(std::string_view text, const std::string& file);
Result<Scenario> load_scenario(const std::string& path);
// scenarios/default.json, compiled in.
Scenario default_scenario();
std::string_view default_scenario_text();

// The fields a malformed message of `s` may get wrong (workload.invalid_fields, or
// its default), in the order a draw indexes them; never empty.
std::vector<MalformedField> malformed_fields(const Scenario& s);

}  // namespace mq::sim
