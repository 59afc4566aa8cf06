#include "impl/resp_commands.h"

#include <type_traits>

namespace mq::impl {

using protocol::DeliveryField;
using protocol::ErrorWord;
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
          put_published(out, config(), x);
        } else if constexpr (std::is_same_v<T, resp::Settled>) {
          if (x.ok) return resp_simple(out, protocol::kOk);
          put_error(out, ErrorWord::kNotHeld, x.reason);
        } else if constexpr (std::is_same_v<T, resp::Attached>) {
          resp_simple(out, protocol::kOk);
        } else if constexpr (std::is_same_v<T, resp::Fetched>) {
          resp_array(out, x.deliveries.size());
          for (const Delivery& d : x.deliveries) put_delivery(out, config(), d);
        } else if constexpr (std::is_same_v<T, resp::Push>) {
          put_delivery(out, config(), x.delivery);
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
