#pragma once
// NATS JetStream over nats.c (libnats): a work-queue stream (retention: work queue,
// file storage, a duplicate window of kDuplicateWindowS) on one subject; producers
// publish with js_Publish and a message id (the value: a retried publish is
// deduplicated); consumers share one durable pull consumer with explicit acks, an ack
// wait of ClientOptions::redeliver_after, fetch one message at a time and ack it with
// natsMsg_AckSync. The broker's delivery count (NumDelivered) is recorded.
//
// Configuration `file-storage`: nats-server 2.9 acknowledges a publish once the
// message is written to its file store (the page cache) and fsyncs that store on a
// timer (two minutes in the 2.9 source; 2.9.10 has no `sync_interval` option), so it
// claims no loss under kill, pause and partition, and not under power loss.
// Disk faults are unsupported: nats-server is a Go program that makes its system
// calls directly, not through libc, so libfiu's preload cannot reach them.
//
// Outcome mapping (nats_outcome): NATS_OK is `ok`; a JetStream API error (errCode != 0)
// and NATS_NO_RESPONDERS (nothing took the request) are `fail`; a timeout and a lost
// connection after sending are `info`; a failure to connect is `fail`.

#include <nats/nats.h>

#include "live/target.h"

namespace mq::live {

inline constexpr int64_t kDuplicateWindowS = 120;

Outcome nats_outcome(natsStatus status, jsErrCode err, bool sent);

class NatsTarget final : public Target {
 public:
  std::string name() const override { return "nats-js"; }
  std::string config() const override { return "file-storage"; }
  std::string describe() const override;
  std::string version() const override;
  std::optional<std::string> unavailable() const override;
  Launch launch(const LaunchContext& ctx) const override;
  std::unique_ptr<TargetClient> client(const Endpoint& endpoint, const ClientOptions& options) const override;
  Claim claim(FaultKind fault) const override;
  std::optional<std::string> unsupported(FaultKind fault) const override;
};

}  // namespace mq::live
