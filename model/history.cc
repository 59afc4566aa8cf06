#include "model/history.h"

#include <array>

#include "base/check.h"

namespace mq {
namespace {

// event_f_rules for every f, computed once: the validator asks several times per event.
constexpr std::array<EventFRules, kEventFCount> kRules = [] {
  std::array<EventFRules, kEventFCount> a{};
  for (int k = 0; k < kEventFCount; ++k) a[static_cast<size_t>(k)] = event_f_rules(static_cast<EventF>(k));
  return a;
}();

EventFRules rules(EventF f) {
  MQ_CHECK(static_cast<int>(f) < kEventFCount);
  return kRules[static_cast<size_t>(f)];
}

bool needs_id(const HistoryEvent& e) {
  switch (rules(e.f).id) {
    case IdRule::kNever: return false;
    case IdRule::kAlways: return true;
    case IdRule::kWhenOk: return e.type == EventType::kOk;
  }
  return true;
}

// The effect each f shows, inverted from event_f_of once.
constexpr std::array<std::optional<EffectKind>, kEventFCount> kEffectOfF = [] {
  std::array<std::optional<EffectKind>, kEventFCount> a{};
  for (int k = 0; k < kMaxEnumerators; ++k) {
    const auto f = event_f_of(static_cast<EffectKind>(k));
    if (f) a[static_cast<size_t>(*f)] = static_cast<EffectKind>(k);
  }
  return a;
}();

Status field_error(std::string_view field, const std::string& what) {
  return invalid_argument("field '" + std::string(field) + "': " + what);
}

// The checks below run on every event of every history: they build strings only
// for an error.
Status check_process_may_do(const HistoryEvent& e) {
  const std::string_view f = event_f_name(e.f);
  if (e.process.empty()) return field_error("process", "must not be empty");
  const EventFRoles roles = event_f_roles(e.f);
  if (e.process == kNemesisProcess) {
    if (!roles.nemesis) {
      return field_error("f", "the nemesis only does crash, recover and fault events, not " + std::string(f));
    }
  } else if (e.process == kBrokerProcess) {
    if (!roles.broker) return field_error("f", "the broker does not do " + std::string(f));
  } else if (!roles.client) {
    return field_error("f", "a client does not do " + std::string(f) + " (only the broker or nemesis)");
  }
  if (!e.is_client() && e.type != EventType::kOk) {
    return field_error("type", std::string("a ") + e.process + " event is always ok, not " +
                                   event_type_name(e.type));
  }
  return Status();
}

// A topic publish names its topic and the queues bound to it, its own queue among
// them, each once.
Status check_topic(const HistoryEvent& e) {
  if (e.topic.empty() && e.bound.empty()) return Status();
  if (e.f != EventF::kPublish || !e.is_client())
    return field_error("topic", "only a client's publish carries it");
  if (e.topic.empty()) return field_error("topic", "required with 'bound'");
  if (e.bound.empty()) return field_error("bound", "required with 'topic' (the queues bound to it)");
  bool mine = false;
  for (size_t i = 0; i < e.bound.size(); ++i) {
    if (e.bound[i].empty()) return field_error("bound", "a queue name is empty");
    for (size_t j = 0; j < i; ++j) {
      if (e.bound[j] == e.bound[i]) return field_error("bound", "queue '" + e.bound[i] + "' is listed twice");
    }
    mine = mine || e.bound[i] == e.queue;
  }
  if (!mine) return field_error("bound", "does not list the event's own queue '" + e.queue + "'");
  return Status();
}

Status check_non_negative(std::string_view field, const std::optional<TimeNs>& v) {
  if (v && *v < 0) return field_error(field, "must be >= 0, got " + std::to_string(*v));
  return Status();
}

}  // namespace

EventFRoles event_f_roles(EventF f) { return rules(f).roles; }
ConsumerOpKind event_f_consumer_op(EventF f) { return rules(f).consumer_op; }
RecoveryRole event_f_recovery_role(EventF f) { return rules(f).recovery; }
FaultSpan event_f_span(EventF f) { return rules(f).span; }

bool is_fault_f(EventF f) {
  return event_f_roles(f).nemesis && f != EventF::kCrash && f != EventF::kRecover;
}

std::optional<EffectKind> effect_of_f(EventF f) {
  MQ_CHECK(static_cast<int>(f) < kEventFCount);
  return kEffectOfF[static_cast<size_t>(f)];
}

bool refused_as_malformed(const HistoryEvent& e) {
  const std::string prefix = std::string(code_name(Code::kInvalidArgument)) + ":";
  return e.f == EventF::kPublish && e.type == EventType::kFail && e.error.starts_with(prefix);
}

bool finishes_message(const HistoryEvent& e) {
  const auto effect = effect_of_f(e.f);
  return e.type == EventType::kOk && effect && finishes_message(*effect);
}

const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::kInvoke: return "invoke";
    case EventType::kOk: return "ok";
    case EventType::kFail: return "fail";
    case EventType::kInfo: return "info";
  }
  return nullptr;  // not an enumerator
}

std::optional<EventType> parse_event_type(std::string_view name) {
  for (int i = 0; i < kMaxEnumerators && event_type_name(static_cast<EventType>(i)) != nullptr; ++i) {
    if (name == event_type_name(static_cast<EventType>(i))) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

std::optional<EventF> parse_event_f(std::string_view name) { return enum_named<EventF>(name, event_f_name); }

std::string where(const HistoryEvent& e) {
  return e.line > 0 ? "line " + std::to_string(e.line) : "event #" + std::to_string(e.index);
}

std::string to_string(const HistoryEvent& e) {
  std::string s = where(e) + " t=" + std::to_string(e.time_ns) + " " + e.process + " " +
                  event_type_name(e.type) + " " + event_f_name(e.f);
  if (!e.queue.empty()) s += " queue=" + e.queue;
  if (!e.topic.empty()) {
    s += " topic=" + e.topic + " bound=";
    for (size_t k = 0; k < e.bound.size(); ++k) s += (k ? "," : "") + e.bound[k];
  }
  if (!e.consumer.empty()) s += " consumer=" + e.consumer;
  if (!e.node.empty()) s += " node=" + e.node;
  if (e.id) s += " id=" + std::to_string(*e.id);
  if (e.payload) s += " payload='" + *e.payload + "'";
  if (e.priority) s += " priority=" + std::to_string(*e.priority);
  if (e.attempts) s += " attempts=" + std::to_string(*e.attempts);
  if (e.ttl_ns) s += " ttl_ns=" + std::to_string(*e.ttl_ns);
  if (e.delay_ns) s += " delay_ns=" + std::to_string(*e.delay_ns);
  if (e.max_retries) s += " max_retries=" + std::to_string(*e.max_retries);
  if (e.timestamp_ns) s += " timestamp_ns=" + std::to_string(*e.timestamp_ns);
  if (e.not_before_ns) s += " not_before_ns=" + std::to_string(*e.not_before_ns);
  if (e.requeue) s += *e.requeue ? " requeue=true" : " requeue=false";
  if (!e.error.empty()) s += " error='" + e.error + "'";
  return s;
}

Status check_event_shape(const HistoryEvent& e) {
  MQ_RETURN_IF_ERROR(check_process_may_do(e));
  const std::string_view f = event_f_name(e.f);
  const EventFRules r = rules(e.f);
  if (r.node && e.node.empty()) return field_error("node", "required for " + std::string(f));
  if (!r.roles.nemesis && e.queue.empty()) return field_error("queue", "required for " + std::string(f));
  if (r.consumer && e.consumer.empty()) return field_error("consumer", "required for " + std::string(f));
  if (needs_id(e) && !e.id) return field_error("id", "required for " + std::string(f));
  const bool delivered = e.f == EventF::kDeliver && e.type == EventType::kOk;
  if ((e.f == EventF::kPublish || delivered) && !e.payload) {
    return field_error("payload", "required for " + std::string(f));
  }
  if (delivered && (!e.attempts || *e.attempts == 0)) {
    return field_error("attempts", "required and >= 1 for a delivery");
  }
  if (e.f == EventF::kNack && !e.requeue) return field_error("requeue", "required for nack");
  if (e.max_retries && e.f != EventF::kPublish) return field_error("max_retries", "only a publish carries it");
  MQ_RETURN_IF_ERROR(check_topic(e));
  if (e.time_ns < 0) return field_error("time", "must be >= 0, got " + std::to_string(e.time_ns));
  // A client's publish records what it asked, malformed or not (a negative TTL or
  // delay, which the broker must refuse: the checkers judge that); only what the
  // broker accepted and what a queue holds must be well-formed.
  const bool asked = e.f == EventF::kPublish && e.is_client() && e.type != EventType::kOk;
  if (!asked) {
    MQ_RETURN_IF_ERROR(check_non_negative("ttl_ns", e.ttl_ns));
    MQ_RETURN_IF_ERROR(check_non_negative("delay_ns", e.delay_ns));
  }
  MQ_RETURN_IF_ERROR(check_non_negative("timestamp_ns", e.timestamp_ns));
  MQ_RETURN_IF_ERROR(check_non_negative("not_before_ns", e.not_before_ns));
  return Status();
}

Status HistoryValidator::add(const HistoryEvent& e) {
  MQ_RETURN_IF_ERROR(check_event_shape(e));
  if (e.index != next_index_) {
    return field_error("index", "expected " + std::to_string(next_index_) + ", got " +
                                    std::to_string(e.index));
  }
  if (last_time_ns_ && e.time_ns < *last_time_ns_) {
    return field_error("time", std::to_string(e.time_ns) + " is before the previous event's time " +
                                   std::to_string(*last_time_ns_));
  }
  if (e.is_client()) {
    const auto open = open_.find(e.process);
    if (e.type == EventType::kInvoke) {
      if (open != open_.end()) {
        return field_error("type", "process '" + e.process +
                                       "' invokes again while its invoke at " +
                                       open->second.at + " is open");
      }
      open_.emplace(e.process, Open{e.f, where(e)});
    } else {
      if (open == open_.end()) {
        return field_error("type", std::string(event_type_name(e.type)) + " by process '" +
                                       e.process + "' completes no invoke");
      }
      if (open->second.f != e.f) {
        return field_error("f", "process '" + e.process + "' completes " + event_f_name(e.f) +
                                    " but invoked " + event_f_name(open->second.f));
      }
      open_.erase(open);
    }
  }
  last_time_ns_ = e.time_ns;
  ++next_index_;
  return Status();
}

Status validate_history(const History& history) {
  HistoryValidator validator;
  for (const auto& e : history.events) {
    Status s = validator.add(e);
    if (!s.ok()) return Status(s.code(), history.source + ": " + where(e) + ": " + s.message());
  }
  return Status();
}

}  // namespace mq
