#include "sim/broker_node.h"

#include <type_traits>
#include <variant>

#include "sim/translate.h"

namespace mq::sim {
namespace {

impl::BrokerCore make_core(const Topology& topology) {
  auto core = impl::BrokerCore::create(to_broker_config(topology));
  MQ_CHECK_MSG(core.ok(), "a validated topology makes a valid broker config");
  return std::move(core).value();
}

bool finishes(EffectKind k) {
  return k == EffectKind::kAcked || k == EffectKind::kExpired || k == EffectKind::kDeadLettered ||
         k == EffectKind::kLost;
}

}  // namespace

BrokerNode::BrokerNode(const Scenario& scenario, BrokerNodeOptions options, SimQueue& queue, Network& network,
                       HistoryRecorder& recorder)
    : scenario_(scenario), options_(options), queue_(queue), network_(network), recorder_(recorder),
      core_(make_core(scenario.topology)), session_(scenario.topology.consumers.size(), 1),
      last_heard_(scenario.topology.consumers.size(), 0) {
  if (options_.shadow) shadow_.emplace(scenario.topology);
  // Each dispatch delivers one message, so one eager round delivers at most what the
  // queues hold; one more try per queue sees that nothing is left.
  for (const auto& q : scenario.topology.queues) dispatch_bound_ += q.capacity + 1;
  queue_.push(scenario.clients.heartbeat_ns, Wake{kBrokerEndpoint, kSessionCheck, 0});
}

Endpoint BrokerNode::consumer_endpoint(ConsumerId c) const {
  return static_cast<Endpoint>(1 + scenario_.topology.producers.size() + c);
}

Status BrokerNode::run_core(const Op& op, TimeNs now, impl::Effects& out) {
  return std::visit(
      [&](const auto& o) -> Status {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, op::Send>) return core_.send(now, o.producer, o.queue, to_core(o.spec), out);
        if constexpr (std::is_same_v<T, op::Publish>) return core_.publish(now, o.producer, o.topic, to_core(o.spec), out);
        if constexpr (std::is_same_v<T, op::Dispatch>) return core_.dispatch(now, o.queue, out);
        if constexpr (std::is_same_v<T, op::Fetch>) return core_.fetch(now, o.consumer, out);
        if constexpr (std::is_same_v<T, op::Ack>) return core_.ack(now, o.consumer, o.id, out);
        if constexpr (std::is_same_v<T, op::Nack>) return core_.nack(now, o.consumer, o.id, o.requeue, out);
        if constexpr (std::is_same_v<T, op::Advance>) return core_.tick(o.now_ns, out);
        if constexpr (std::is_same_v<T, op::Crash>) return core_.crash(now, out);
        if constexpr (std::is_same_v<T, op::Recover>) return core_.recover(now, out);
        if constexpr (std::is_same_v<T, op::Attach>) return core_.attach(now, o.consumer, out);
        if constexpr (std::is_same_v<T, op::Detach>) return core_.detach(now, o.consumer, out);
      },
      op);
}

// The time advance first (its own step), then the command at the same time.
Result<Effects> BrokerNode::execute(const Op& op) {
  const TimeNs now = queue_.now();
  impl::Effects tick_effects;
  const Status ticked = core_.tick(now, tick_effects);
  MQ_CHECK_MSG(ticked.ok(), "virtual time never goes backwards");
  Result<Effects> advanced = to_model_result(ticked, tick_effects);
  ++stats_.commands;
  corrupt(advanced);
  if (shadow_) shadow_->advance(now, advanced);
  recorder_.record(op::Advance{now}, advanced, now);
  track(*advanced);
  if (std::holds_alternative<op::Advance>(op)) return advanced;

  impl::Effects effects;
  const Status s = run_core(op, now, effects);
  Result<Effects> result = to_model_result(s, effects);
  ++stats_.commands;
  corrupt(result);
  if (shadow_) shadow_->apply(op, result);
  recorder_.record(op, result, now);
  if (result.ok()) track(*result);
  return result;
}

void BrokerNode::corrupt(Result<Effects>& result) {
  if (options_.corrupt_step == 0 || corrupted_ || stats_.commands < options_.corrupt_step) return;
  if (!result.ok() || result->empty()) return;
  result.value()[0].message.attempts += 1;
  corrupted_ = true;
}

void BrokerNode::track(const Effects& effects) {
  const TimeNs now = queue_.now();
  for (const auto& e : effects) {
    const auto key = std::make_pair(e.queue, e.message.id);
    if (finishes(e.kind)) {
      live_.erase(key);
    } else if (e.kind != EffectKind::kRefused && e.kind != EffectKind::kDeadLetterRefused) {
      live_[key] = Live{e.kind, e.consumer, now};
    }
  }
  push_deliveries(effects);
}

void BrokerNode::push_deliveries(const Effects& effects) {
  for (const auto& e : effects) {
    if (e.kind != EffectKind::kDelivered) continue;
    ++stats_.pushes;
    network_.send(kBrokerEndpoint, consumer_endpoint(e.consumer), Push{session_[e.consumer], e.message});
  }
}

void BrokerNode::dispatch_all() {
  if (!core_.up()) return;
  const auto& queues = scenario_.topology.queues;
  uint64_t rounds = 0;
  for (QueueId q = 0; q < queues.size(); ++q) {
    for (;;) {
      MQ_CHECK_MSG(++rounds <= dispatch_bound_, "eager dispatch over its bound");
      const impl::QueueStats st = core_.stats(q);
      if (st.ready == 0 || st.consumer_count == 0) break;
      Result<Effects> r = execute(op::Dispatch{q});
      bool delivered = false;
      for (const auto& e : r.ok() ? *r : Effects{}) delivered = delivered || e.kind == EffectKind::kDelivered;
      if (!delivered) break;
    }
  }
}

void BrokerNode::arm_timer() {
  if (!core_.up()) return;
  const std::optional<TimeNs> deadline = core_.next_deadline();
  if (!deadline) return;
  if (timer_at_ && *timer_at_ <= *deadline) return;  // an earlier wake is set; it re-arms
  timer_at_ = std::max(*deadline, queue_.now());
  queue_.push(*timer_at_, Wake{kBrokerEndpoint, kTimer, ++timer_token_});
}

void BrokerNode::wake(uint32_t what, uint64_t token) {
  if (what == kSessionCheck) {
    queue_.push(queue_.now() + scenario_.clients.heartbeat_ns, Wake{kBrokerEndpoint, kSessionCheck, 0});
    if (core_.up()) check_sessions();
  } else {
    MQ_CHECK(what == kTimer);
    if (token != timer_token_) return;  // superseded by an earlier wake
    timer_at_.reset();
    if (!core_.up()) return;  // recover() ticks and re-arms
    (void)execute(op::Advance{queue_.now()});
  }
  dispatch_all();
  arm_timer();
}

void BrokerNode::check_sessions() {
  const TimeNs now = queue_.now();
  for (ConsumerId c = 0; c < session_.size(); ++c) {
    if (!core_.attached(c) || now - last_heard_[c] <= scenario_.clients.session_timeout_ns) continue;
    ++stats_.session_detaches;
    (void)execute(op::Detach{c});
  }
}

// ok: the packet belongs to the consumer's current session, which is attached now.
bool BrokerNode::admit(ConsumerId c, uint64_t session) {
  MQ_CHECK(c < session_.size());
  if (session < session_[c]) return false;  // a late packet of an earlier life
  if (session > session_[c]) {
    if (core_.attached(c)) (void)execute(op::Detach{c});
    session_[c] = session;
  }
  last_heard_[c] = queue_.now();
  if (!core_.attached(c)) {
    const Result<Effects> r = execute(op::Attach{c});
    MQ_CHECK_MSG(r.ok(), "attach of a detached consumer while up");
  }
  return true;
}

void BrokerNode::on_publish(const PublishRequest& r) {
  ++stats_.publishes;
  const Op op = r.topic ? Op(op::Publish{r.producer, r.target, r.spec}) : Op(op::Send{r.producer, r.target, r.spec});
  const Result<Effects> result = execute(op);
  PublishReply reply{r.spec.id, PublishOutcome::kAccepted};
  if (!result.ok()) {
    const bool dup = result.status().code() == Code::kAlreadyExists;
    stats_.duplicates += dup ? 1 : 0;
    reply.outcome = dup ? PublishOutcome::kDuplicate : PublishOutcome::kError;
  } else {
    bool accepted = false, refused = false;
    for (const auto& e : *result) {
      accepted = accepted || e.kind == EffectKind::kAccepted;
      refused = refused || e.kind == EffectKind::kRefused;
    }
    // A topic publish some queues took and others refused is done: a resend would
    // be a duplicate everywhere (the id is checked queue by queue).
    if (refused && !accepted) {
      reply.outcome = PublishOutcome::kFull;
      ++stats_.refusals;
    }
  }
  network_.send(kBrokerEndpoint, producer_endpoint(r.producer), reply);
}

void BrokerNode::on_ack(const AckRequest& r) {
  if (!admit(r.consumer, r.session)) return;
  const Op op = r.nack ? Op(op::Nack{r.consumer, r.id, r.requeue}) : Op(op::Ack{r.consumer, r.id});
  const Result<Effects> result = execute(op);
  if (r.nack) ++stats_.nacks; else ++stats_.acks;
  if (!result.ok()) ++stats_.stale_acks;
  network_.send(kBrokerEndpoint, consumer_endpoint(r.consumer), AckReply{r.id, result.ok()});
}

void BrokerNode::receive(const Packet& packet) {
  if (!core_.up()) return;  // a crashed process reads nothing: the sender times out
  if (const auto* p = std::get_if<PublishRequest>(&packet)) {
    on_publish(*p);
  } else if (const auto* a = std::get_if<AckRequest>(&packet)) {
    on_ack(*a);
  } else if (const auto* h = std::get_if<Hello>(&packet)) {
    (void)admit(h->consumer, h->session);
  } else {
    MQ_CHECK_MSG(false, "the broker receives requests only");
  }
  dispatch_all();
  arm_timer();
}

void BrokerNode::crash() {
  MQ_CHECK(core_.up());
  ++stats_.crashes;
  const Result<Effects> r = execute(op::Crash{});
  MQ_CHECK(r.ok());
  timer_at_.reset();
  ++timer_token_;
}

void BrokerNode::recover() {
  MQ_CHECK(!core_.up());
  const Result<Effects> r = execute(op::Recover{});
  MQ_CHECK(r.ok());
  // Sessions start over: every consumer was detached, and each attaches again with
  // its next packet. Silence is measured from now, not from before the crash.
  for (auto& t : last_heard_) t = queue_.now();
  dispatch_all();
  arm_timer();
}

std::vector<std::string> BrokerNode::describe_live(size_t limit) const {
  std::vector<std::string> out;
  for (const auto& [key, live] : live_) {
    if (out.size() >= limit) break;
    std::string s = "message " + std::to_string(key.second) + " in '" + scenario_.topology.queues[key.first].name +
                    "': last " + effect_kind_name(live.last);
    if (live.consumer != kNoConsumer) s += " (consumer '" + scenario_.topology.consumers[live.consumer].name + "')";
    out.push_back(s + " at " + std::to_string(live.since_ns) + " ns");
  }
  return out;
}

}  // namespace mq::sim
