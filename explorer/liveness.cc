// The only translation unit that instantiates Boost.Graph's strong_components.
#include "explorer/liveness.h"

#include <algorithm>
#include <boost/graph/graph_traits.hpp>
#include <boost/graph/strong_components.hpp>
#include <boost/iterator/counting_iterator.hpp>
#include <boost/iterator/iterator_facade.hpp>
#include <boost/property_map/property_map.hpp>
#include <deque>
#include <map>

// StateGraph as a Boost.Graph (IncidenceGraph and VertexListGraph), read in place:
// strong_components runs on the explorer's own arrays instead of a copy of them.
namespace mq::explorer {

struct GraphEdge {
  uint32_t from;
  uint64_t index;  // in the graph's edge arrays
  friend bool operator==(const GraphEdge&, const GraphEdge&) = default;
};

class OutEdgeIterator : public boost::iterator_facade<OutEdgeIterator, GraphEdge,
                                                      boost::random_access_traversal_tag, GraphEdge> {
 public:
  OutEdgeIterator() = default;
  OutEdgeIterator(uint32_t from, uint64_t index) : edge_{from, index} {}

 private:
  friend class boost::iterator_core_access;
  GraphEdge dereference() const { return edge_; }
  bool equal(const OutEdgeIterator& o) const { return edge_.index == o.edge_.index; }
  void increment() { ++edge_.index; }
  void decrement() { --edge_.index; }
  void advance(std::ptrdiff_t n) { edge_.index += n; }
  std::ptrdiff_t distance_to(const OutEdgeIterator& o) const {
    return static_cast<std::ptrdiff_t>(o.edge_.index - edge_.index);
  }
  GraphEdge edge_{0, 0};
};

}  // namespace mq::explorer

namespace boost {

struct state_graph_traversal_tag : vertex_list_graph_tag, incidence_graph_tag {};

template <>
struct graph_traits<mq::explorer::StateGraph> {
  using vertex_descriptor = uint32_t;
  using edge_descriptor = mq::explorer::GraphEdge;
  using out_edge_iterator = mq::explorer::OutEdgeIterator;
  using vertex_iterator = counting_iterator<uint32_t>;
  using adjacency_iterator = void;
  using in_edge_iterator = void;
  using edge_iterator = void;
  using directed_category = directed_tag;
  using edge_parallel_category = allow_parallel_edge_tag;
  using traversal_category = state_graph_traversal_tag;
  using vertices_size_type = uint32_t;
  using edges_size_type = uint64_t;
  using degree_size_type = uint64_t;
  static vertex_descriptor null_vertex() { return UINT32_MAX; }
};

}  // namespace boost

namespace mq::explorer {

// Found by argument-dependent lookup from Boost's algorithms.
inline std::pair<boost::counting_iterator<uint32_t>, boost::counting_iterator<uint32_t>> vertices(
    const StateGraph& g) {
  return {boost::counting_iterator<uint32_t>(0), boost::counting_iterator<uint32_t>(g.states())};
}
inline uint32_t num_vertices(const StateGraph& g) {
  return g.states();
}
inline std::pair<OutEdgeIterator, OutEdgeIterator> out_edges(uint32_t v, const StateGraph& g) {
  return {OutEdgeIterator(v, g.first(v)), OutEdgeIterator(v, g.first(v + 1))};
}
inline uint64_t out_degree(uint32_t v, const StateGraph& g) {
  return g.first(v + 1) - g.first(v);
}
inline uint32_t source(const GraphEdge& e, const StateGraph&) {
  return e.from;
}
inline uint32_t target(const GraphEdge& e, const StateGraph& g) {
  return g.target(e.index);
}

namespace {

inline constexpr int kMaxFairnessRounds = 32;
inline constexpr uint32_t kUnset = UINT32_MAX;

// Each state's component (Boost.Graph's Tarjan); `count` gets the number of components.
std::vector<uint32_t> strong_components(const StateGraph& g, uint32_t& count) {
  std::vector<uint32_t> component(g.states());
  count = static_cast<uint32_t>(boost::strong_components(
      g, boost::make_iterator_property_map(component.begin(), boost::typed_identity_property_map<uint32_t>()),
      boost::vertex_index_map(boost::typed_identity_property_map<uint32_t>())));
  return component;
}

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

// The labelled edges of the states that lie on cycles (in components of two or more
// states), indexed compactly: the other states need none.
struct CycleEdges {
  std::vector<uint32_t> local;  // [state] index into `out`, or kUnset
  std::vector<std::vector<Out>> out;
  const std::vector<Out>& operator[](uint32_t s) const { return out[local[s]]; }
};

class Component {
 public:
  Component(std::vector<uint32_t> members, const CycleEdges& out)
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
  const CycleEdges& out_;
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

namespace {

// The components of two or more states, each with its members in state order, the
// components in order of their earliest state, so that the prefix found is short.
std::vector<std::vector<uint32_t>> cyclic_components(const StateGraph& graph) {
  uint32_t count = 0;
  const std::vector<uint32_t> component = strong_components(graph, count);
  std::vector<uint32_t> size(count, 0);
  for (uint32_t c : component) ++size[c];
  std::vector<uint32_t> rank(count, kUnset);  // [component] its place in the result
  std::vector<std::vector<uint32_t>> members;
  for (uint32_t v = 0; v < graph.states(); ++v) {
    const uint32_t c = component[v];
    if (size[c] < 2) continue;
    if (rank[c] == kUnset) {
      rank[c] = static_cast<uint32_t>(members.size());
      members.emplace_back().reserve(size[c]);
    }
    members[rank[c]].push_back(v);
  }
  return members;
}

CycleEdges cycle_edges(const StateGraph& graph, const std::vector<std::vector<uint32_t>>& members,
                       const std::function<std::vector<Op>(uint32_t)>& ops_of) {
  CycleEdges edges;
  edges.local.assign(graph.states(), kUnset);
  for (const auto& m : members) {
    for (uint32_t v : m) {
      edges.local[v] = static_cast<uint32_t>(edges.out.size());
      auto& out = edges.out.emplace_back();
      if (graph.first(v) == graph.first(v + 1)) continue;
      const auto ops = ops_of(v);
      for (uint64_t e = graph.first(v); e < graph.first(v + 1); ++e)
        out.push_back({graph.target(e), graph.via(e), fair_label(ops[graph.via(e)])});
    }
  }
  return edges;
}

}  // namespace

std::optional<FairCycle> find_fair_stuck_cycle(
    const StateGraph& graph, const std::function<std::vector<Op>(uint32_t)>& ops_of,
    const std::function<std::set<std::string>(uint32_t)>& pending) {
  const std::vector<std::vector<uint32_t>> members = cyclic_components(graph);
  const CycleEdges out = cycle_edges(graph, members, ops_of);
  for (const auto& m : members) {
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
