// The only translation unit with Boost.Graph templates (they are slow to compile).
#include "properties/checkers/order.h"

#include <algorithm>
#include <map>
#include <numeric>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>

#include "properties/checkers/history_index.h"

namespace mq {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using Edge = boost::graph_traits<Graph>::edge_descriptor;

// A first-delivered message with pinned-down readiness.
struct Node {
  MessageKey key;
  size_t ready_lo = kNoEvent;  // it cannot have been ready before this event
  size_t ready_hi = kNoEvent;  // it surely was ready after this event
  size_t delivered = kNoEvent; // its first delivery
};

struct Group {
  std::string queue;
  Priority priority = 0;
  std::vector<Node> nodes;
};

std::vector<Group> collect(const HistoryIndex& index) {
  std::map<MessageKey, size_t> first_delivery;
  std::map<MessageKey, size_t> release;
  for (size_t i = 0; i < index.size(); ++i) {
    const HistoryEvent& e = index.at(i);
    if (e.type != EventType::kOk || !e.id) continue;
    if (e.f == EventF::kDeliver) first_delivery.try_emplace(key_of(e), i);
    if (e.f == EventF::kRelease) release.try_emplace(key_of(e), i);
  }
  std::map<std::pair<std::string, Priority>, std::vector<Node>> groups;
  for (const auto& [k, d] : first_delivery) {
    const PublishRecord* r = index.publish_before(k, d);
    if (r == nullptr || r->outcome != EventType::kOk) continue;
    Node n{k, r->start, r->end, d};
    if (r->delayed()) {
      const auto rel = release.find(k);
      if (rel == release.end() || rel->second < r->start) continue;
      n.ready_lo = n.ready_hi = rel->second;
    }
    groups[{k.queue, r->priority}].push_back(n);
  }
  std::vector<Group> out;
  for (auto& [qp, nodes] : groups) out.push_back(Group{qp.first, qp.second, std::move(nodes)});
  return out;
}

// Vertices 0..n-1 are messages; n..2n-1 are time nodes, one per message in order of
// ready_hi: message a -> time(a) -> time(next) ... -> b whenever a.ready_hi < b.ready_lo.
Graph build(const std::vector<Node>& nodes) {
  const size_t n = nodes.size();
  Graph g(2 * n);
  std::vector<size_t> by_hi(n);
  std::iota(by_hi.begin(), by_hi.end(), size_t{0});
  std::stable_sort(by_hi.begin(), by_hi.end(), [&](size_t a, size_t b) { return nodes[a].ready_hi < nodes[b].ready_hi; });
  for (size_t rank = 0; rank < n; ++rank) {
    boost::add_edge(by_hi[rank], n + rank, g);
    if (rank + 1 < n) boost::add_edge(n + rank, n + rank + 1, g);
  }
  for (size_t b = 0; b < n; ++b) {
    // The last time node whose message was surely ready before b could be.
    const auto it = std::partition_point(by_hi.begin(), by_hi.end(),
                                         [&](size_t a) { return nodes[a].ready_hi < nodes[b].ready_lo; });
    if (it != by_hi.begin()) boost::add_edge(n + static_cast<size_t>(it - by_hi.begin()) - 1, b, g);
  }
  std::vector<size_t> by_delivery(n);
  std::iota(by_delivery.begin(), by_delivery.end(), size_t{0});
  std::sort(by_delivery.begin(), by_delivery.end(),
            [&](size_t a, size_t b) { return nodes[a].delivered < nodes[b].delivered; });
  for (size_t k = 0; k + 1 < n; ++k) boost::add_edge(by_delivery[k], by_delivery[k + 1], g);
  return g;
}

// Records the DFS tree and the first back edge: a back edge closes a cycle.
struct CycleFinder : boost::default_dfs_visitor {
  std::vector<Vertex>* parent;
  std::optional<std::pair<Vertex, Vertex>>* back;
  void tree_edge(Edge e, const Graph& g) const { (*parent)[boost::target(e, g)] = boost::source(e, g); }
  void back_edge(Edge e, const Graph& g) const {
    if (!*back) *back = std::make_pair(boost::source(e, g), boost::target(e, g));
  }
};

// The cycle closed by back edge u -> v, as the vertices v ... u.
std::optional<std::vector<Vertex>> find_cycle(const Graph& g) {
  std::vector<Vertex> parent(boost::num_vertices(g));
  std::optional<std::pair<Vertex, Vertex>> back;
  boost::depth_first_search(g, boost::visitor(CycleFinder{{}, &parent, &back}));
  if (!back) return std::nullopt;
  std::vector<Vertex> cycle{back->first};
  // Bounded: the tree path from u up to its ancestor v has at most |V| vertices.
  for (size_t steps = 0; cycle.back() != back->second; ++steps) {
    MQ_CHECK(steps < boost::num_vertices(g));
    cycle.push_back(parent[cycle.back()]);
  }
  std::reverse(cycle.begin(), cycle.end());
  return cycle;
}

// A cycle mixes "ready before" paths (through time nodes) with "delivered before"
// edges; since delivery order is total, some ready-before pair a, b in it has b
// delivered first. That pair is the witness.
Verdict witness(const HistoryIndex& index, const Group& group, const std::vector<Vertex>& cycle) {
  const size_t n = group.nodes.size();
  for (size_t i = 0; i < cycle.size(); ++i) {
    if (cycle[i] >= n || cycle[(i + 1) % cycle.size()] < n) continue;  // a message, then a time node
    size_t j = i + 1;
    while (cycle[j % cycle.size()] >= n) ++j;  // bounded by the cycle's length
    const Node& a = group.nodes[cycle[i]];
    const Node& b = group.nodes[cycle[j % cycle.size()]];
    if (b.delivered > a.delivered) continue;
    return fail(kOrder, "FIFO broken in '" + group.queue + "' at priority " + std::to_string(group.priority) +
                            ": message " + std::to_string(a.key.id) + " was ready (" + where(index.at(a.ready_hi)) +
                            ") before message " + std::to_string(b.key.id) + " was published (" +
                            where(index.at(b.ready_lo)) + "), but was first delivered after it",
                {index.at(a.ready_hi), index.at(b.ready_lo), index.at(b.delivered), index.at(a.delivered)});
  }
  MQ_CHECK_MSG(false, "a precedence cycle without a ready-before/delivered-after pair");
}

}  // namespace

Verdict check_order(const History& history) {
  const HistoryIndex index(history);
  size_t judged = 0;
  for (const Group& group : collect(index)) {
    judged += group.nodes.size();
    const Graph g = build(group.nodes);
    if (auto cycle = find_cycle(g)) return witness(index, group, *cycle);
  }
  return pass(kOrder, std::to_string(judged) + " first deliveries, in FIFO order per queue and priority");
}

}  // namespace mq
