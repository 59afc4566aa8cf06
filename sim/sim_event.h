#pragma once
// SimEvent: what sits on the simulator's agenda. An Arrival hands a packet to its
// endpoint; a Wake is a timer an actor set for itself (the actor interprets `what`
// and checks `token`, so a timer made stale by later events is ignored rather than
// cancelled).

#include <cstdint>
#include <variant>

#include "sim/event_queue.h"
#include "sim/packet.h"

namespace mq::sim {

// The nemesis (fault injector) is not on the network; its timers use this address.
inline constexpr Endpoint kNemesisEndpoint = UINT32_MAX;
// The simulator's own timers (phase changes).
inline constexpr Endpoint kWorldEndpoint = UINT32_MAX - 1;

struct Arrival {
  Endpoint to = 0;
  Packet packet;
};

struct Wake {
  Endpoint who = 0;
  uint32_t what = 0;
  uint64_t token = 0;
};

using SimEvent = std::variant<Arrival, Wake>;
using SimQueue = EventQueue<SimEvent>;

}  // namespace mq::sim
