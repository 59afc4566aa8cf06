#include "live/redis_target.h"

#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "live/process.h"

namespace mq::live {
namespace {

constexpr const char* kQueueKey = "mq:queue";
constexpr const char* kStreamKey = "mq:stream";
constexpr const char* kGroup = "mq-group";
// A consumer gives back at most this many unacked entries when it reconnects.
constexpr int kMaxGiveBack = 100'000;
// How often a stream consumer looks for entries pending too long (XAUTOCLAIM).
constexpr std::chrono::milliseconds kAutoclaimEvery{500};
// How often a list consumer gives back what its processing list holds (the pattern's
// reaper). A consumer acks each delivery before its next fetch, so anything there at
// a fetch is a delivery it never saw: a BLMOVE it gave up on (timeout) that the server
// executed later anyway, e.g. a request TCP retransmitted after a partition healed,
// or one buffered while the server was paused (docs/live.md, finding 1).
constexpr std::chrono::milliseconds kReapEvery{1000};

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r != nullptr) freeReplyObject(r);
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// One connection; commands are sent with redisCommandArgv so values need no quoting.
class RedisClient final : public TargetClient {
 public:
  RedisClient(RedisPattern pattern, Endpoint endpoint, ClientOptions options)
      : pattern_(pattern), endpoint_(std::move(endpoint)), options_(std::move(options)) {}
  ~RedisClient() override { disconnect(); }

  Outcome connect() override;
  bool connected() const override { return ctx_ != nullptr; }
  void disconnect() override {
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
  }
  Outcome publish(const std::string& value) override;
  Fetch fetch() override;
  Outcome ack(const Delivery& delivery) override;

 private:
  // Sends one command and waits for its reply; the outcome, and the reply if ok. A
  // connection that failed is dropped (hiredis cannot reuse it).
  std::pair<Outcome, ReplyPtr> command(const std::vector<std::string>& args);
  std::string processing_key() const { return std::string("mq:processing:") + options_.name; }
  Outcome setup();
  Outcome give_back_list();
  Fetch fetch_list();
  Fetch fetch_stream();
  Fetch autoclaim();

  RedisPattern pattern_;
  Endpoint endpoint_;
  ClientOptions options_;
  redisContext* ctx_ = nullptr;
  std::chrono::steady_clock::time_point last_autoclaim_{};
  std::chrono::steady_clock::time_point last_reap_{};
};

Outcome RedisClient::connect() {
  disconnect();
  ctx_ = redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, to_timeval(options_.op_timeout));
  if (ctx_ == nullptr) return Outcome::fail("cannot allocate a redis context");
  if (ctx_->err != 0) {
    const std::string why = std::string("connect: ") + ctx_->errstr;
    disconnect();
    return Outcome::fail(why);
  }
  // A blocking fetch waits fetch_wait on the server, so the socket waits longer.
  redisSetTimeout(ctx_, to_timeval(options_.op_timeout + options_.fetch_wait));
  // A connection whose setup failed (a server still loading its AOF answers LOADING)
  // is dropped, so the next connect() sets up again: a consumer that skipped its
  // give-back would leave its unacked deliveries in its processing list forever.
  Outcome out = setup();
  if (!out.is_ok()) disconnect();
  return out;
}

Outcome RedisClient::setup() {
  switch (pattern_) {
    case RedisPattern::kList:
      return give_back_list();
    case RedisPattern::kStream: {
      auto [out, reply] = command({"XGROUP", "CREATE", kStreamKey, kGroup, "0", "MKSTREAM"});
      if (out.type == EventType::kFail && out.error.rfind("BUSYGROUP", 0) == 0) return Outcome::ok();
      return out;
    }
  }
  return Outcome::fail("unknown pattern");
}

std::pair<Outcome, ReplyPtr> RedisClient::command(const std::vector<std::string>& args) {
  if (ctx_ == nullptr) return {Outcome::fail("not connected"), nullptr};
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(args.size()), argv.data(), lens.data())));
  Outcome out = redis_outcome(reply.get(), ctx_);
  if (reply == nullptr) disconnect();
  return {out, std::move(reply)};
}

// The reliable-queue pattern's recovery: what this consumer's processing list holds
// was delivered and never acked, so it goes back to the head of the queue.
Outcome RedisClient::give_back_list() {
  if (!options_.consumer) return Outcome::ok();
  for (int i = 0; i < kMaxGiveBack; ++i) {
    auto [out, reply] = command({"LMOVE", processing_key(), kQueueKey, "RIGHT", "RIGHT"});
    if (!out.is_ok()) return out;
    if (reply->type == REDIS_REPLY_NIL) return Outcome::ok();
  }
  return Outcome::ok();
}

Outcome RedisClient::publish(const std::string& value) {
  switch (pattern_) {
    case RedisPattern::kList:
      return command({"LPUSH", kQueueKey, value}).first;
    case RedisPattern::kStream:
      return command({"XADD", kStreamKey, "*", "v", value}).first;
  }
  return Outcome::fail("unknown pattern");
}

Fetch RedisClient::fetch() {
  switch (pattern_) {
    case RedisPattern::kList:
      return fetch_list();
    case RedisPattern::kStream:
      return fetch_stream();
  }
  return {Outcome::fail("unknown pattern"), std::nullopt};
}

Fetch RedisClient::fetch_list() {
  if (std::chrono::steady_clock::now() - last_reap_ >= kReapEvery) {
    last_reap_ = std::chrono::steady_clock::now();
    if (Outcome reaped = give_back_list(); !reaped.is_ok()) return {reaped, std::nullopt};
  }
  const std::string wait_s = std::to_string(static_cast<double>(options_.fetch_wait.count()) / 1000.0);
  auto [out, reply] = command({"BLMOVE", kQueueKey, processing_key(), "RIGHT", "LEFT", wait_s});
  if (!out.is_ok()) return {out, std::nullopt};
  if (reply->type == REDIS_REPLY_NIL) return {Outcome::fail(kEmpty), std::nullopt};
  if (reply->type != REDIS_REPLY_STRING)
    return {Outcome::info("BLMOVE: unexpected reply type"), std::nullopt};
  std::string value(reply->str, reply->len);
  return {Outcome::ok(), Delivery{value, 0, value}};
}

// An entry of an XREADGROUP or XAUTOCLAIM reply: [id, [field, value, ...]].
std::optional<Delivery> stream_entry(const redisReply* entry) {
  if (entry == nullptr || entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return std::nullopt;
  const redisReply* id = entry->element[0];
  const redisReply* fields = entry->element[1];
  if (id->type != REDIS_REPLY_STRING || fields->type != REDIS_REPLY_ARRAY || fields->elements < 2) {
    return std::nullopt;  // an entry deleted while pending has nil fields
  }
  const redisReply* v = fields->element[1];
  if (v->type != REDIS_REPLY_STRING) return std::nullopt;
  return Delivery{std::string(v->str, v->len), 0, std::string(id->str, id->len)};
}

Fetch RedisClient::autoclaim() {
  last_autoclaim_ = std::chrono::steady_clock::now();
  auto [out, reply] = command({"XAUTOCLAIM", kStreamKey, kGroup, options_.name,
                               std::to_string(options_.redeliver_after.count()), "0-0", "COUNT", "1"});
  if (!out.is_ok()) return {out, std::nullopt};
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 ||
      reply->element[1]->type != REDIS_REPLY_ARRAY) {
    return {Outcome::info("XAUTOCLAIM: unexpected reply"), std::nullopt};
  }
  const redisReply* entries = reply->element[1];
  for (size_t i = 0; i < entries->elements; ++i) {
    if (auto d = stream_entry(entries->element[i])) return {Outcome::ok(), d};
  }
  return {Outcome::fail(kEmpty), std::nullopt};
}

Fetch RedisClient::fetch_stream() {
  if (std::chrono::steady_clock::now() - last_autoclaim_ >= kAutoclaimEvery) {
    Fetch claimed = autoclaim();
    if (claimed.outcome.type != EventType::kFail || claimed.outcome.error != kEmpty) return claimed;
  }
  auto [out, reply] = command({"XREADGROUP", "GROUP", kGroup, options_.name, "COUNT", "1", "BLOCK",
                               std::to_string(options_.fetch_wait.count()), "STREAMS", kStreamKey, ">"});
  if (!out.is_ok()) return {out, std::nullopt};
  if (reply->type == REDIS_REPLY_NIL) return {Outcome::fail(kEmpty), std::nullopt};
  // [[stream, [[id, [field, value]]]]]
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 1 ||
      reply->element[0]->type != REDIS_REPLY_ARRAY || reply->element[0]->elements != 2 ||
      reply->element[0]->element[1]->type != REDIS_REPLY_ARRAY) {
    return {Outcome::info("XREADGROUP: unexpected reply"), std::nullopt};
  }
  const redisReply* entries = reply->element[0]->element[1];
  if (entries->elements == 0) return {Outcome::fail(kEmpty), std::nullopt};
  auto d = stream_entry(entries->element[0]);
  if (!d) return {Outcome::info("XREADGROUP: malformed entry"), std::nullopt};
  return {Outcome::ok(), d};
}

Outcome RedisClient::ack(const Delivery& delivery) {
  switch (pattern_) {
    case RedisPattern::kList:
      return command({"LREM", processing_key(), "1", delivery.receipt}).first;
    case RedisPattern::kStream:
      return command({"XACK", kStreamKey, kGroup, delivery.receipt}).first;
  }
  return Outcome::fail("unknown pattern");
}

}  // namespace

Outcome redis_outcome(const redisReply* reply, const redisContext* ctx) {
  if (reply != nullptr) {
    if (reply->type == REDIS_REPLY_ERROR) return Outcome::fail(std::string(reply->str, reply->len));
    return Outcome::ok();
  }
  MQ_CHECK(ctx != nullptr);
  // The request was written (or partly written) before the failure, so the server
  // may have executed it: unknown.
  const std::string text = ctx->errstr[0] != '\0' ? ctx->errstr : "no reply";
  if (ctx->err == REDIS_ERR_IO && (std::strstr(ctx->errstr, "temporarily unavailable") != nullptr ||
                                   std::strstr(ctx->errstr, "timed out") != nullptr)) {
    return Outcome::info("timeout");
  }
  if (ctx->err == REDIS_ERR_EOF) return Outcome::info("connection closed");
  return Outcome::info(text);
}

std::optional<RedisPersistence> RedisTarget::parse_persistence(const std::string& config) {
  if (config == "none") return RedisPersistence::kNone;
  if (config == "aof-everysec") return RedisPersistence::kAofEverysec;
  if (config == "aof-always") return RedisPersistence::kAofAlways;
  return std::nullopt;
}

std::string RedisTarget::name() const {
  switch (pattern_) {
    case RedisPattern::kList:
      return "redis-list";
    case RedisPattern::kStream:
      return "redis-stream";
  }
  return "redis";
}

std::string RedisTarget::config() const {
  switch (persistence_) {
    case RedisPersistence::kNone:
      return "none";
    case RedisPersistence::kAofEverysec:
      return "aof-everysec";
    case RedisPersistence::kAofAlways:
      return "aof-always";
  }
  return "?";
}

std::string RedisTarget::describe() const {
  const std::string pattern = pattern_ == RedisPattern::kList
                                  ? "reliable queue: LPUSH, BLMOVE to a processing list, LREM to ack"
                                  : "stream + consumer group: XADD, XREADGROUP, XACK, XAUTOCLAIM";
  switch (persistence_) {
    case RedisPersistence::kNone:
      return pattern + "; persistence off (save \"\", appendonly no)";
    case RedisPersistence::kAofEverysec:
      return pattern + "; appendonly yes, appendfsync everysec";
    case RedisPersistence::kAofAlways:
      return pattern + "; appendonly yes, appendfsync always";
  }
  return pattern;
}

std::string RedisTarget::version() const {
  auto out = capture_command({"redis-server", "--version"}, std::chrono::milliseconds(5000));
  if (!out.ok()) return "unknown (" + out.status().message() + ")";
  std::string v = *out;
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
  return v;
}

std::optional<std::string> RedisTarget::unavailable() const {
  auto out = capture_command({"redis-server", "--version"}, std::chrono::milliseconds(5000));
  if (!out.ok())
    return "redis-server is not installed (scripts/setup.sh installs the Debian package): " +
           out.status().message();
  return std::nullopt;
}

Launch RedisTarget::launch(const LaunchContext& ctx) const {
  Launch l;
  l.argv = {"redis-server", "--bind",      ctx.bind_host, "--port",    std::to_string(ctx.port),
            "--dir",        ctx.data_dir,  "--save",      "",          "--protected-mode",
            "no",           "--daemonize", "no",          "--logfile", ""};
  switch (persistence_) {
    case RedisPersistence::kNone:
      l.argv.insert(l.argv.end(), {"--appendonly", "no"});
      break;
    case RedisPersistence::kAofEverysec:
      l.argv.insert(l.argv.end(), {"--appendonly", "yes", "--appendfsync", "everysec"});
      break;
    case RedisPersistence::kAofAlways:
      l.argv.insert(l.argv.end(), {"--appendonly", "yes", "--appendfsync", "always"});
      break;
  }
  return l;
}

std::unique_ptr<TargetClient> RedisTarget::client(const Endpoint& endpoint,
                                                  const ClientOptions& options) const {
  return std::make_unique<RedisClient>(pattern_, endpoint, options);
}

Claim RedisTarget::claim(FaultKind fault) const {
  const bool process_fault = fault == FaultKind::kKill || fault == FaultKind::kPowerLoss;
  switch (persistence_) {
    case RedisPersistence::kNone:
      if (process_fault) return {false, "persistence off: a restarted server starts empty"};
      return {true, "the process keeps its memory through a pause, a partition or a disk fault"};
    case RedisPersistence::kAofEverysec:
      if (fault == FaultKind::kPowerLoss) {
        return {false, "appendfsync everysec: up to a second of acknowledged writes is not yet on disk"};
      }
      return {true, "the AOF is written before the reply; the page cache survives a process kill"};
    case RedisPersistence::kAofAlways:
      return {true, "appendfsync always: the AOF is fsynced before the reply"};
  }
  return {true, ""};
}

}  // namespace mq::live
