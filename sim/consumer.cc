#include "sim/consumer.h"

namespace mq::sim {

Consumer::Consumer(ConsumerId id, const Scenario& scenario, ConsumerParams params, uint64_t master_seed,
                   SimQueue& queue, Network& network, ChoiceSet& choices)
    : id_(id),
      scenario_(scenario),
      params_(params),
      prng_(derive_seed(master_seed, "consumer/" + scenario.topology.consumers[id].name)),
      queue_(queue),
      network_(network),
      choices_(choices),
      auto_ack_(scenario.topology.consumers[id].ack_mode == AckMode::kAuto),
      pulls_(scenario.clients.pulls(id)) {}

Endpoint Consumer::self() const { return consumer_endpoint(scenario_.topology.producers.size(), id_); }

void Consumer::ask(impl::Request r) {
  network_.send(self(), kBrokerEndpoint, Request{connection(self(), session_), std::move(r)});
}

impl::ConsumerRef Consumer::me() const {
  return impl::ConsumerRef{id_, session_, pulls_ ? impl::SessionMode::kPull : impl::SessionMode::kPush};
}

void Consumer::start() {
  queue_.push(queue_.now() + scenario_.clients.heartbeat_ns, Wake{self(), kHeartbeat, 0});
  if (scenario_.clients.fetch_interval_ns > 0 && !pulls_) {
    queue_.push(queue_.now() + scenario_.clients.fetch_interval_ns, Wake{self(), kFetch, 0});
  }
  if (scenario_.clients.stats_interval_ns > 0) {
    queue_.push(queue_.now() + scenario_.clients.stats_interval_ns, Wake{self(), kStats, 0});
  }
  pull();
}

// A pull session's next fetch, when it has nothing to work on and none is out.
void Consumer::pull() {
  if (!pulls_ || !alive_ || fetching_ || busy_ || !inbox_.empty()) return;
  fetching_ = true;
  ++stats_.fetches;
  const ClientConfig& c = scenario_.clients;
  ask(impl::req::Fetch{me(), c.fetch_max, c.fetch_block_ns});
  queue_.push(queue_.now() + c.fetch_block_ns + c.ack_timeout_ns, Wake{self(), kPullTimeout, ++fetch_token_});
}

void Consumer::on_fetch_reply(const FetchReply& reply) {
  if (reply.session != session_ || !fetching_) {
    ++stats_.stale_pushes;  // an answer to an earlier life, or to a fetch given up
    return;
  }
  fetching_ = false;
  ++fetch_token_;
  ++stats_.fetch_replies;
  for (const Message& m : reply.messages) {
    ++stats_.received;
    if (inbox_.size() >= kMaxInbox) {
      ++stats_.inbox_overflow;
      continue;
    }
    inbox_.push_back(m);
  }
  if (reply.messages.empty() && scenario_.clients.fetch_block_ns == 0) {
    queue_.push(queue_.now() + kEmptyFetchGapNs, Wake{self(), kPull, fetch_token_});
    return;
  }
  process_next();
  pull();
}

void Consumer::ask_stats() {
  ++stats_.stats_requests;
  // Every other one asks for INFO. The answers are for people: the broker node drops them.
  if (stats_.stats_requests % 2 == 0) return ask(impl::req::Info{});
  ask(impl::req::Stats{scenario_.topology.queue_of(id_)});
}

void Consumer::receive(const Packet& packet) {
  if (!alive_) return;
  if (const auto* reply = std::get_if<AckReply>(&packet)) {
    pending_.erase(reply->id);
    return;
  }
  if (const auto* fetched = std::get_if<FetchReply>(&packet)) return on_fetch_reply(*fetched);
  const auto* push = std::get_if<Push>(&packet);
  MQ_CHECK_MSG(push != nullptr, "a consumer receives pushes, fetch replies and ack replies only");
  if (push->session != session_) {
    ++stats_.stale_pushes;  // delivered to an earlier life; the broker takes it back
    return;
  }
  ++stats_.received;
  if (inbox_.size() >= kMaxInbox) {
    ++stats_.inbox_overflow;
    return;
  }
  inbox_.push_back(push->message);
  if (!busy_) process_next();
}

void Consumer::process_next() {
  if (busy_ || inbox_.empty()) return;
  busy_ = true;
  working_ = std::move(inbox_.front());
  inbox_.pop_front();
  const TimeNs work = scenario_.clients.process_ns.draw(prng_) * params_.slow_factor;
  queue_.push(queue_.now() + work, Wake{self(), kProcessed, ++work_token_});
}

// Draws in a fixed order whatever the outcome: fails?, then requeue?.
void Consumer::finish_processing() {
  busy_ = false;
  ++stats_.processed;
  const bool drawn_fail = prng_.chance_ppm(params_.nack_ppm);
  const bool dead_letter = prng_.chance_ppm(params_.dead_letter_ppm);
  if (!auto_ack_) {
    const bool fails = drawn_fail && choices_.allow(choice_key(ChoiceKind::kNack, id_,
                                                               static_cast<uint32_t>(stats_.processed)));
    PendingAck& p = pending_[working_.id];
    p = PendingAck{fails, !dead_letter, 0, 0};
    if (fails) ++stats_.nacks; else ++stats_.acks;
    send_ack(working_.id);
  }
  process_next();
  pull();
}

void Consumer::send_ack(MessageId id) {
  PendingAck& p = pending_.at(id);
  ++p.sends;
  if (p.sends > 1) ++stats_.ack_resends;
  p.token = ++ack_token_;
  ask(impl::req::Settle{me(), id, p.nack, p.requeue});
  queue_.push(queue_.now() + scenario_.clients.ack_timeout_ns, Wake{self(), kAckTimeout, p.token});
}

void Consumer::on_ack_timeout(uint64_t token) {
  for (auto& [id, p] : pending_) {
    if (p.token != token) continue;
    if (p.sends < scenario_.clients.max_ack_sends) {
      send_ack(id);
    } else {
      ++stats_.ack_give_ups;
      pending_.erase(id);
    }
    return;
  }
}

void Consumer::wake(uint32_t what, uint64_t token) {
  if (what == kHeartbeat) {
    queue_.push(queue_.now() + scenario_.clients.heartbeat_ns, Wake{self(), kHeartbeat, 0});
    if (alive_) ask(impl::req::Hello{me()});
    return;
  }
  if (what == kFetch) {
    queue_.push(queue_.now() + scenario_.clients.fetch_interval_ns, Wake{self(), kFetch, 0});
    if (alive_ && !busy_ && inbox_.empty()) {
      ++stats_.fetches;
      ask(impl::req::Fetch{me(), 1, 0});
    }
    return;
  }
  if (what == kStats) {
    queue_.push(queue_.now() + scenario_.clients.stats_interval_ns, Wake{self(), kStats, 0});
    if (alive_) ask_stats();
    return;
  }
  if (!alive_) return;
  if (what == kPull) {
    if (token == fetch_token_) pull();
    return;
  }
  if (what == kPullTimeout) {
    if (token != fetch_token_ || !fetching_) return;
    ++stats_.fetch_give_ups;
    fetching_ = false;
    pull();
    return;
  }
  if (what == kProcessed) {
    if (token == work_token_ && busy_) finish_processing();
    return;
  }
  MQ_CHECK(what == kAckTimeout);
  on_ack_timeout(token);
}

void Consumer::crash() {
  MQ_CHECK(alive_);
  alive_ = false;
  ++stats_.crashes;
  inbox_.clear();
  pending_.clear();
  busy_ = false;
  ++work_token_;
  fetching_ = false;
  ++fetch_token_;
  if (scenario_.clients.close_on_crash) {
    network_.send(self(), kBrokerEndpoint, Close{connection(self(), session_)});
  }
}

void Consumer::restart() {
  MQ_CHECK(!alive_);
  alive_ = true;
  ++session_;
  ask(impl::req::Hello{me()});
  pull();
}

void Consumer::heal() {
  params_.nack_ppm = 0;
  params_.slow_factor = 1;
}

}  // namespace mq::sim
