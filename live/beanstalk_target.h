#pragma once
// beanstalkd targets. Debian packages no C client library for beanstalkd, so this
// adapter speaks its text protocol (protocol.txt of the beanstalkd sources) itself,
// over a plain TCP socket with a deadline on every request: `use` and `watch` a tube,
// `put` (INSERTED id), `reserve-with-timeout 0` (RESERVED id bytes, or TIMED_OUT:
// the client then waits fetch_wait, as a blocking reserve would), `stats-job` for the
// delivery count (reserves), `delete` to ack. An unacked job comes back after its
// time-to-run, ClientOptions::redeliver_after.
//
// Configurations: `no-binlog` (jobs live in memory only), `binlog` (-b: a write-ahead
// log written before the reply, fsynced at most every 50 ms, the default), and
// `binlog-fsync-always` (-b -f0: fsynced before the reply).
//
// Outcome mapping (beanstalk_outcome): the expected reply line is `ok`; a refusal
// (OUT_OF_MEMORY, INTERNAL_ERROR, DRAINING, BAD_FORMAT, JOB_TOO_BIG, EXPECTED_CRLF,
// UNKNOWN_COMMAND, NOT_FOUND) is `fail`; BURIED (the job is stored but will not be
// reserved until kicked) is `info`; no reply in time or a closed connection after the
// request was sent is `info`.

#include <string_view>

#include "live/target.h"

namespace mq::live {

enum class BeanstalkDurability : uint8_t { kNone, kBinlog, kBinlogFsyncAlways };

// `line`: the reply line without "\r\n"; `expected`: the word of success ("INSERTED").
Outcome beanstalk_outcome(std::string_view line, std::string_view expected);

class BeanstalkTarget final : public Target {
 public:
  explicit BeanstalkTarget(BeanstalkDurability d) : durability_(d) {}
  std::string name() const override { return "beanstalkd"; }
  std::string config() const override;
  std::string describe() const override;
  std::string version() const override;
  std::optional<std::string> unavailable() const override;
  Launch launch(const LaunchContext& ctx) const override;
  std::unique_ptr<TargetClient> client(const Endpoint& endpoint, const ClientOptions& options) const override;
  Claim claim(FaultKind fault) const override;
  static std::optional<BeanstalkDurability> parse(const std::string& config);

 private:
  BeanstalkDurability durability_;
};

}  // namespace mq::live
