#include "sim/producer.h"

#include <algorithm>

#include "sim/translate.h"

namespace mq::sim {

Producer::Producer(ProducerId id, const Scenario& scenario, uint64_t messages, uint64_t master_seed,
                   SimQueue& queue, Network& network, ChoiceSet& choices)
    : id_(id), scenario_(scenario), total_(messages),
      workload_(derive_seed(master_seed, "workload/" + scenario.topology.producers[id].name)),
      options_(derive_seed(master_seed, "options/" + scenario.topology.producers[id].name)),
      prng_(derive_seed(master_seed, "producer/" + scenario.topology.producers[id].name)), queue_(queue),
      network_(network), choices_(choices), malformed_fields_(malformed_fields(scenario)) {
  for (const auto& t : scenario.workload.targets) weight_sum_ += t.weight;
  MQ_CHECK(weight_sum_ > 0);
}

void Producer::start() {
  if (total_ == 0) return;
  queue_.push(queue_.now() + scenario_.workload.send_gap_ns.draw(prng_), Wake{self(), kNext, 0});
}

Priority Producer::max_priority(const Target& t) const {
  const auto& queues = scenario_.topology.queues;
  if (!t.topic) return static_cast<Priority>(queues[t.index].priority_levels - 1);
  uint32_t levels = 256;
  for (QueueId q : scenario_.topology.queues_of(t.index)) levels = std::min(levels, queues[q].priority_levels);
  return static_cast<Priority>(levels - 1);
}

// Draws in a fixed order, whatever the values: target, payload, priority, TTL, delay.
Producer::Current Producer::next_message() {
  const Workload& w = scenario_.workload;
  uint64_t pick = workload_.uniform(weight_sum_);
  size_t k = 0;
  for (; k + 1 < w.targets.size() && pick >= w.targets[k].weight; ++k) pick -= w.targets[k].weight;
  const Target& t = w.targets[k];
  Current c{t.topic, t.index, {}, 0};
  c.spec.id = (static_cast<uint64_t>(id_ + 1) << 32) | (stats_.generated + 1);
  const auto bytes = static_cast<size_t>(w.payload_bytes.draw(workload_));
  for (size_t i = 0; i < bytes; ++i) c.spec.payload.push_back(static_cast<char>('a' + workload_.uniform(26)));
  const auto priority = w.priority.draw(workload_);
  c.spec.priority = static_cast<Priority>(std::min<int64_t>(priority, max_priority(t)));
  const bool ttl = workload_.chance_ppm(w.ttl_ppm);
  const TimeNs ttl_ns = w.ttl_ns.draw(workload_);
  const bool delay = workload_.chance_ppm(w.delay_ppm);
  const TimeNs delay_ns = w.delay_ns.draw(workload_);
  c.spec.ttl_ns = ttl ? ttl_ns : 0;
  c.spec.delay_ns = delay ? delay_ns : 0;
  if (scenario_.clients.resp) {  // RESP's TTL and DELAY are whole milliseconds
    c.spec.ttl_ns = whole_ms(c.spec.ttl_ns);
    c.spec.delay_ns = whole_ms(c.spec.delay_ns);
  }
  // From the options stream, in a fixed order too: own retries, their number,
  // malformed, which field.
  const bool own_retries = options_.chance_ppm(w.retries_ppm);
  const auto retries = static_cast<uint32_t>(w.retries.draw(options_));
  const bool malformed = options_.chance_ppm(w.invalid_ppm);
  const MalformedField field = malformed_fields_[options_.uniform(malformed_fields_.size())];
  if (own_retries) c.spec.max_retries = retries;
  if (malformed && make_malformed(t, field, c.spec)) ++stats_.malformed;
  ++stats_.generated;
  return c;
}

bool Producer::make_malformed(const Target& t, MalformedField field, MessageSpec& spec) const {
  switch (field) {
    case MalformedField::kPriority: {
      const Priority top = max_priority(t);
      if (top == 255) return false;  // a target with 256 levels has no priority above them
      spec.priority = static_cast<Priority>(top + 1);
      return true;
    }
    case MalformedField::kTtl: spec.ttl_ns = -1; return true;
    case MalformedField::kDelay: spec.delay_ns = -1; return true;
  }
  MQ_CHECK_MSG(false, "not a malformed field");
  return false;
}

void Producer::send_current() {
  MQ_CHECK(current_);
  ++current_->attempt;
  ++stats_.attempts;
  if (current_->attempt > 1) ++stats_.resends;
  network_.send(self(), kBrokerEndpoint,
                Request{connection(self(), 0),
                        impl::req::Publish{id_, current_->topic, current_->target, to_core(current_->spec)}});
  queue_.push(queue_.now() + scenario_.clients.publish_timeout_ns, Wake{self(), kTimeout, ++token_});
}

void Producer::finish_current() {
  current_.reset();
  ++token_;  // the pending timeout is stale now
  if (stats_.generated < total_) {
    queue_.push(queue_.now() + scenario_.workload.send_gap_ns.draw(prng_), Wake{self(), kNext, 0});
  }
}

void Producer::wake(uint32_t what, uint64_t token) {
  if (what == kNext) {
    MQ_CHECK(!current_ && stats_.generated < total_);
    current_ = next_message();
    if (!choices_.allow(choice_key(ChoiceKind::kMessage, id_, static_cast<uint32_t>(stats_.generated)))) {
      ++stats_.skipped;
      finish_current();
      return;
    }
    send_current();
    return;
  }
  if (token != token_ || !current_) return;  // answered meanwhile
  send_current();  // a timeout, or the end of a backoff: resend, same id
}

void Producer::receive(const Packet& packet) {
  const auto* reply = std::get_if<PublishReply>(&packet);
  MQ_CHECK_MSG(reply != nullptr, "a producer receives publish replies only");
  if (!current_ || reply->id != current_->spec.id) return;  // a late reply to a finished message
  switch (reply->outcome) {
    case PublishOutcome::kDuplicate: ++stats_.duplicates; [[fallthrough]];
    case PublishOutcome::kAccepted: ++stats_.confirmed; break;
    case PublishOutcome::kError: ++stats_.given_up; break;
    case PublishOutcome::kNoSpace:
      ++stats_.no_space;
      [[fallthrough]];
    case PublishOutcome::kFull:
      ++stats_.full_backoffs;
      queue_.push(queue_.now() + scenario_.clients.full_backoff_ns.draw(prng_), Wake{self(), kBackoff, ++token_});
      return;
  }
  finish_current();
}

}  // namespace mq::sim
