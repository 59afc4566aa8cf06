// The only translation unit that instantiates Boost.Graph's strong_components.
#include "explorer/liveness.h"

#include <algorithm>
#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/strong_components.hpp>
#include <deque>
#include <map>

namespace mq::explorer {
namespace {

// Compressed sparse rows, built in place from the explorer's edges, which come sorted
// by source (breadth-first order): two arrays, no allocation per state.
using Graph = boost::compressed_sparse_row_graph<boost::directedS, boost::no_property, boost::no_property,
                                                 boost::no_property, uint32_t, uint32_t>;

inline constexpr int kMaxFairnessRounds = 32;

struct Out {
  uint32_t to;
  uint16_t via;
  std::string label;  // fair label, or "" for an unfair action
};

std::set<std::string> intersect(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.begin()));
  return out;
}

class Component {
 public:
  Component(std::vector<uint32_t> members, const std::vector<std::vector<Out>>& out)
      : members_(std::move(members)), in_(members_.begin(), members_.end()), out_(out) {}

  // Fair labels enabled in every state of `states`.
  std::set<std::string> always_enabled(const std::vector<uint32_t>& states) const {
    std::set<std::string> acc;
    bool first = true;
    for (uint32_t s : states) {
      std::set<std::string> here;
      for (const auto& e : out_[s])
        if (!e.label.empty()) here.insert(e.label);
      acc = first ? here : intersect(acc, here);
      first = false;
    }
    return acc;
  }
  std::set<std::string> taken_inside() const {
    std::set<std::string> taken;
    for (uint32_t s : members_) {
      for (const auto& e : out_[s])
        if (in_.count(e.to) && !e.label.empty()) taken.insert(e.label);
    }
    return taken;
  }
  // Shortest path inside the component from `from` to a state satisfying `goal`,
  // then (if `label` is set) the edge with that label. Appends to walk; returns the end.
  uint32_t go(uint32_t from, const std::string& label, uint32_t target,
              std::vector<std::pair<uint32_t, uint16_t>>& walk) const;
  // A closed walk from the first member that takes every label in `required`.
  std::vector<std::pair<uint32_t, uint16_t>> closed_walk(const std::set<std::string>& required) const {
    std::vector<std::pair<uint32_t, uint16_t>> walk;
    uint32_t at = members_.front();
    for (const auto& label : required) at = go(at, label, UINT32_MAX, walk);
    go(at, "", members_.front(), walk);
    if (walk.empty()) go(at, "", UINT32_MAX - 1, walk);  // at least one step
    return walk;
  }
  const std::vector<uint32_t>& members() const { return members_; }

 private:
  std::vector<uint32_t> members_;
  std::set<uint32_t> in_;
  const std::vector<std::vector<Out>>& out_;
};

// target == UINT32_MAX: find an edge labelled `label`; UINT32_MAX - 1: take any edge
// and come back to `from`; else reach `target` (zero steps if already there).
uint32_t Component::go(uint32_t from, const std::string& label, uint32_t target,
                       std::vector<std::pair<uint32_t, uint16_t>>& walk) const {
  if (target == from) return from;
  std::map<uint32_t, std::pair<uint32_t, uint16_t>> came;  // state -> (previous, via)
  std::deque<uint32_t> frontier{from};
  std::optional<std::pair<uint32_t, const Out*>> found;
  came[from] = {from, 0};
  for (size_t guard = 0; !frontier.empty() && !found && guard <= members_.size(); ++guard) {
    const uint32_t s = frontier.front();
    frontier.pop_front();
    for (const auto& e : out_[s]) {
      if (!in_.count(e.to)) continue;
      if (target == UINT32_MAX && e.label == label) {
        found = {s, &e};
        break;
      }
      if ((target == UINT32_MAX - 1 && e.to == from) || e.to == target) {
        found = {s, &e};
        break;
      }
      if (!came.count(e.to)) {
        came[e.to] = {s, e.via};
        frontier.push_back(e.to);
      }
    }
  }
  MQ_CHECK_MSG(found.has_value(), "liveness: component is not strongly connected");
  std::vector<std::pair<uint32_t, uint16_t>> path;
  path.emplace_back(found->second->to, found->second->via);
  for (uint32_t s = found->first; s != from; s = came[s].first) path.emplace_back(s, came[s].second);
  walk.insert(walk.end(), path.rbegin(), path.rend());
  return found->second->to;
}

}  // namespace

std::set<std::string> pending_messages(const SearchNode& node) {
  std::set<std::string> out;
  const auto& wiring = *node.model.wiring();
  for (QueueId q = 0; q < node.model.state().queues.size(); ++q) {
    if (wiring.consumers_of_queue[q].empty()) continue;
    const QueueState& qs = node.model.state().queues[q];
    const std::string name = "queue '" + wiring.topology.queues[q].name + "' #";
    for (const auto& level : qs.ready)
      for (const auto& m : level) out.insert(name + std::to_string(m.id));
    for (const auto& f : qs.in_flight) out.insert(name + std::to_string(f.message.id));
  }
  return out;
}

std::optional<FairCycle> find_fair_stuck_cycle(
    const LivenessGraph& graph, const std::function<std::vector<Op>(uint32_t)>& ops_of,
    const std::function<std::set<std::string>(uint32_t)>& pending) {
  MQ_CHECK(std::is_sorted(graph.edges.begin(), graph.edges.end(),
                          [](const auto& a, const auto& b) { return a.first < b.first; }));
  const Graph g(boost::edges_are_sorted, graph.edges.begin(), graph.edges.end(), graph.states);
  std::vector<uint32_t> component(graph.states);
  const auto count = boost::strong_components(
      g, boost::make_iterator_property_map(component.begin(), get(boost::vertex_index, g)));
  std::vector<std::vector<uint32_t>> members(count);
  for (uint32_t v = 0; v < graph.states; ++v) members[component[v]].push_back(v);
  // Components in order of their earliest state, so the prefix found is short.
  std::sort(members.begin(), members.end(),
            [](const auto& a, const auto& b) { return a.front() < b.front(); });

  std::vector<std::vector<Out>> out(graph.states);
  std::vector<uint8_t> in_cycle(graph.states, 0);
  for (const auto& m : members)
    if (m.size() > 1)
      for (uint32_t v : m) in_cycle[v] = 1;
  for (size_t e = 0; e < graph.edges.size(); ++e) {
    const uint32_t from = graph.edges[e].first;
    if (!in_cycle[from]) continue;
    out[from].push_back({graph.edges[e].second, graph.via[e], ""});
  }
  for (uint32_t v = 0; v < graph.states; ++v) {
    if (out[v].empty()) continue;
    const auto ops = ops_of(v);
    for (auto& e : out[v]) e.label = fair_label(ops[e.via]);
  }
  for (const auto& m : members) {
    if (m.size() < 2) continue;
    std::set<std::string> stuck = pending(m.front());
    for (size_t i = 1; i < m.size() && !stuck.empty(); ++i) stuck = intersect(stuck, pending(m[i]));
    if (stuck.empty()) continue;
    Component c(m, out);
    std::set<std::string> required = c.always_enabled(m);
    const auto taken = c.taken_inside();
    if (!std::includes(taken.begin(), taken.end(), required.begin(), required.end())) continue;
    // A closed walk taking every required action; the walk's own states may leave
    // more actions always enabled, so widen until it is fair on its own.
    auto walk = c.closed_walk(required);
    for (int round = 0; round < kMaxFairnessRounds; ++round) {
      std::vector<uint32_t> states{m.front()};
      for (const auto& step : walk) states.push_back(step.first);
      std::set<std::string> walk_taken;
      uint32_t at = m.front();
      for (const auto& [to, via] : walk) {
        for (const auto& e : out[at])
          if (e.to == to && e.via == via) walk_taken.insert(e.label);
        at = to;
      }
      std::set<std::string> need = c.always_enabled(states);
      if (std::includes(walk_taken.begin(), walk_taken.end(), need.begin(), need.end())) break;
      required.insert(need.begin(), need.end());
      walk = c.closed_walk(required);
    }
    return FairCycle{m.front(), std::move(walk), *stuck.begin()};
  }
  return std::nullopt;
}

}  // namespace mq::explorer
