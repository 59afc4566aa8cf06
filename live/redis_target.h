#pragma once
// Redis targets over hiredis, in two queue patterns and three persistence settings.
//
//  - redis-list: Redis's "reliable queue" pattern. A producer LPUSHes onto mq:queue;
//    a consumer BLMOVEs the oldest element to its own processing list
//    (mq:processing:<name>) and acks with LREM. A consumer that (re)connects, and
//    every consumer once a second (the pattern's reaper), moves what its processing
//    list still holds back to the queue's head: deliveries it never acked, or never
//    saw (a BLMOVE it gave up on that the server executed later). That is where
//    redeliveries come from.
//  - redis-stream: a stream with a consumer group. XADD publishes, XREADGROUP ">"
//    fetches, XACK acks, and XAUTOCLAIM takes over entries pending longer than the
//    redelivery time (a consumer whose connection died, a reply lost in a partition).
//    The group is created at offset 0 so a group lost with its stream reads
//    everything the stream still has.
//
// Configurations: `none` (no RDB, no AOF: nothing survives a restart),
// `aof-everysec` (the AOF is written before the reply, fsynced once a second),
// `aof-always` (fsynced before the reply). What each promises is in claim().
//
// Outcome mapping (redis_outcome): an error reply is `fail` (Redis executes nothing
// of a command it answers with an error); no reply after the request was sent (a
// timeout, EOF, a reset) is `info`; a failed connect is `fail` (nothing was sent).

#include <hiredis/hiredis.h>

#include "live/target.h"

namespace mq::live {

enum class RedisPattern : uint8_t { kList, kStream };
enum class RedisPersistence : uint8_t { kNone, kAofEverysec, kAofAlways };

// What a reply (nullptr: none came) means for a command that was sent on `ctx`.
// REQUIRES: ctx != nullptr when reply == nullptr.
Outcome redis_outcome(const redisReply* reply, const redisContext* ctx);

class RedisTarget final : public Target {
 public:
  RedisTarget(RedisPattern pattern, RedisPersistence persistence)
      : pattern_(pattern), persistence_(persistence) {}
  std::string name() const override;
  std::string config() const override;
  std::string describe() const override;
  std::string version() const override;
  std::optional<std::string> unavailable() const override;
  Launch launch(const LaunchContext& ctx) const override;
  std::unique_ptr<TargetClient> client(const Endpoint& endpoint, const ClientOptions& options) const override;
  Claim claim(FaultKind fault) const override;

  static std::optional<RedisPersistence> parse_persistence(const std::string& config);

 private:
  RedisPattern pattern_;
  RedisPersistence persistence_;
};

}  // namespace mq::live
