#pragma once
// Target: one broker configuration a live run starts and drives, behind the same
// small interface for every vendor: how to launch its server, a client that can
// publish, fetch and ack, and what the configuration promises under each fault.
// An adapter is a thin layer over the vendor's own client library (hiredis,
// librabbitmq-c, nats.c); beanstalkd has no C client in Debian, so its adapter
// speaks the text protocol itself (live/beanstalk_target.h).
//
// Outcomes follow Jepsen: `ok` the operation happened, `fail` it certainly did not
// (an error reply, a refused connection before anything was sent), `info` its
// outcome is unknown (a timeout, a connection reset after the request left). Every
// adapter maps its library's results with a pure function that has a unit test
// (tests/live_outcome_test.cc).
//
// Thread-safety: a Target is immutable after construction and shared by all threads;
// a TargetClient belongs to one thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/history.h"

namespace mq::live {

struct Outcome {
  EventType type = EventType::kOk;  // kOk, kFail or kInfo (never kInvoke)
  std::string error;                // why, for fail and info

  static Outcome ok() { return {EventType::kOk, ""}; }
  static Outcome fail(std::string why) { return {EventType::kFail, std::move(why)}; }
  static Outcome info(std::string why) { return {EventType::kInfo, std::move(why)}; }
  bool is_ok() const { return type == EventType::kOk; }
};

// A message a consumer holds until it acks it.
struct Delivery {
  std::string value;      // the payload as published
  uint32_t attempts = 0;  // deliveries so far as the broker counts them; 0: not reported
  std::string receipt;    // what the ack needs (a stream id, a job id, a delivery tag)
};

// The result of one fetch: ok with a delivery, fail "empty" when nothing came within
// the fetch's wait, or another fail / info.
struct Fetch {
  Outcome outcome;
  std::optional<Delivery> delivery;
};
inline constexpr const char* kEmpty = "empty";

// Where a client finds the server.
struct Endpoint {
  std::string host;  // 127.0.0.1, or the address inside the run's network namespace
  uint16_t port = 0;
};

struct ClientOptions {
  std::string name;                                 // "p0", "c1": also the consumer name
  bool consumer = false;                            // a consumer takes back what it held at connect()
  std::chrono::milliseconds op_timeout{1000};       // a request without answer by then is info
  std::chrono::milliseconds fetch_wait{100};        // how long a fetch waits for a message
  std::chrono::milliseconds redeliver_after{2000};  // unacked deliveries come back after this
};

class TargetClient {
 public:
  virtual ~TargetClient() = default;
  // Connects (again) and declares what the workload uses (queue, stream, group); a
  // consumer also takes back what it held and never acked, as the target's pattern
  // says (a reliable list's processing list, a stream's pending entries).
  // ENSURES: connected() only if the whole setup succeeded (a half-set-up client
  // would skip its give-back on the next connect()).
  virtual Outcome connect() = 0;
  virtual bool connected() const = 0;
  virtual void disconnect() = 0;
  virtual Outcome publish(const std::string& value) = 0;
  virtual Fetch fetch() = 0;
  virtual Outcome ack(const Delivery& delivery) = 0;
};

// The fault kinds a nemesis injects (live/nemesis.h).
enum class FaultKind : uint8_t { kKill, kPause, kPartition, kDisk, kPowerLoss };
inline constexpr int kFaultKindCount = 5;
const char* fault_kind_name(FaultKind k);
std::optional<FaultKind> parse_fault_kind(const std::string& name);

// What a configuration promises under one fault: whether every acknowledged publish
// is delivered (no loss), and the sentence that says why (from the target's docs).
struct Claim {
  bool no_loss = true;
  std::string why;
};

// How to start the server: argv, extra environment, files written into the run dir
// first (name relative to the run dir, content).
// Helpers are processes the server needs beside it (RabbitMQ's epmd): started before
// the server's first start, in the same namespace, never faulted, stopped at the end.
struct Launch {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<std::pair<std::string, std::string>> files;
  std::vector<std::vector<std::string>> helpers;
  std::chrono::milliseconds ready_timeout{10'000};
};

inline constexpr int kAuxPorts = 2;
struct LaunchContext {
  std::string bind_host;  // the address the server listens on
  uint16_t port = 0;
  uint16_t aux_ports[kAuxPorts] = {};  // more free ports, the same across restarts
  std::string data_dir;                // exists, empty at first start; kept across restarts
  std::string run_dir;                 // scratch space of the run (logs, configs)
};

class Target {
 public:
  virtual ~Target() = default;
  virtual std::string name() const = 0;    // "redis-list"
  virtual std::string config() const = 0;  // "aof-always"
  // One line for the run's header: what the configuration is.
  virtual std::string describe() const = 0;
  // The server's version, asked from the installed binary ("Redis server v=7.0.15").
  virtual std::string version() const = 0;
  // A reason the target cannot run on this machine (binary missing), or nullopt.
  virtual std::optional<std::string> unavailable() const = 0;
  virtual Launch launch(const LaunchContext& ctx) const = 0;
  virtual std::unique_ptr<TargetClient> client(const Endpoint& endpoint,
                                               const ClientOptions& options) const = 0;
  virtual Claim claim(FaultKind fault) const = 0;
  // Whether the fault can be injected at all; nullopt if it can, else why not (a
  // server that fiu-run cannot preload, a data dir that must not be on FUSE).
  virtual std::optional<std::string> unsupported(FaultKind /*fault*/) const { return std::nullopt; }
};

// Every target and configuration this build knows, as "name/config" names.
std::vector<std::string> target_names();
// REQUIRES nothing; kInvalidArgument naming the known ones for an unknown name.
Result<std::unique_ptr<Target>> make_target(const std::string& name, const std::string& config);

}  // namespace mq::live
