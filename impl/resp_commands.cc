#include "impl/resp_commands.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <type_traits>

namespace mq::impl {

using protocol::DeliveryField;
using protocol::ErrorWord;
using protocol::FetchOption;
using protocol::SendOption;
using protocol::Verb;

// ---- RESP building blocks ----

void resp_simple(std::string& out, std::string_view s) {
  MQ_CHECK(s.find_first_of("\r\n") == std::string_view::npos);
  out += '+';
  out += s;
  out += "\r\n";
}

void resp_error(std::string& out, std::string_view s) {
  out += '-';
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

void resp_integer(std::string& out, int64_t v) {
  out += ':';
  out += std::to_string(v);
  out += "\r\n";
}

void resp_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}


void resp_array(std::string& out, size_t n) {
  out += '*';
  out += std::to_string(n);
  out += "\r\n";
}

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

RespCommands::RespCommands(const BrokerConfig& config) : config_(config) {
  for (QueueId q = 0; q < config_.queues.size(); ++q) queues_[config_.queues[q].name] = q;
  for (TopicId t = 0; t < config_.topics.size(); ++t) topics_[config_.topics[t].name] = t;
  for (ConsumerId c = 0; c < config_.consumers.size(); ++c) consumers_[config_.consumers[c].name] = c;
  for (ProducerId p = 0; p < config_.producers.size(); ++p) producers_[config_.producers[p].name] = p;
}

ParsedRequest RespCommands::parse(const std::vector<std::string>& args, ConnId conn) const {
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
ParsedRequest RespCommands::send(const std::vector<std::string>& args, bool topic) const {
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
ParsedRequest RespCommands::fetch(const std::vector<std::string>& args, ConnId conn) const {
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
ParsedRequest RespCommands::settle(const std::vector<std::string>& args, ConnId conn, bool nack) const {
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

// ---- responses ----

namespace {

void put_field(std::string& out, const BrokerConfig& config, const Delivery& d, DeliveryField f) {
  const Message& m = d.message;
  switch (f) {
    case DeliveryField::kQueue: return resp_bulk(out, config.queues[d.queue].name);
    case DeliveryField::kId: return resp_bulk(out, std::to_string(m.id));  // RESP's integers are signed
    case DeliveryField::kPayload: return resp_bulk(out, m.payload_view());
    case DeliveryField::kAttempts: return resp_integer(out, m.attempts);
    case DeliveryField::kPriority: return resp_integer(out, m.priority);
    case DeliveryField::kTimestampNs: return resp_integer(out, m.timestamp_ns);
    case DeliveryField::kTtlNs: return resp_integer(out, m.ttl_ns);
    case DeliveryField::kNotBeforeNs: return resp_integer(out, m.not_before_ns);
    case DeliveryField::kMaxRetries: return resp_integer(out, m.max_retries);
  }
}

void put_delivery(std::string& out, const BrokerConfig& config, const Delivery& d) {
  resp_array(out, protocol::kDeliveryFields);
  for (int f = 0; f < protocol::kDeliveryFields; ++f) put_field(out, config, d, static_cast<DeliveryField>(f));
}

void put_error(std::string& out, ErrorWord w, std::string_view text) { resp_error(out, protocol::error_text(w, text)); }

void put_published(std::string& out, const BrokerConfig& config, const resp::Published& p) {
  switch (p.outcome) {
    case PublishOutcome::kRefused: return put_error(out, ErrorWord::kErr, p.reason);
    case PublishOutcome::kNoSpace: return put_error(out, ErrorWord::kNoSpace, p.reason);
    case PublishOutcome::kFull:
      if (p.topic || p.queues.empty()) return put_error(out, ErrorWord::kFull, "every queue it was sent to is full");
      return put_error(out, ErrorWord::kFull, "queue '" + config.queues[p.queues.front().queue].name + "' is full");
    case PublishOutcome::kStored:
    case PublishOutcome::kDuplicate:
      if (!p.topic) {
        return resp_simple(out, p.outcome == PublishOutcome::kStored ? protocol::kStored : protocol::kDuplicate);
      }
      resp_array(out, p.queues.size());
      for (const QueueOutcome& q : p.queues) {
        resp_array(out, 2);
        resp_bulk(out, config.queues[q.queue].name);
        resp_bulk(out, publish_outcome_name(q.outcome));
      }
      return;
  }
}

void put_stats(std::string& out, const QueueStats& s) {
  const std::pair<const char*, uint64_t> fields[] = {
      {"size", s.size},         {"capacity", s.capacity},
      {"consumers", s.consumer_count}, {"ready", s.ready},
      {"delayed", s.delayed},   {"in_flight", s.in_flight},
      {"accepted", s.accepted}, {"refused", s.refused},
      {"deliveries", s.deliveries}, {"redeliveries", s.redeliveries},
      {"acked", s.acked},       {"expired", s.expired},
      {"dead_lettered", s.dead_lettered}, {"lost", s.lost},
      {"dead_letter_refused", s.dead_letter_refused}, {"duplicates", s.duplicates},
      {"dropped", s.dropped}};
  resp_array(out, 2 + 2 * std::size(fields));
  resp_bulk(out, "name");
  resp_bulk(out, s.name);
  for (const auto& [k, v] : fields) {
    resp_bulk(out, k);
    resp_integer(out, static_cast<int64_t>(v));
  }
}

}  // namespace

void RespCommands::encode(const Response& r, std::string& out) const {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, resp::Published>) {
          put_published(out, config_, x);
        } else if constexpr (std::is_same_v<T, resp::Settled>) {
          if (x.ok) return resp_simple(out, protocol::kOk);
          put_error(out, ErrorWord::kNotHeld, x.reason);
        } else if constexpr (std::is_same_v<T, resp::Attached>) {
          resp_simple(out, protocol::kOk);
        } else if constexpr (std::is_same_v<T, resp::Fetched>) {
          resp_array(out, x.deliveries.size());
          for (const Delivery& d : x.deliveries) put_delivery(out, config_, d);
        } else if constexpr (std::is_same_v<T, resp::Push>) {
          put_delivery(out, config_, x.delivery);
        } else if constexpr (std::is_same_v<T, resp::Stats>) {
          put_stats(out, x.stats);
        } else if constexpr (std::is_same_v<T, resp::Info>) {
          resp_bulk(out, x.text);
        } else if constexpr (std::is_same_v<T, resp::Inline>) {
          out += x.text;
        } else {
          static_assert(std::is_same_v<T, resp::Error>);
          // The shell's errors: an older session's command, or the broker not serving.
          const ErrorWord w = x.code == Code::kFailedPrecondition ? ErrorWord::kSession
                              : x.code == Code::kUnavailable      ? ErrorWord::kUnavailable
                                                                  : ErrorWord::kErr;
          put_error(out, w, x.message);
        }
      },
      r);
}

}  // namespace mq::impl
