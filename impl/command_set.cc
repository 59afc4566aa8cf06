#include "impl/command_set.h"

#include <limits>
#include <optional>
#include <string_view>
#include <variant>

#include "base/check.h"
#include "base/overloaded.h"
#include "impl/resp_write.h"

namespace mq::impl {

using protocol::FetchOption;
using protocol::SendOption;
using protocol::Verb;

namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = protocol::upper_ascii(c);
  return u;
}

// "-ERR message": the command is wrong.
ParsedRequest inline_error(std::string_view message) {
  std::string out;
  resp_error(out, protocol::error_text(protocol::ErrorWord::kErr, message));
  return ParsedRequest{req::Inline{std::move(out)}, false};
}

ParsedRequest inline_text(std::string text, bool close_after = false) {
  return ParsedRequest{req::Inline{std::move(text)}, close_after};
}

ParsedRequest arity(std::string_view command) {
  return inline_error("wrong number of arguments for '" + upper(command) + "' command");
}

// A decimal number in [0, max], digits only (no sign, no spaces, no leading '+').
std::optional<uint64_t> parse_unsigned(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v > max) return std::nullopt;
  return v;
}

std::string not_a_number(std::string_view what, std::string_view got, uint64_t max) {
  return std::string(what) + " must be an integer in 0.." + std::to_string(max) + ", got '" +
         std::string(got.substr(0, 64)) + "'";
}

template <typename Map>
std::optional<typename Map::mapped_type> lookup(const Map& m, std::string_view name) {
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string unknown(std::string_view kind, std::string_view name) {
  return "unknown " + std::string(kind) + " '" + std::string(name.substr(0, 128)) + "'";
}

std::string ok_text() {
  std::string out;
  resp_simple(out, protocol::kOk);
  return out;
}

}  // namespace

// ---- requests ----

CommandSet::CommandSet(const BrokerConfig& config) : config_(config) {
  for (QueueId q = 0; q < config_.queues.size(); ++q) queues_[config_.queues[q].name] = q;
  for (TopicId t = 0; t < config_.topics.size(); ++t) topics_[config_.topics[t].name] = t;
  for (ConsumerId c = 0; c < config_.consumers.size(); ++c) consumers_[config_.consumers[c].name] = c;
  for (ProducerId p = 0; p < config_.producers.size(); ++p) producers_[config_.producers[p].name] = p;
}

ParsedRequest CommandSet::parse(const std::vector<std::string>& args, ConnId conn) const {
  MQ_CHECK(!args.empty());
  const auto verb = protocol::verb_of(args[0]);
  if (!verb) {
    std::string msg = "unknown command '" + std::string(args[0].substr(0, 64)) + "', with args beginning with:";
    for (size_t k = 1; k < args.size() && k < 4; ++k) msg += " '" + args[k].substr(0, 32) + "'";
    return inline_error(msg);
  }
  const size_t n = args.size();
  switch (*verb) {
    case Verb::kSend: return send(args, false);
    case Verb::kPublish: return send(args, true);
    case Verb::kFetch: return fetch(args, conn);
    case Verb::kAck: return settle(args, conn, false);
    case Verb::kNack: return settle(args, conn, true);
    case Verb::kAttach: {
      if (n != 2) return arity(args[0]);
      const auto c = lookup(consumers_, args[1]);
      if (!c) return inline_error(unknown("consumer", args[1]));
      return {req::Hello{ConsumerRef{*c, conn, SessionMode::kPull}}, false};
    }
    case Verb::kQstats: {
      if (n != 2) return arity(args[0]);
      const auto q = lookup(queues_, args[1]);
      if (!q) return inline_error(unknown("queue", args[1]));
      return {req::Stats{*q}, false};
    }
    case Verb::kInfo: return {req::Info{}, false};
    case Verb::kPing: {
      if (n > 2) return arity(args[0]);
      std::string out;
      if (n == 2) {
        resp_bulk(out, args[1]);
      } else {
        resp_simple(out, protocol::kPong);
      }
      return inline_text(std::move(out));
    }
    case Verb::kEcho: {
      if (n != 2) return arity(args[0]);
      std::string out;
      resp_bulk(out, args[1]);
      return inline_text(std::move(out));
    }
    case Verb::kQuit: return inline_text(ok_text(), true);
    case Verb::kCommand:
    case Verb::kConfig: return inline_text("*0\r\n");
    case Verb::kClient:
    case Verb::kSelect: break;
  }
  return inline_text(ok_text());  // CLIENT, SELECT
}

// SEND queue id payload [PRIORITY p] [TTL ms] [DELAY ms] [RETRIES n] [PRODUCER name]
// PUBLISH topic id payload [same options]
ParsedRequest CommandSet::send(const std::vector<std::string>& args, bool topic) const {
  if (args.size() < 4 || args.size() % 2 != 0) return arity(args[0]);
  req::Publish r;
  r.topic = topic;
  const auto target = topic ? lookup(topics_, args[1]) : lookup(queues_, args[1]);
  if (!target) return inline_error(unknown(topic ? "topic" : "queue", args[1]));
  r.target = *target;
  const auto id = parse_unsigned(args[2], std::numeric_limits<uint64_t>::max());
  if (!id) return inline_error(not_a_number("the message id", args[2], std::numeric_limits<uint64_t>::max()));
  r.spec.id = *id;
  r.spec.payload = args[3];
  if (config_.producers.empty()) return inline_error("the broker has no producer configured");
  r.producer = 0;
  for (size_t k = 4; k + 1 < args.size(); k += 2) {
    const auto opt = protocol::send_option_of(args[k]);
    if (!opt) return inline_error("unknown option '" + args[k].substr(0, 32) + "' for " + upper(args[0]));
    const std::string& v = args[k + 1];
    const auto max = protocol::send_option_max(*opt);  // none: PRODUCER, whose value is a name
    const auto x = max ? parse_unsigned(v, *max) : std::nullopt;
    if (max && !x) return inline_error(not_a_number(protocol::send_option_name(*opt), v, *max));
    switch (*opt) {
      case SendOption::kProducer: {
        const auto p = lookup(producers_, v);
        if (!p) return inline_error(unknown("producer", v));
        r.producer = *p;
        break;
      }
      case SendOption::kPriority: r.spec.priority = static_cast<Priority>(x.value()); break;
      case SendOption::kTtl: r.spec.ttl_ns = static_cast<TimeNs>(x.value()) * protocol::kNsPerMs; break;
      case SendOption::kDelay: r.spec.delay_ns = static_cast<TimeNs>(x.value()) * protocol::kNsPerMs; break;
      case SendOption::kRetries: r.spec.max_retries = static_cast<uint32_t>(x.value()); break;
    }
  }
  return {std::move(r), false};
}

// FETCH consumer [COUNT n] [BLOCK ms]
ParsedRequest CommandSet::fetch(const std::vector<std::string>& args, ConnId conn) const {
  if (args.size() < 2 || args.size() % 2 != 0) return arity(args[0]);
  const auto c = lookup(consumers_, args[1]);
  if (!c) return inline_error(unknown("consumer", args[1]));
  req::Fetch r{ConsumerRef{*c, conn, SessionMode::kPull}, 1, 0};
  for (size_t k = 2; k + 1 < args.size(); k += 2) {
    const auto opt = protocol::fetch_option_of(args[k]);
    if (!opt) return inline_error("unknown option '" + args[k].substr(0, 32) + "' for FETCH");
    const std::string name = protocol::fetch_option_name(*opt);
    switch (*opt) {
      case FetchOption::kCount: {
        const auto x = parse_unsigned(args[k + 1], protocol::kMaxFetchCount);
        if (!x || *x == 0) {
          return inline_error(not_a_number(name + " (at least 1)", args[k + 1], protocol::kMaxFetchCount));
        }
        r.max = static_cast<uint32_t>(*x);
        break;
      }
      case FetchOption::kBlock: {
        constexpr auto kMax = static_cast<uint64_t>(protocol::kMaxBlockMs);
        const auto x = parse_unsigned(args[k + 1], kMax);
        if (!x) return inline_error(not_a_number(name, args[k + 1], kMax));
        r.block_ns = static_cast<TimeNs>(*x == 0 ? kMax : *x) * protocol::kNsPerMs;
        break;
      }
    }
  }
  return {r, false};
}

// ACK consumer id | NACK consumer id [REQUEUE|DROP]
ParsedRequest CommandSet::settle(const std::vector<std::string>& args, ConnId conn, bool nack) const {
  if (args.size() != 3 && !(nack && args.size() == 4)) return arity(args[0]);
  const auto c = lookup(consumers_, args[1]);
  if (!c) return inline_error(unknown("consumer", args[1]));
  const auto id = parse_unsigned(args[2], std::numeric_limits<uint64_t>::max());
  if (!id) return inline_error(not_a_number("the message id", args[2], std::numeric_limits<uint64_t>::max()));
  bool requeue = true;
  if (args.size() == 4) {
    requeue = protocol::same_word(args[3], protocol::kRequeue);
    if (!requeue && !protocol::same_word(args[3], protocol::kDrop)) {
      return inline_error("NACK takes " + std::string(protocol::kRequeue) + " or " + std::string(protocol::kDrop) +
                          ", got '" + args[3].substr(0, 32) + "'");
    }
  }
  return {req::Settle{ConsumerRef{*c, conn, SessionMode::kPull}, *id, nack, requeue}, false};
}

// ---- a request as its command's words ----

namespace {

// An option of SEND, PUBLISH or FETCH: its name, then its value.
void add_option(std::vector<std::string>& args, SendOption o, std::string value) {
  args.insert(args.end(), {protocol::send_option_name(o), std::move(value)});
}
void add_option(std::vector<std::string>& args, FetchOption o, std::string value) {
  args.insert(args.end(), {protocol::fetch_option_name(o), std::move(value)});
}

void add_send_options(std::vector<std::string>& args, const SendOptions& o) {
  if (o.priority != 0) add_option(args, SendOption::kPriority, std::to_string(o.priority));
  if (o.ttl_ms != 0) add_option(args, SendOption::kTtl, std::to_string(o.ttl_ms));
  if (o.delay_ms != 0) add_option(args, SendOption::kDelay, std::to_string(o.delay_ms));
  if (o.retries) add_option(args, SendOption::kRetries, std::to_string(*o.retries));
  if (!o.producer.empty()) add_option(args, SendOption::kProducer, o.producer);
}

// A time as RESP carries it. REQUIRES: whole milliseconds.
int64_t ms_of(TimeNs ns) {
  MQ_CHECK_MSG(ns % protocol::kNsPerMs == 0, "RESP carries whole milliseconds");
  return ns / protocol::kNsPerMs;
}

std::vector<std::string> command_of(Verb v, std::initializer_list<std::string> rest) {
  std::vector<std::string> args{protocol::verb_name(v)};
  args.insert(args.end(), rest);
  return args;
}

}  // namespace

std::vector<std::string> send_args(const std::string& queue, uint64_t id, const std::string& payload,
                                   const SendOptions& o) {
  std::vector<std::string> args = command_of(Verb::kSend, {queue, std::to_string(id), payload});
  add_send_options(args, o);
  return args;
}

std::vector<std::string> publish_args(const std::string& topic, uint64_t id, const std::string& payload,
                                      const SendOptions& o) {
  std::vector<std::string> args = command_of(Verb::kPublish, {topic, std::to_string(id), payload});
  add_send_options(args, o);
  return args;
}

std::vector<std::string> fetch_args(const std::string& consumer, uint32_t count, int64_t block_ms) {
  std::vector<std::string> args = command_of(Verb::kFetch, {consumer});
  add_option(args, FetchOption::kCount, std::to_string(count));
  if (block_ms > 0) add_option(args, FetchOption::kBlock, std::to_string(block_ms));
  return args;
}

std::vector<std::string> ack_args(const std::string& consumer, uint64_t id) {
  return command_of(Verb::kAck, {consumer, std::to_string(id)});
}

std::vector<std::string> nack_args(const std::string& consumer, uint64_t id, bool requeue) {
  return command_of(Verb::kNack,
                    {consumer, std::to_string(id), std::string(requeue ? protocol::kRequeue : protocol::kDrop)});
}

std::vector<std::string> CommandSet::args_of(const Request& r) const {
  const auto consumer = [&](const ConsumerRef& who) -> const std::string& {
    return config_.consumers.at(who.consumer).name;
  };
  return std::visit(
      Overloaded{
          [&](const req::Publish& x) {
            SendOptions o;
            o.priority = x.spec.priority;
            o.ttl_ms = ms_of(x.spec.ttl_ns);
            o.delay_ms = ms_of(x.spec.delay_ns);
            o.retries = x.spec.max_retries;
            o.producer = config_.producers.at(x.producer).name;
            return x.topic ? publish_args(config_.topics.at(x.target).name, x.spec.id, x.spec.payload, o)
                           : send_args(config_.queues.at(x.target).name, x.spec.id, x.spec.payload, o);
          },
          [&](const req::Hello& x) { return command_of(Verb::kAttach, {consumer(x.who)}); },
          [&](const req::Fetch& x) { return fetch_args(consumer(x.who), x.max, ms_of(x.block_ns)); },
          [&](const req::Settle& x) {
            return x.nack ? nack_args(consumer(x.who), x.id, x.requeue) : ack_args(consumer(x.who), x.id);
          },
          [&](const req::Stats& x) {
            return command_of(Verb::kQstats, {config_.queues.at(x.queue).name});
          },
          [](const req::Info&) { return command_of(Verb::kInfo, {}); },
          [](const req::Inline&) -> std::vector<std::string> {
            MQ_CHECK_MSG(false, "no command reads as the protocol layer's own answer");
            return {};
          },
      },
      r);
}

}  // namespace mq::impl
