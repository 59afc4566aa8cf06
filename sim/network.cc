#include "sim/network.h"

#include <algorithm>

namespace mq::sim {

Network::Network(const NetworkConfig& config, NetworkParams params, uint64_t seed, SimQueue& queue,
                 uint32_t clients, ChoiceSet& choices)
    : config_(config), params_(params), prng_(seed), queue_(queue), cut_(clients + 1, false),
      clogged_until_(clients + 1, 0), choices_(choices), packets_(2 * (clients + 1), 0) {}

TimeNs Network::latency() {
  if (params_.slow_ppm > 0 && prng_.chance_ppm(params_.slow_ppm)) return config_.slow_latency_ns.draw(prng_);
  return config_.latency_ns.draw(prng_);
}

void Network::send(Endpoint from, Endpoint to, Packet packet) {
  MQ_CHECK((from == kBrokerEndpoint) != (to == kBrokerEndpoint));
  const Endpoint client = from == kBrokerEndpoint ? to : from;
  MQ_CHECK(client < cut_.size());
  ++stats_.sent;
  if (cut_[client]) {
    ++stats_.partitioned;
    return;
  }
  // Draws happen in a fixed order whatever the outcome, so that one packet's fate
  // does not shift the draws of the next.
  const bool lose = prng_.chance_ppm(params_.loss_ppm);
  const bool twice = prng_.chance_ppm(params_.duplicate_ppm);
  const uint32_t link = 2 * client + (from == kBrokerEndpoint ? 1 : 0);
  const uint32_t packet_no = ++packets_[link];
  if (lossy_ && lose && choices_.allow(choice_key(ChoiceKind::kLoss, link, packet_no))) {
    ++stats_.lost;
    return;
  }
  const TimeNs now = queue_.now();
  TimeNs start = now;
  if (clogged_until_[client] > now) {
    ++stats_.clogged;
    start = clogged_until_[client];
  }
  if (lossy_ && twice && choices_.allow(choice_key(ChoiceKind::kDuplicate, link, packet_no))) {
    ++stats_.duplicated;
    queue_.push(start + latency(), Arrival{to, packet});
  }
  queue_.push(start + latency(), Arrival{to, std::move(packet)});
}

void Network::set_partitioned(Endpoint client, bool cut) {
  MQ_CHECK(client > 0 && client < cut_.size());
  cut_[client] = cut;
}

void Network::clog_until(Endpoint client, TimeNs until_ns) {
  MQ_CHECK(client > 0 && client < clogged_until_.size());
  clogged_until_[client] = std::max(clogged_until_[client], until_ns);
}

void Network::heal_all() {
  std::fill(cut_.begin(), cut_.end(), false);
  // A clog already applied to packets in flight stays (they are on their way); no new
  // packet is held from now on.
  std::fill(clogged_until_.begin(), clogged_until_.end(), 0);
  lossy_ = false;
}

}  // namespace mq::sim
