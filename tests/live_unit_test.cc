// Live runs without servers: the adapters' outcome mapping (timeout -> info, error
// reply -> fail), the power-loss layer's pending-write logic, the nemesis schedule,
// the history writer (read back by the Jepsen reader) and the verdict rules.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "live/beanstalk_target.h"
#include "live/history_writer.h"
#include "live/live_run.h"
#include "live/mqd_target.h"
#include "live/nats_target.h"
#include "live/nemesis.h"
#include "live/pending_writes.h"
#include "live/rabbitmq_target.h"
#include "live/redis_target.h"
#include "properties/checkers/jepsen_queue.h"

namespace mq::live {
namespace {

// ---- Redis: hiredis replies and context errors ----

redisReply reply_of(int type, const char* text) {
  redisReply r{};
  r.type = type;
  r.str = const_cast<char*>(text);
  r.len = text != nullptr ? std::strlen(text) : 0;
  return r;
}

redisContext context_with(int err, const char* text) {
  redisContext c{};
  c.err = err;
  std::snprintf(c.errstr, sizeof(c.errstr), "%s", text);
  return c;
}

TEST(LiveOutcome, RedisErrorReplyIsFail) {
  redisReply r = reply_of(REDIS_REPLY_ERROR, "LOADING Redis is loading the dataset in memory");
  const Outcome o = redis_outcome(&r, nullptr);
  EXPECT_EQ(o.type, EventType::kFail);
  EXPECT_EQ(o.error, "LOADING Redis is loading the dataset in memory");
  redisReply misconf = reply_of(REDIS_REPLY_ERROR, "MISCONF Errors writing to the AOF file");
  EXPECT_EQ(redis_outcome(&misconf, nullptr).type, EventType::kFail);
}

TEST(LiveOutcome, RedisRepliesAreOk) {
  for (int type :
       {REDIS_REPLY_STATUS, REDIS_REPLY_INTEGER, REDIS_REPLY_STRING, REDIS_REPLY_NIL, REDIS_REPLY_ARRAY}) {
    redisReply r = reply_of(type, "x");
    EXPECT_EQ(redis_outcome(&r, nullptr).type, EventType::kOk) << type;
  }
}

TEST(LiveOutcome, RedisTimeoutIsInfo) {
  redisContext c = context_with(REDIS_ERR_IO, "Resource temporarily unavailable");
  const Outcome o = redis_outcome(nullptr, &c);
  EXPECT_EQ(o.type, EventType::kInfo);
  EXPECT_EQ(o.error, "timeout");
}

TEST(LiveOutcome, RedisConnectionLostAfterSendIsInfo) {
  redisContext eof = context_with(REDIS_ERR_EOF, "Server closed the connection");
  EXPECT_EQ(redis_outcome(nullptr, &eof).type, EventType::kInfo);
  redisContext reset = context_with(REDIS_ERR_IO, "Connection reset by peer");
  const Outcome o = redis_outcome(nullptr, &reset);
  EXPECT_EQ(o.type, EventType::kInfo);
  EXPECT_EQ(o.error, "Connection reset by peer");
}

// ---- RabbitMQ: rpc replies and publisher confirms ----

TEST(LiveOutcome, RabbitServerExceptionIsFailAndLibraryTimeoutIsInfo) {
  amqp_channel_close_t close{};
  close.reply_code = 406;
  close.reply_text = amqp_cstring_bytes("PRECONDITION_FAILED - inequivalent arg 'x-queue-type'");
  amqp_rpc_reply_t refused{};
  refused.reply_type = AMQP_RESPONSE_SERVER_EXCEPTION;
  refused.reply.id = AMQP_CHANNEL_CLOSE_METHOD;
  refused.reply.decoded = &close;
  const Outcome f = rabbit_rpc_outcome(refused, true);
  EXPECT_EQ(f.type, EventType::kFail);
  EXPECT_EQ(f.error, "406 PRECONDITION_FAILED - inequivalent arg 'x-queue-type'");

  amqp_rpc_reply_t timeout{};
  timeout.reply_type = AMQP_RESPONSE_LIBRARY_EXCEPTION;
  timeout.library_error = AMQP_STATUS_TIMEOUT;
  EXPECT_EQ(rabbit_rpc_outcome(timeout, true).type, EventType::kInfo);
  EXPECT_EQ(rabbit_rpc_outcome(timeout, true).error, "timeout");
  EXPECT_EQ(rabbit_rpc_outcome(timeout, /*sent=*/false).type, EventType::kFail);

  amqp_rpc_reply_t normal{};
  normal.reply_type = AMQP_RESPONSE_NORMAL;
  EXPECT_EQ(rabbit_rpc_outcome(normal, true).type, EventType::kOk);
}

TEST(LiveOutcome, RabbitConfirms) {
  EXPECT_EQ(rabbit_confirm_outcome(AMQP_STATUS_OK, AMQP_BASIC_ACK_METHOD).type, EventType::kOk);
  EXPECT_EQ(rabbit_confirm_outcome(AMQP_STATUS_OK, AMQP_BASIC_NACK_METHOD).type, EventType::kFail);
  EXPECT_EQ(rabbit_confirm_outcome(AMQP_STATUS_TIMEOUT, 0).type, EventType::kInfo);
  EXPECT_EQ(rabbit_confirm_outcome(AMQP_STATUS_CONNECTION_CLOSED, 0).type, EventType::kInfo);
  EXPECT_EQ(rabbit_confirm_outcome(AMQP_STATUS_OK, AMQP_CHANNEL_CLOSE_METHOD).type, EventType::kInfo);
}

// ---- NATS JetStream ----

TEST(LiveOutcome, NatsApiErrorIsFailTimeoutIsInfo) {
  EXPECT_EQ(nats_outcome(NATS_OK, static_cast<jsErrCode>(0), true).type, EventType::kOk);
  EXPECT_EQ(nats_outcome(NATS_ERR, JSStreamNotFoundErr, true).type, EventType::kFail);
  EXPECT_EQ(nats_outcome(NATS_NO_RESPONDERS, static_cast<jsErrCode>(0), true).type, EventType::kFail);
  const Outcome t = nats_outcome(NATS_TIMEOUT, static_cast<jsErrCode>(0), true);
  EXPECT_EQ(t.type, EventType::kInfo);
  EXPECT_EQ(t.error, "timeout");
  EXPECT_EQ(nats_outcome(NATS_CONNECTION_CLOSED, static_cast<jsErrCode>(0), true).type, EventType::kInfo);
  EXPECT_EQ(nats_outcome(NATS_CONNECTION_CLOSED, static_cast<jsErrCode>(0), /*sent=*/false).type,
            EventType::kFail);
}

// ---- mqd (the project's client library) ----

TEST(LiveOutcome, MqdAnswersAreOkOrFailNoAnswerIsInfo) {
  EXPECT_EQ(mqd_outcome(Status()).type, EventType::kOk);
  EXPECT_EQ(mqd_outcome(failed_precondition("NOTHELD message #3")).type, EventType::kFail);
  EXPECT_EQ(mqd_outcome(invalid_argument("ERR unknown consumer 'c9'")).type, EventType::kFail);
  EXPECT_EQ(mqd_outcome(unavailable("UNAVAILABLE the broker is starting")).type, EventType::kFail);
  const Outcome lost = mqd_outcome(io_error("SEND: Connection reset by peer (the outcome is unknown)"));
  EXPECT_EQ(lost.type, EventType::kInfo);
  EXPECT_NE(lost.error.find("unknown"), std::string::npos);
}

TEST(LiveMqd, ConfigurationNamesEveryClientTheLiveCommandAllows) {
  const std::string json = MqdTarget::config_json(std::chrono::milliseconds(2000));
  EXPECT_NE(json.find("\"visibility_timeout_ns\": 2000000000"), std::string::npos) << json;
  EXPECT_NE(json.find("\"c63\""), std::string::npos);
  EXPECT_NE(json.find("\"p63\""), std::string::npos);
  EXPECT_TRUE(MqdTarget(MqdFsync::kAlways).claim(FaultKind::kPowerLoss).no_loss);
  EXPECT_FALSE(MqdTarget(MqdFsync::kNever).claim(FaultKind::kPowerLoss).no_loss);
  EXPECT_TRUE(MqdTarget(MqdFsync::kNever).claim(FaultKind::kKill).no_loss);
}

// ---- beanstalkd reply lines ----

TEST(LiveOutcome, BeanstalkReplies) {
  EXPECT_EQ(beanstalk_outcome("INSERTED 12", "INSERTED").type, EventType::kOk);
  EXPECT_EQ(beanstalk_outcome("DELETED", "DELETED").type, EventType::kOk);
  for (const char* refused : {"OUT_OF_MEMORY", "INTERNAL_ERROR", "DRAINING", "JOB_TOO_BIG", "NOT_FOUND"}) {
    const Outcome o = beanstalk_outcome(refused, "INSERTED");
    EXPECT_EQ(o.type, EventType::kFail) << refused;
    EXPECT_EQ(o.error, refused);
  }
  EXPECT_EQ(beanstalk_outcome("BURIED 12", "INSERTED").type, EventType::kInfo);
  EXPECT_EQ(beanstalk_outcome("GARBAGE", "INSERTED").type, EventType::kInfo);
}

// ---- PendingWrites: the power-loss file system's overlay ----

// A model of the file: the logical content as a string, updated byte by byte.
struct FileModel {
  std::string synced;   // the backing file
  std::string content;  // what readers see
};

std::string read_all(const PendingWrites& p, const std::string& backing) {
  std::string out(static_cast<size_t>(p.size()) + 8, '?');
  const ssize_t n = p.read(out.data(), out.size(), 0, [&](char* b, size_t len, off_t off) -> ssize_t {
    if (off >= static_cast<off_t>(backing.size())) return 0;
    const size_t m = std::min(len, backing.size() - static_cast<size_t>(off));
    std::memcpy(b, backing.data() + off, m);
    return static_cast<ssize_t>(m);
  });
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string applied(const PendingWrites& p, std::string backing) {
  PendingWrites::BackingWriter w{[&](off_t size) {
                                   backing.resize(static_cast<size_t>(size), '\0');
                                   return 0;
                                 },
                                 [&](const char* buf, size_t len, off_t off) {
                                   if (backing.size() < static_cast<size_t>(off) + len)
                                     backing.resize(off + len, '\0');
                                   std::memcpy(backing.data() + off, buf, len);
                                   return 0;
                                 }};
  EXPECT_EQ(p.apply(w), 0);
  return backing;
}

TEST(LivePendingWrites, AppendsOverwritesAndTruncatesReadBackAndApply) {
  const std::string backing = "0123456789";
  PendingWrites p(static_cast<off_t>(backing.size()));
  p.write(10, "abc");  // append
  p.write(13, "def");  // append again: one extent
  p.write(2, "XY");    // overwrite synced bytes
  p.write(11, "Q");    // overwrite inside a pending extent
  EXPECT_EQ(read_all(p, backing), "01XY456789aQcdef");
  p.truncate(5);  // cuts synced and pending bytes
  EXPECT_EQ(read_all(p, backing), "01XY4");
  p.write(8, "z");  // a hole reads as zeros, not as the old synced bytes
  EXPECT_EQ(read_all(p, backing), std::string("01XY4\0\0\0z", 9));
  EXPECT_EQ(applied(p, backing), read_all(p, backing));
}

// Random writes and truncates against a plain string model: reads and apply agree.
TEST(LivePendingWrites, RandomOperationsMatchAStringModel) {
  std::mt19937_64 rng(42);  // test data only: the layer itself has no randomness
  for (int round = 0; round < 200; ++round) {
    std::string backing(rng() % 40, 'b');
    PendingWrites p(static_cast<off_t>(backing.size()));
    std::string model = backing;
    for (int step = 0; step < 30; ++step) {
      if (rng() % 5 == 0) {
        const size_t n = rng() % 50;
        p.truncate(static_cast<off_t>(n));
        model.resize(n, '\0');
      } else {
        const size_t off = rng() % 50;
        std::string data(1 + rng() % 10, static_cast<char>('a' + step % 26));
        p.write(static_cast<off_t>(off), data);
        if (model.size() < off + data.size()) model.resize(off + data.size(), '\0');
        model.replace(off, data.size(), data);
      }
      ASSERT_EQ(read_all(p, backing), model) << "round " << round << " step " << step;
    }
    ASSERT_EQ(applied(p, backing), model) << "round " << round;
  }
}

// ---- the nemesis schedule ----

TEST(LiveNemesis, ScheduleIsAPureFunctionOfTheSeedAndEndsBeforeTheMargin) {
  const std::vector<FaultKind> kinds = {FaultKind::kKill, FaultKind::kPause, FaultKind::kPartition};
  const auto a = draw_schedule(7, kinds, 60'000);
  const auto b = draw_schedule(7, kinds, 60'000);
  ASSERT_EQ(to_string(a), to_string(b));
  EXPECT_NE(to_string(a), to_string(draw_schedule(8, kinds, 60'000)));
  ASSERT_FALSE(a.empty());
  int64_t last_end = 0;
  for (const auto& w : a) {
    EXPECT_GE(w.start_ms - last_end, kMinGapMs);
    EXPECT_LE(w.start_ms - last_end, kMaxGapMs);
    EXPECT_GE(w.length_ms, kMinFaultMs);
    EXPECT_LE(w.length_ms, kMaxFaultMs);
    last_end = w.start_ms + w.length_ms;
  }
  EXPECT_LE(last_end, 60'000 - kEndMarginMs);
  // A run long enough for one window always gets one (the lossy-configuration test relies on it).
  for (uint64_t seed = 1; seed <= 200; ++seed)
    EXPECT_FALSE(draw_schedule(seed, {FaultKind::kKill}, 10'000).empty());
}

// ---- the history writer, read back by the Jepsen reader ----

TEST(LiveHistory, WriterOutputIsAJepsenQueueHistoryWithTheRightCounts) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("live-history-" + std::to_string(::getpid()) + ".jsonl"))
          .string();
  {
    auto w = HistoryWriter::open(path);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    auto& h = **w;
    h.enqueue(0, EventType::kInvoke, 1);
    h.enqueue(0, EventType::kOk, 1);
    h.enqueue(1, EventType::kInvoke, 2);
    h.enqueue(1, EventType::kInfo, 2, "timeout");
    h.enqueue(0, EventType::kInvoke, 3);
    h.enqueue(0, EventType::kOk, 3);
    h.nemesis("kill", "pid 1");
    h.dequeue_invoke(2);
    h.dequeue(2, EventType::kOk, "1 xxxx", 1, "c0");
    h.dequeue_invoke(2);
    h.dequeue(2, EventType::kFail, "", 0, "c0", "empty");
    h.dequeue_invoke(2);
    h.dequeue(2, EventType::kOk, "2", 2, "c0");
    h.dequeue_invoke(2);
    h.dequeue(2, EventType::kOk, "garbage", 0, "c0");
    ASSERT_TRUE(h.close().ok());
  }
  auto ops = read_jepsen_history(path);
  ASSERT_TRUE(ops.ok()) << ops.status().to_string();
  const TotalQueueReport r = check_total_queue(*ops);
  EXPECT_EQ(r.attempt_count, 3u);
  EXPECT_EQ(r.acknowledged_count, 2u);
  EXPECT_EQ(r.lost_count, 1u);        // 3
  EXPECT_EQ(r.recovered_count, 1u);   // 2 (info enqueue)
  EXPECT_EQ(r.unexpected_count, 1u);  // "garbage"
  EXPECT_EQ(r.lost.count("3"), 1u);
  EXPECT_EQ(r.unexpected.count("\"garbage\""), 1u);
  int64_t last = -1;
  for (const auto& op : *ops) {
    ASSERT_TRUE(op.time_ns.has_value());
    EXPECT_GE(*op.time_ns, last);
    last = *op.time_ns;
  }
  std::filesystem::remove(path);
}

TEST(LiveHistory, PayloadValues) {
  EXPECT_EQ(payload_to_json_value("17"), "17");
  EXPECT_EQ(payload_to_json_value("17 xxxxxxxx"), "17");
  EXPECT_EQ(payload_to_json_value("017"), "\"017\"");
  EXPECT_EQ(payload_to_json_value(""), "\"\"");
  EXPECT_EQ(payload_to_json_value("a\"b"), "\"a\\\"b\"");
}

// ---- the verdict rules ----

TEST(LiveVerdict, LossIsAViolationOnlyWhereClaimed) {
  LiveResult r;
  r.drained = true;
  r.total.lost_count = 3;
  r.total.valid = false;
  r.claim = {false, "persistence off"};
  judge(r, /*strict=*/false);
  EXPECT_FALSE(r.violation);
  judge(r, /*strict=*/true);
  EXPECT_TRUE(r.violation);
  r.claim = {true, "fsync always"};
  judge(r, false);
  EXPECT_TRUE(r.violation);
}

TEST(LiveVerdict, UnexpectedAndUndrainedAreAlwaysViolations) {
  LiveResult r;
  r.claim = {false, "persistence off"};
  r.drained = true;
  r.total.unexpected_count = 1;
  judge(r, false);
  EXPECT_TRUE(r.violation);
  r.total.unexpected_count = 0;
  r.drained = false;
  judge(r, false);
  EXPECT_TRUE(r.violation);
  r.drained = true;
  r.total.duplicated_count = 5;
  r.total.recovered_count = 2;
  judge(r, false);
  EXPECT_FALSE(r.violation);
  // --fifo: the user claims FIFO, so a history that is not FIFO-linearizable violates it.
  r.fifo = LinearizabilityReport{};
  judge(r, false);
  EXPECT_FALSE(r.violation);
  r.fifo->valid = false;
  r.fifo->pattern = "repeated";
  judge(r, false);
  EXPECT_TRUE(r.violation);
}

}  // namespace
}  // namespace mq::live
