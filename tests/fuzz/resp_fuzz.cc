// Fuzz target: the daemon's request path as mqd runs it, without sockets. Bytes from
// up to four connections go through a RespIntake each (what mqd reads a connection
// with: hiredis's reader with our bounds, then RespCommands::parse) into the
// ServerShell, whose actions a small driver carries out at once (log writes through
// a Wal into a MemStorage, timers fired as time advances); every answer is encoded
// as mqd sends it, and a connection whose reading ended (a protocol error, QUIT)
// closes once its last request is answered, as under mqd. The input is a script of
// chunks: a header byte (connection in bits 0-1; bits 2-3: 0/1 bytes for that
// connection, 2 time passes, 3 the connection closes), then, for bytes, a length
// byte and that many bytes.
//
// Whatever the bytes: no crash (the shell's and the reader's assertions stay on);
// every answer is one complete, well-formed RESP value (hiredis reads it back, within
// the client library's array bounds, with nothing left over); every request of a
// connection still open is answered exactly once, in order, once time has passed far
// enough for every blocking fetch to end (they end one after another on a
// connection); the intake hands over what the reader alone frames, its protocol
// error last; and a connection's requests are the same whether its bytes arrived in
// the chunks given or all at once (the reader does not depend on how reads split the
// stream).
#include <hiredis/hiredis.h>

#include <map>
#include <memory>
#include <optional>
#include <queue>

#include "impl/client_protocol.h"
#include "impl/mem_storage.h"
#include "impl/resp_commands.h"
#include "impl/resp_intake.h"
#include "impl/resp_reader.h"
#include "impl/server_shell.h"
#include "impl/wal.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace mq;
using namespace mq::impl;

BrokerConfig config() {
  BrokerConfig c;
  c.producers.push_back({"p"});
  QueueOptions work;
  work.name = "work";
  work.capacity = 4;
  work.priority_levels = 2;
  work.durable = true;
  work.max_retries = 1;
  work.dead_letter_queue = "dead";
  work.visibility_timeout_ns = 50'000'000;
  QueueOptions dead = work;
  dead.name = "dead";
  dead.capacity = 8;
  dead.dead_letter_queue.reset();
  dead.durable = false;
  c.queues = {work, dead};
  c.consumers.push_back({"w", "work", 2, AckMode::kManual});
  c.consumers.push_back({"d", "dead", 1, AckMode::kAuto});
  c.topics.push_back({"all", {"work", "dead"}});
  return c;
}

// Small enough that fuzz inputs reach them; the same for every reader here.
RespLimits limits() { return RespLimits{.max_request_bytes = 4096, .max_args = 8}; }

// One complete RESP value and nothing after it, within the arrays the project's client
// library reads (client_protocol::bound_answers).
void expect_one_resp_value(const std::string& bytes) {
  redisReader* r = redisReaderCreate();
  FUZZ_EXPECT(r != nullptr, "hiredis reader");
  client_protocol::bound_answers(r);
  FUZZ_EXPECT(redisReaderFeed(r, bytes.data(), bytes.size()) == REDIS_OK, "feed");
  void* reply = nullptr;
  const int rc = redisReaderGetReply(r, &reply);
  const std::string err = r->err != 0 ? r->errstr : "";
  const size_t left = r->len - r->pos;
  if (reply != nullptr) freeReplyObject(reply);
  redisReaderFree(r);
  FUZZ_EXPECT(rc == REDIS_OK && reply != nullptr && left == 0, "not one RESP value (" + err + "): " + bytes);
}

struct Connection {
  std::unique_ptr<RespIntake> intake;  // what mqd reads: the requests the shell takes
  std::unique_ptr<RespReader> reader = std::make_unique<RespReader>(limits());  // the same bytes, framed only
  std::string all_bytes;                       // for the whole-stream comparison
  std::vector<std::vector<std::string>> requests;  // as read chunk by chunk
  std::optional<std::string> error;            // the reader's protocol error, if any
  uint64_t sent = 0, answered = 0;
  bool open = true;
};

class Driver {
 public:
  Driver() : commands_(config()) {
    // As mqd starts: recovered from an (empty) log, every consumer detached.
    ShellOptions o;
    o.config = config();
    o.checkpoint_bytes = 2048;  // checkpoints happen within a fuzz input
    Effects effects;
    auto shell = ServerShell::recovered(o, 0, DurableImage{{}, std::vector<QueueImage>(o.config.queues.size())}, effects);
    FUZZ_EXPECT(shell.ok(), shell.status().to_string());
    shell_.emplace(std::move(shell).value());
    shell_->start(now_);
    drain();
  }

  // As mqd reads a connection: its intake hands the shell one request at a time, a
  // protocol error or QUIT last; once that last is answered, the connection closes.
  void bytes(ConnId id, std::string_view data) {
    Connection& c = conns_[id];
    if (!c.intake) c.intake = std::make_unique<RespIntake>(commands_, id, limits());
    if (!c.open || c.intake->done()) return;
    c.all_bytes.append(data);
    c.intake->feed(data);
    // Bounded: each round takes one complete request off the buffered bytes.
    for (size_t round = 0;; ++round) {
      FUZZ_EXPECT(round <= data.size() + 1, "more requests than bytes");
      std::optional<Request> r = c.intake->next();
      if (!r) break;
      ++c.sent;
      shell_->request(now_, id, std::move(*r));
      drain();
    }
    frame(c, data);
  }

  // The reader alone, on the same bytes, frames the same requests: a protocol error
  // of the intake is the reader's, after the same requests.
  void frame(Connection& c, std::string_view data) {
    c.reader->feed(data);
    for (size_t round = 0; !c.error; ++round) {
      FUZZ_EXPECT(round <= data.size() + 1, "more requests than bytes");
      auto next = c.reader->next();
      if (!next.ok()) c.error = next.status().message();
      if (!next.ok() || !next->has_value()) break;
      c.requests.push_back(**next);
    }
    if (c.intake->protocol_error()) {
      FUZZ_EXPECT(c.error && c.sent == c.requests.size() + 1, "the intake's protocol error is not the reader's");
    } else if (!c.intake->done()) {
      FUZZ_EXPECT(!c.error && c.sent == c.requests.size(), "the intake and the reader read different requests");
    } else {
      FUZZ_EXPECT(c.sent <= c.requests.size(), "the intake read past QUIT");  // the reader reads on
    }
  }

  // The clock moves to each due timer in turn, so that what the shell does then (a
  // log write's completion included) happens at that timer's time, as under mqd.
  void advance(TimeNs by) {
    const TimeNs until = now_ + by;
    // Bounded: each round fires one due timer.
    for (size_t round = 0; !timers_.empty() && timers_.top().at_ns <= until; ++round) {
      FUZZ_EXPECT(round < 100'000, "timers keep firing");
      const Timer t = timers_.top();
      timers_.pop();
      now_ = std::max(now_, t.at_ns);
      shell_->timer(now_, t.id);
      drain();
    }
    now_ = until;
  }

  void close(ConnId id) {
    close_now(id);
    drain();
  }

  // Every open connection's requests answered once, in order; the reader does not
  // depend on how the bytes were split.
  void finish() {
    // A connection's requests run one after another and a blocking fetch ends at most
    // kMaxBlockMs after it starts, so one such wait per request is enough for all: a
    // fetch pipelined behind a BLOCK 0 starts only when that one gives up.
    uint64_t waits = 1;
    for (const auto& [id, c] : conns_) waits += c.sent;
    for (uint64_t w = 0; w < waits && !all_answered(); ++w) advance(protocol::kMaxBlockMs * 1'000'000 + 1);
    for (auto& [id, c] : conns_) {
      if (c.open) FUZZ_EXPECT(c.answered == c.sent, "connection " + std::to_string(id) + ": " +
                                                        std::to_string(c.sent) + " requests, " +
                                                        std::to_string(c.answered) + " answers");
      RespReader whole(limits());
      whole.feed(c.all_bytes);
      std::vector<std::vector<std::string>> requests;
      std::optional<std::string> error;
      for (size_t round = 0; round <= c.all_bytes.size() + 1; ++round) {
        auto next = whole.next();
        if (!next.ok()) {
          error = next.status().message();
          break;
        }
        if (!next->has_value()) break;
        requests.push_back(**next);
      }
      FUZZ_EXPECT(requests == c.requests, "the requests depend on how the bytes were split");
      FUZZ_EXPECT(error == c.error, "the protocol error depends on how the bytes were split: " +
                                        error.value_or("none") + " vs " + c.error.value_or("none"));
    }
  }

 private:
  struct Timer {
    TimeNs at_ns;
    uint64_t seq;
    TimerId id;
    bool operator>(const Timer& o) const { return at_ns != o.at_ns ? at_ns > o.at_ns : seq > o.seq; }
  };

  void close_now(ConnId id) {
    Connection& c = conns_[id];
    if (!c.open) return;
    c.open = false;
    shell_->closed(now_, id);
  }

  bool all_answered() const {
    for (const auto& [id, c] : conns_)
      if (c.open && c.answered != c.sent) return false;
    return true;
  }

  void drain() {
    // Bounded: each round carries out what the shell asked since the last.
    for (size_t round = 0; shell_->has_actions(); ++round) {
      FUZZ_EXPECT(round < 100'000, "the shell keeps asking");
      std::vector<Action> batch;
      shell_->take_actions(batch);
      for (Action& a : batch) perform(a);
      // mqd closes a connection that stopped reading once its last answer is written.
      std::vector<ConnId> closing;
      closing.swap(closing_);
      for (ConnId id : closing) close_now(id);
    }
  }

  void perform(Action& a) {
    if (auto* r = std::get_if<act::Reply>(&a)) {
      std::string out;
      commands_.encode(r->response, out);
      expect_one_resp_value(out);
      auto it = conns_.find(r->to);
      if (it == conns_.end() || !it->second.open) return;
      Connection& c = it->second;
      ++c.answered;
      if (c.intake && c.intake->done() && c.answered == c.sent) closing_.push_back(r->to);
    } else if (auto* w = std::get_if<act::WriteLog>(&a)) {
      shell_->synced(now_, wal_->write(std::move(w->batch)));
    } else if (auto* c = std::get_if<act::WriteCheckpoint>(&a)) {
      shell_->synced(now_, wal_->checkpoint(c->image));
    } else if (auto* s = std::get_if<act::StartLog>(&a)) {
      auto wal = Wal::start(storage_, WalOptions{}, s->image);
      FUZZ_EXPECT(wal.ok(), wal.status().to_string());
      wal_.emplace(std::move(wal).value());
      shell_->log_started(now_, Status());
    } else if (auto* t = std::get_if<act::SetTimer>(&a)) {
      timers_.push(Timer{t->at_ns, ++timer_seq_, t->id});
    } else if (auto* f = std::get_if<act::Fail>(&a)) {
      FUZZ_EXPECT(false, "a log write failed on a memory disk: " + f->why.to_string());
    }
  }

  RespCommands commands_;
  std::optional<ServerShell> shell_;
  MemStorage storage_;
  std::optional<Wal> wal_;
  std::map<ConnId, Connection> conns_;
  std::vector<ConnId> closing_;  // answered their last request: close after this batch
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t timer_seq_ = 0;
  TimeNs now_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Driver d;
  size_t i = 0;
  constexpr size_t kMaxChunks = 512;
  for (size_t chunks = 0; i < size && chunks < kMaxChunks; ++chunks) {
    const uint8_t h = data[i++];
    const ConnId conn = 1 + (h & 3);
    switch ((h >> 2) & 3) {
      case 0:
      case 1: {
        if (i >= size) break;
        const size_t n = std::min<size_t>(data[i], size - i - 1);
        ++i;
        d.bytes(conn, fuzz::text_of(data + i, n));
        i += n;
        break;
      }
      case 2: d.advance(TimeNs{1'000'000} << (h >> 4)); break;
      default: d.close(conn); break;
    }
  }
  d.finish();
  return 0;
}
