#include "impl/resp_commands.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <type_traits>

namespace mq::impl {

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
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

ParsedRequest inline_error(std::string_view message) {
  std::string out;
  resp_error(out, message);
  return ParsedRequest{req::Inline{std::move(out)}, false};
}

ParsedRequest inline_text(std::string text, bool close_after = false) {
  return ParsedRequest{req::Inline{std::move(text)}, close_after};
}

ParsedRequest arity(std::string_view command) {
  return inline_error("ERR wrong number of arguments for '" + upper(command) + "' command");
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
  return "ERR " + std::string(what) + " must be an integer in 0.." + std::to_string(max) + ", got '" +
         std::string(got.substr(0, 64)) + "'";
}

template <typename Map>
std::optional<typename Map::mapped_type> lookup(const Map& m, std::string_view name) {
  auto it = m.find(name);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

std::string unknown(std::string_view kind, std::string_view name) {
  return "ERR unknown " + std::string(kind) + " '" + std::string(name.substr(0, 128)) + "'";
}

constexpr uint64_t kMaxMs = uint64_t{std::numeric_limits<int64_t>::max() / 1'000'000};

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
  const std::string name = upper(args[0]);
  const size_t n = args.size();
  if (name == "SEND") return send(args, false);
  if (name == "PUBLISH") return send(args, true);
  if (name == "FETCH") return fetch(args, conn);
  if (name == "ACK") return settle(args, conn, false);
  if (name == "NACK") return settle(args, conn, true);
  if (name == "ATTACH") {
    if (n != 2) return arity(args[0]);
    const auto c = lookup(consumers_, args[1]);
    if (!c) return inline_error(unknown("consumer", args[1]));
    return {req::Hello{ConsumerRef{*c, conn, SessionMode::kPull}}, false};
  }
  if (name == "QSTATS") {
    if (n != 2) return arity(args[0]);
    const auto q = lookup(queues_, args[1]);
    if (!q) return inline_error(unknown("queue", args[1]));
    return {req::Stats{*q}, false};
  }
  if (name == "INFO") return {req::Info{}, false};
  if (name == "PING") {
    if (n > 2) return arity(args[0]);
    std::string out;
    if (n == 2) {
      resp_bulk(out, args[1]);
    } else {
      resp_simple(out, "PONG");
    }
    return inline_text(std::move(out));
  }
  if (name == "ECHO") {
    if (n != 2) return arity(args[0]);
    std::string out;
    resp_bulk(out, args[1]);
    return inline_text(std::move(out));
  }
  if (name == "QUIT") return inline_text("+OK\r\n", true);
  // What redis-cli and redis-benchmark send on connecting: harmless answers.
  if (name == "COMMAND" || name == "CONFIG") return inline_text("*0\r\n");
  if (name == "CLIENT" || name == "SELECT") return inline_text("+OK\r\n");
  std::string msg = "ERR unknown command '" + std::string(args[0].substr(0, 64)) + "', with args beginning with:";
  for (size_t k = 1; k < n && k < 4; ++k) msg += " '" + args[k].substr(0, 32) + "'";
  return inline_error(msg);
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
  if (config_.producers.empty()) return inline_error("ERR the broker has no producer configured");
  r.producer = 0;
  for (size_t k = 4; k + 1 < args.size(); k += 2) {
    const std::string opt = upper(args[k]);
    const std::string& v = args[k + 1];
    if (opt == "PRODUCER") {
      const auto p = lookup(producers_, v);
      if (!p) return inline_error(unknown("producer", v));
      r.producer = *p;
      continue;
    }
    uint64_t max = 0;
    if (opt == "PRIORITY") max = 255;
    if (opt == "TTL" || opt == "DELAY") max = kMaxMs;
    if (opt == "RETRIES") max = std::numeric_limits<uint32_t>::max();
    if (max == 0) return inline_error("ERR unknown option '" + args[k].substr(0, 32) + "' for " + upper(args[0]));
    const auto x = parse_unsigned(v, max);
    if (!x) return inline_error(not_a_number(opt, v, max));
    if (opt == "PRIORITY") r.spec.priority = static_cast<Priority>(*x);
    if (opt == "TTL") r.spec.ttl_ns = static_cast<TimeNs>(*x) * 1'000'000;
    if (opt == "DELAY") r.spec.delay_ns = static_cast<TimeNs>(*x) * 1'000'000;
    if (opt == "RETRIES") r.spec.max_retries = static_cast<uint32_t>(*x);
  }
  return {std::move(r), false};
}

// FETCH consumer [COUNT n] [BLOCK ms]
ParsedRequest RespCommands::fetch(const std::vector<std::string>& args, ConnId conn) const {
  if (args.size() < 2 || args.size() % 2 != 0) return arity(args[0]);
  const auto c = lookup(consumers_, args[1]);
  if (!c) return inline_error(unknown("consumer", args[1]));
  req::Fetch r{ConsumerRef{*c, conn, SessionMode::kPull}, 1, 0};
  constexpr uint64_t kMaxCount = 65536;
  for (size_t k = 2; k + 1 < args.size(); k += 2) {
    const std::string opt = upper(args[k]);
    if (opt == "COUNT") {
      const auto x = parse_unsigned(args[k + 1], kMaxCount);
      if (!x || *x == 0) return inline_error(not_a_number("COUNT (at least 1)", args[k + 1], kMaxCount));
      r.max = static_cast<uint32_t>(*x);
    } else if (opt == "BLOCK") {
      const auto x = parse_unsigned(args[k + 1], kMaxBlockMs);
      if (!x) return inline_error(not_a_number("BLOCK", args[k + 1], kMaxBlockMs));
      r.block_ns = static_cast<TimeNs>(*x == 0 ? kMaxBlockMs : *x) * 1'000'000;
    } else {
      return inline_error("ERR unknown option '" + args[k].substr(0, 32) + "' for FETCH");
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
    const std::string how = upper(args[3]);
    if (how != "REQUEUE" && how != "DROP") {
      return inline_error("ERR NACK takes REQUEUE or DROP, got '" + args[3].substr(0, 32) + "'");
    }
    requeue = how == "REQUEUE";
  }
  return {req::Settle{ConsumerRef{*c, conn, SessionMode::kPull}, *id, nack, requeue}, false};
}

// ---- responses ----

namespace {

void put_delivery(std::string& out, const BrokerConfig& config, const Delivery& d) {
  const Message& m = d.message;
  resp_array(out, 9);
  resp_bulk(out, config.queues[d.queue].name);
  resp_bulk(out, std::to_string(m.id));
  resp_bulk(out, m.payload_view());
  resp_integer(out, m.attempts);
  resp_integer(out, m.priority);
  resp_integer(out, m.timestamp_ns);
  resp_integer(out, m.ttl_ns);
  resp_integer(out, m.not_before_ns);
  resp_integer(out, m.max_retries);
}

void put_published(std::string& out, const BrokerConfig& config, const resp::Published& p) {
  switch (p.outcome) {
    case PublishOutcome::kRefused: return resp_error(out, "ERR " + p.reason);
    case PublishOutcome::kNoSpace: return resp_error(out, "NOSPACE " + p.reason);
    case PublishOutcome::kFull:
      if (p.topic || p.queues.empty()) return resp_error(out, "FULL every queue it was sent to is full");
      return resp_error(out, "FULL queue '" + config.queues[p.queues.front().queue].name + "' is full");
    case PublishOutcome::kStored:
    case PublishOutcome::kDuplicate:
      if (!p.topic) return resp_simple(out, p.outcome == PublishOutcome::kStored ? "STORED" : "DUPLICATE");
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
          if (x.ok) return resp_simple(out, "OK");
          resp_error(out, "NOTHELD " + x.reason);
        } else if constexpr (std::is_same_v<T, resp::Attached>) {
          resp_simple(out, "OK");
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
          const char* prefix = x.code == Code::kFailedPrecondition ? "SESSION "
                               : x.code == Code::kUnavailable      ? "UNAVAILABLE "
                                                                   : "ERR ";
          resp_error(out, prefix + x.message);
        }
      },
      r);
}

}  // namespace mq::impl
