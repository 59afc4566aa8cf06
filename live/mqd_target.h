#pragma once
// The project's own daemon as a live target: mqd (docs/protocol.md) driven through
// the project's client library (impl/client.h, over hiredis). The run writes mqd a
// configuration with one durable queue, `work` (redeliveries never dead-letter: the
// checker would count a dead-lettered message as lost), its visibility timeout the
// workload's redelivery time, and the workload's producers and consumers by name.
// A producer SENDs each value with the value as its message id (idempotent publish);
// a consumer ATTACHes (the newest connection holds a consumer, so a reconnect takes
// back what the old connection held), FETCHes with BLOCK, and ACKs by id.
//
// Configurations are mqd's --fsync modes: `always`, `batch` (syncs at most every
// 2 ms; still confirms only after the sync), `never` (confirms once written to the
// page cache). What each promises is in claim(): every mode survives a process kill;
// only `never` may lose on power loss.
//
// Outcome mapping (mqd_outcome): an answer is `ok` or `fail` (FULL, NOSPACE,
// NOTHELD, SESSION, ERR: nothing happened); no answer (the client's kIoError: a
// timeout, a reset) is `info`.
//
// The mqd binary: $MQ_MQD if set, else `mqd` beside the running program (build/apps).

#include "base/status.h"
#include "live/target.h"

namespace mq::live {

enum class MqdFsync : uint8_t { kAlways, kBatch, kNever };

// What a client call's Status means for an operation that was sent.
Outcome mqd_outcome(const Status& s);

class MqdTarget final : public Target {
 public:
  explicit MqdTarget(MqdFsync fsync) : fsync_(fsync) {}
  std::string name() const override { return "mqd"; }
  std::string config() const override;
  std::string describe() const override;
  std::string version() const override;
  std::optional<std::string> unavailable() const override;
  Launch launch(const LaunchContext& ctx) const override;
  std::unique_ptr<TargetClient> client(const Endpoint& endpoint, const ClientOptions& options) const override;
  Claim claim(FaultKind fault) const override;

  static std::optional<MqdFsync> parse_fsync(const std::string& config);
  // The configuration file mqd is started with.
  static std::string config_json(std::chrono::milliseconds redeliver_after);

 private:
  MqdFsync fsync_;
};

}  // namespace mq::live
