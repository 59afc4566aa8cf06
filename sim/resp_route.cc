#include "sim/resp_route.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "base/overloaded.h"
#include "impl/client_protocol.h"
#include "impl/resp_intake.h"

namespace mq::sim {
namespace {

namespace cp = impl::client_protocol;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;
struct ReaderDeleter {
  void operator()(redisReader* r) const { redisReaderFree(r); }
};

// The bytes a client library built on hiredis writes for `args`.
std::string format(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* bytes = nullptr;
  const long long n = redisFormatCommandArgv(&bytes, static_cast<int>(args.size()), argv.data(), lens.data());
  MQ_CHECK_MSG(n > 0 && bytes != nullptr, "hiredis formats a command");
  std::string out(bytes, static_cast<size_t>(n));
  redisFreeCommand(bytes);
  return out;
}

// The one reply in `bytes`, as hiredis's reader gives it to a client.
ReplyPtr read_reply(const std::string& bytes) {
  std::unique_ptr<redisReader, ReaderDeleter> reader(redisReaderCreate());
  MQ_CHECK(reader != nullptr);
  cp::bound_answers(reader.get());  // as the client library's connection reads
  MQ_CHECK(redisReaderFeed(reader.get(), bytes.data(), bytes.size()) == REDIS_OK);
  void* reply = nullptr;
  MQ_CHECK_MSG(redisReaderGetReply(reader.get(), &reply) == REDIS_OK && reply != nullptr,
               "mqd's answer is one whole RESP reply");
  ReplyPtr out(static_cast<redisReply*>(reply));
  void* more = nullptr;
  MQ_CHECK_MSG(redisReaderGetReply(reader.get(), &more) == REDIS_OK && more == nullptr,
               "mqd's answer to one request is one reply");
  return out;
}

// Whether mqd's answer was the error `w` (impl/protocol.h), as the client library reads it.
bool answered(const Status& s, impl::protocol::ErrorWord w) { return impl::protocol::error_word_of(s.message()) == w; }

// A publish's answer as the producer acts on it; nothing for an error the producer
// does not speak (the broker starting, ...): it times out and resends, as on typed
// requests.
std::optional<PublishOutcome> send_outcome(const Result<impl::SendOutcome>& r) {
  if (!r.ok()) return r.status().code() == Code::kInvalidArgument ? std::optional(PublishOutcome::kError) : std::nullopt;
  switch (*r) {
    case impl::SendOutcome::kStored: return PublishOutcome::kAccepted;
    case impl::SendOutcome::kDuplicate: return PublishOutcome::kDuplicate;
    case impl::SendOutcome::kFull: return PublishOutcome::kFull;
    case impl::SendOutcome::kNoSpace: return PublishOutcome::kNoSpace;
  }
  MQ_CHECK_MSG(false, "unknown send outcome");
  return std::nullopt;
}

// A topic publish's answer: per queue reached, or every queue full, or an error.
std::optional<PublishOutcome> publish_outcome(const Result<impl::NamedValues>& r) {
  if (r.ok()) {
    for (const auto& [queue, outcome] : *r) {
      if (outcome == impl::publish_outcome_name(impl::PublishOutcome::kDuplicate)) return PublishOutcome::kDuplicate;
    }
    return PublishOutcome::kAccepted;
  }
  const Status& s = r.status();
  if (answered(s, impl::protocol::ErrorWord::kFull)) return PublishOutcome::kFull;
  if (answered(s, impl::protocol::ErrorWord::kNoSpace)) return PublishOutcome::kNoSpace;
  return s.code() == Code::kInvalidArgument ? std::optional(PublishOutcome::kError) : std::nullopt;
}

// Noise: commands mqd answers without touching a queue, and the answer each must get,
// as the client library's raw reading flattens it ("-": any error). `q` and `c` stand
// for the first queue's and the first consumer's names.
struct NoiseCommand {
  std::vector<std::string> args;
  const char* expect;
};
const std::vector<NoiseCommand>& noise_commands() {
  static const std::vector<NoiseCommand> kCommands = {
      {{"NOSUCH", "x"}, "-"},
      {{"NOSUCH", "a", "b", "c", "d"}, "-"},
      {{"NOSUCH", "line\r\nbreak"}, "-"},  // the error's text must stay one line
      {{"SEND", "q"}, "-"},
      {{"SEND", "q", "not-a-number", "p"}, "-"},
      {{"SEND", "no such queue", "1", "p"}, "-"},
      {{"SEND", "q", "1", "p", "COLOR", "red"}, "-"},
      {{"SEND", "q", "1", "p", "PRIORITY", "300"}, "-"},
      {{"SEND", "q", "1", "p", "TTL", "-5"}, "-"},
      {{"SEND", "q", "1", "p", "PRODUCER", "nobody"}, "-"},
      {{"SEND", "q", "1"}, "-"},
      {{"SEND", "q", "1", "p", "TTL"}, "-"},
      {{"SEND", "q", "", "p"}, "-"},
      {{"SEND", "q", "123456789012345678901", "p"}, "-"},  // more digits than any id has
      {{"SEND", "q", "99999999999999999999", "p"}, "-"},   // above 2^64 - 1
      {{"PUBLISH", "no such topic", "1", "p"}, "-"},
      {{"FETCH", "c", "COUNT", "0"}, "-"},
      {{"FETCH", "c", "BLOCK", "soon"}, "-"},
      {{"FETCH", "c", "WAIT", "1"}, "-"},
      {{"FETCH", "nobody"}, "-"},
      {{"FETCH"}, "-"},
      {{"FETCH", "c", "COUNT"}, "-"},
      {{"FETCH", "c", "COUNT", "many"}, "-"},
      {{"ACK", "nobody", "1"}, "-"},
      {{"ACK", "c", "1", "DROP"}, "-"},  // only a NACK takes a fourth argument
      {{"NACK", "c", "1", "DROP", "now"}, "-"},
      {{"ACK", "c"}, "-"},
      {{"ACK", "c", "x"}, "-"},
      {{"NACK", "c", "1", "MAYBE"}, "-"},
      {{"ATTACH"}, "-"},
      {{"ATTACH", "nobody"}, "-"},
      {{"QSTATS"}, "-"},
      {{"QSTATS", "no such queue"}, "-"},
      {{"PING", "a", "b"}, "-"},
      {{"ECHO"}, "-"},
      {{"PING"}, "+PONG\n"},
      {{"ping"}, "+PONG\n"},
      {{"PING", "hello"}, "hello\n"},
      {{"ECHO", "echo me"}, "echo me\n"},
      {{"COMMAND"}, "(array of 0)\n"},
      {{"CONFIG", "GET", "save"}, "(array of 0)\n"},
      {{"CLIENT", "SETNAME", "sim"}, "+OK\n"},
      {{"SELECT", "0"}, "+OK\n"},
  };
  return kCommands;
}

// Hostile clients: byte streams that end their connection, written in parts, and the
// answers mqd owes them, flattened as noise's are ("-": any error).
struct HostileStream {
  std::vector<std::string> parts;
  std::vector<const char*> expect;
  bool gives_up = false;  // ends on an incomplete request mqd gives up on
};

// Small enough that a stream exceeds them in a few kilobytes (mqd's are options).
constexpr impl::RespLimits kHostileLimits{.max_request_bytes = 4096, .max_args = 16};

const std::vector<HostileStream>& hostile_streams() {
  static const std::string kPing = "*1\r\n$4\r\nPING\r\n";
  static const std::vector<HostileStream> kStreams = {
      {{"PING\r\n"}, {"-"}},                                   // an inline command
      {{kPing, "+OK\r\n"}, {"+PONG\n", "-"}},                  // a simple string
      {{kPing + ":1\r\n"}, {"+PONG\n", "-"}},                  // an integer
      {{"*1\r\n*1\r\n$1\r\nx\r\n"}, {"-"}},                   // nested arrays
      {{"*0\r\n"}, {"-"}},                                      // an empty array
      {{"*-1\r\n"}, {"-"}},                                     // a nil array
      {{"*2\r\n$4\r\nECHO\r\n$-1\r\n"}, {"-"}},                // a nil argument
      {{"*x\r\n"}, {"-"}},                                      // a bad length
      {{"*1\r\n$4\r\nPI", "NG\r\n*17\r\n"}, {"+PONG\n", "-"}}, // too many arguments
      {{"*2\r\n$4\r\nECHO\r\n$5000\r\n", std::string(4200, 'a')}, {"-"}},  // too many bytes
      {{"*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*2\r\n$4\r\nPI"}, {"hi\n", "-"}, true},  // given up on
      {{kPing + "*1\r\n$4\r\nQUIT\r\n" + kPing}, {"+PONG\n", "+OK\n"}},  // the PING after QUIT is not read
      {{kPing, kPing, std::string("\x00\xff", 2)}, {"+PONG\n", "+PONG\n", "-"}},  // binary bytes
      {{"*x\r\n", kPing}, {"-"}},  // the PING written after the protocol error is not read
  };
  return kStreams;
}

Message to_message(const impl::ClientDelivery& d) {
  MQ_CHECK(d.priority <= 255);
  return Message{d.id, d.payload, d.timestamp_ns, static_cast<Priority>(d.priority), d.ttl_ns, d.not_before_ns,
                 d.attempts, d.max_retries};
}

}  // namespace

RespRoute::RespRoute(const impl::BrokerConfig& config, uint32_t noise_ppm, uint64_t seed, uint32_t hostile_ppm,
                     uint64_t hostile_seed)
    : commands_(config),
      noise_ppm_(noise_ppm),
      noise_prng_(seed),
      hostile_ppm_(hostile_ppm),
      hostile_prng_(hostile_seed) {
  MQ_CHECK(!config.queues.empty() && !config.consumers.empty());
}

RespRoute::Waiting RespRoute::waiting_for(const impl::Request& r) {
  using namespace impl::req;
  return std::visit(
      Overloaded{
          [](const Publish& x) { return Waiting{x.topic ? Kind::kPublish : Kind::kSend, x.spec.id, 0}; },
          [](const Hello&) { return Waiting{Kind::kAttach, 0, 0}; },
          [](const Fetch& x) { return Waiting{Kind::kFetch, 0, x.who.session}; },
          [](const Settle& x) { return Waiting{Kind::kSettle, x.id, 0}; },
          [](const Stats&) { return Waiting{Kind::kStats, 0, 0}; },
          [](const Info&) { return Waiting{Kind::kStats, 0, 0}; },
          [](const Inline&) -> Waiting {
            MQ_CHECK_MSG(false, "a client's request is a command");
            return {};
          },
      },
      r);
}

bool RespRoute::same_meaning(const impl::Request& read, const impl::Request& written) {
  namespace req = impl::req;
  const auto same_who = [](const impl::ConsumerRef& a, const impl::ConsumerRef& b) {
    return a.consumer == b.consumer && a.mode == b.mode;
  };
  return std::visit(
      Overloaded{
          [&](const req::Publish& r) {
            // Every field, the whole spec included: one the protocol does not carry yet
            // fails here as soon as it is added.
            const auto* t = std::get_if<req::Publish>(&written);
            return t && r == *t;
          },
          [&](const req::Hello& r) {
            const auto* t = std::get_if<req::Hello>(&written);
            return t && same_who(r.who, t->who);
          },
          [&](const req::Fetch& r) {
            const auto* t = std::get_if<req::Fetch>(&written);
            return t && same_who(r.who, t->who) && r.max == t->max && r.block_ns == t->block_ns;
          },
          [&](const req::Settle& r) {
            const auto* t = std::get_if<req::Settle>(&written);
            // An ack has no requeue to carry (the field is for nacks).
            return t && same_who(r.who, t->who) && r.id == t->id && r.nack == t->nack &&
                   (!r.nack || r.requeue == t->requeue);
          },
          [&](const req::Stats& r) {
            const auto* t = std::get_if<req::Stats>(&written);
            return t && r.queue == t->queue;
          },
          [&](const req::Info&) { return std::holds_alternative<req::Info>(written); },
          [](const req::Inline&) { return false; },  // mqd answered it itself: it did not read the request
      },
      read);
}

void RespRoute::closed(impl::ConnId conn) {
  waiting_.erase(conn);
  closed_.insert(conn);
}

impl::Request RespRoute::request(impl::ConnId conn, const impl::Request& typed) {
  MQ_CHECK(!is_closed(conn));
  return read_request(conn, commands_.commands().args_of(typed), waiting_for(typed));
}

std::optional<impl::Request> RespRoute::noise(impl::ConnId conn) {
  MQ_CHECK(!is_closed(conn));
  if (noise_ppm_ == 0 || !noise_prng_.chance_ppm(noise_ppm_)) return std::nullopt;
  const auto& list = noise_commands();
  const NoiseCommand& n = list[noise_prng_.uniform(list.size())];
  const impl::BrokerConfig& c = commands_.config();
  std::vector<std::string> args = n.args;
  for (size_t k = 1; k < args.size(); ++k) {
    if (args[k] == "q") args[k] = c.queues[0].name;
    if (args[k] == "c") args[k] = c.consumers[0].name;
  }
  ++noise_sent_;
  impl::Request r = read_request(conn, args, Waiting{Kind::kNoise, 0, 0, n.expect});
  MQ_CHECK_MSG(std::holds_alternative<impl::req::Inline>(r), "noise never reaches a queue");
  return r;
}

impl::Request RespRoute::read_request(impl::ConnId conn, const std::vector<std::string>& args,
                                      const Waiting& waiting) {
  // A connection's reading as mqd's: a scenario client's request neither ends it (a
  // protocol error, QUIT) nor leaves bytes behind.
  impl::RespIntake intake(commands_, conn, impl::RespLimits{});
  intake.feed(format(args));
  std::optional<impl::Request> r = intake.next();
  MQ_CHECK_MSG(r.has_value() && !intake.done() && !intake.partial(), "mqd reads back what the client library sends");
  waiting_[conn].push_back(waiting);
  return std::move(*r);
}

std::optional<RespRoute::Hostile> RespRoute::hostile() {
  if (hostile_ppm_ == 0 || !hostile_prng_.chance_ppm(hostile_ppm_)) return std::nullopt;
  const auto& list = hostile_streams();
  const HostileStream& stream = list[hostile_prng_.uniform(list.size())];
  Hostile out{kHostileConn + ++hostile_sent_, {}};
  impl::RespIntake intake(commands_, out.conn, kHostileLimits);
  for (const std::string& part : stream.parts) {
    intake.feed(part);
    // Bounded: each round takes one request, and a request is at least one byte.
    for (size_t round = 0; round <= part.size(); ++round) {
      auto r = intake.next();
      if (!r) break;
      out.requests.push_back(std::move(*r));
    }
  }
  MQ_CHECK_MSG(intake.partial() == stream.gives_up, "half a request is left exactly where the client gives up");
  if (stream.gives_up) out.requests.push_back(intake.abandon("request incomplete (the client stopped writing)"));
  // Every stream but QUIT's ends on a protocol error: its answer, the last, an error.
  const bool quits = std::string_view(stream.expect.back()) != "-";
  MQ_CHECK_MSG(intake.done() && intake.protocol_error() != quits && out.requests.size() == stream.expect.size(),
               "mqd reads a hostile stream as the list expects (sim/resp_route.cc, hostile_streams)");
  auto& waiting = waiting_[out.conn];
  for (size_t k = 0; k < stream.expect.size(); ++k) {
    waiting.push_back(Waiting{Kind::kNoise, 0, 0, stream.expect[k], k + 1 == stream.expect.size()});
  }
  return out;
}

bool RespRoute::answer_hostile(impl::ConnId conn, const impl::Response& r) {
  MQ_CHECK(is_hostile(conn));
  Waiting w;
  const auto packet = read_answer(conn, r, w);
  MQ_CHECK(!packet.has_value());
  if (w.last) closing_.insert(conn);
  return w.last;
}

std::optional<Packet> RespRoute::answer(impl::ConnId conn, const impl::Response& r) {
  MQ_CHECK_MSG(!std::holds_alternative<impl::resp::Push>(r), "a push session has no RESP form");
  if (is_closed(conn)) return std::nullopt;  // nobody reads a closed socket
  Waiting w;
  return read_answer(conn, r, w);
}

std::optional<Packet> RespRoute::read_answer(impl::ConnId conn, const impl::Response& r, Waiting& w) {
  auto it = waiting_.find(conn);
  MQ_CHECK_MSG(it != waiting_.end() && !it->second.empty(), "an answer to a request that waits for one");
  w = it->second.front();
  it->second.pop_front();
  if (it->second.empty()) waiting_.erase(it);
  std::string bytes;
  commands_.encode(r, bytes);
  return packet_of(w, read_reply(bytes).get());
}

// What the client that sent `w`'s request makes of `r`.
std::optional<Packet> RespRoute::packet_of(const Waiting& w, const redisReply* r) {
  const bool error = r->type == REDIS_REPLY_ERROR;
  switch (w.kind) {
    case Kind::kSend: {
      const auto read = cp::read_send(r);
      MQ_CHECK_MSG(read.ok() || error, "the client library reads mqd's answer to SEND");
      const auto outcome = send_outcome(read);
      if (!outcome) return std::nullopt;
      return PublishReply{w.id, *outcome};
    }
    case Kind::kPublish: {
      const auto read = cp::read_publish(r);
      MQ_CHECK_MSG(read.ok() || error, "the client library reads mqd's answer to PUBLISH");
      const auto outcome = publish_outcome(read);
      if (!outcome) return std::nullopt;
      return PublishReply{w.id, *outcome};
    }
    case Kind::kSettle: {
      const Status s = cp::read_ok(r, "ACK");
      if (s.ok()) return AckReply{w.id, true};
      if (answered(s, impl::protocol::ErrorWord::kNotHeld)) return AckReply{w.id, false};
      return std::nullopt;  // SESSION (an older session's), UNAVAILABLE: not spoken
    }
    case Kind::kFetch: {
      const auto deliveries = cp::read_fetch(r);
      MQ_CHECK_MSG(deliveries.ok() || error, "the client library reads mqd's answer to FETCH");
      if (!deliveries.ok()) return std::nullopt;
      FetchReply out{w.session, {}};
      for (const auto& d : *deliveries) out.messages.push_back(to_message(d));
      return out;
    }
    case Kind::kNoise: {
      const std::string got = cp::flatten(r);
      // A starting broker answers every request so, noise included.
      const bool starting = error && got.rfind("-UNAVAILABLE", 0) == 0;
      const bool as_expected = std::string_view(w.expect) == "-" ? error : got == w.expect;
      MQ_CHECK_MSG(as_expected || starting, "mqd answers noise as expected (sim/resp_route.cc, noise_commands)");
      break;
    }
    case Kind::kAttach: MQ_CHECK_MSG(cp::read_ok(r, "ATTACH").ok() || error, "ATTACH's answer"); break;
    case Kind::kStats:
      MQ_CHECK_MSG(cp::read_pairs(r).ok() || cp::read_info(r).ok() || error,
                   "QSTATS's or INFO's answer");
      break;
  }
  return std::nullopt;
}

}  // namespace mq::sim
