#include "properties/explorer/explorer.h"

#include <sstream>

#include "properties/explorer/liveness.h"
#include "properties/explorer/search_node.h"
#include "properties/explorer/visited_set.h"

namespace mq {

using explorer::SearchNode;

namespace {

inline constexpr uint64_t kProgressEvery = 1 << 16;

// The config with menu ids 1..n (the "sent" bit of message i is bit i).
ExploreConfig normalized(ExploreConfig c) {
  for (size_t i = 0; i < c.messages.size(); ++i) {
    c.messages[i].spec.id = i + 1;
    if (c.messages[i].spec.payload.empty()) c.messages[i].spec.payload = "m" + std::to_string(i + 1);
  }
  return c;
}

// A breadth-first layer of full states, encoded back to back.
struct Layer {
  uint32_t first = 0;  // index of its first state
  std::string bytes;
  std::vector<size_t> ends;  // end offset of each state in `bytes`

  size_t size() const { return ends.size(); }
  std::string_view at(size_t k) const {
    const size_t begin = k == 0 ? 0 : ends[k - 1];
    return std::string_view(bytes).substr(begin, ends[k] - begin);
  }
  void clear(uint32_t new_first) {
    first = new_first;
    bytes.clear();
    ends.clear();
  }
  uint64_t memory_bytes() const { return bytes.capacity() + ends.capacity() * sizeof(size_t); }
};

class Search {
 public:
  Search(const ExploreConfig& config, const ApplyFn& apply, const ProgressFn& progress)
      : config_(normalized(config)), apply_(apply), progress_(progress) {
    MQ_CHECK_MSG(config_.messages.size() <= 64, "explore: at most 64 menu messages");
    MQ_CHECK_MSG(config_.topology.consumers.size() <= 63, "explore: at most 63 consumers");
    Model initial = Model::create(config_.topology).value();
    wiring_ = initial.wiring();
    blank_props_.emplace(initial, config_.properties);
    root_.emplace(SearchNode{initial, *blank_props_, 0, 0});
    current_.clear(0);
    add(*root_, kNoParent, 0, current_);
  }

  ExploreResult run();

 private:
  static constexpr uint32_t kNoParent = UINT32_MAX;

  // Records a state if new (appending it to `layer`); returns its index.
  uint32_t add(const SearchNode& node, uint32_t parent, uint16_t via, Layer& layer) {
    buffer_.clear();
    const size_t identity = explorer::encode(node, buffer_);
    const auto r = visited_.insert(fingerprint(std::string_view(buffer_).substr(0, identity)));
    if (r.inserted) {
      parent_.push_back(parent);
      via_.push_back(via);
      layer.bytes.append(buffer_);
      layer.ends.push_back(layer.bytes.size());
    }
    return r.index;
  }
  SearchNode decode(std::string_view bytes) const { return explorer::decode(wiring_, *blank_props_, bytes); }
  bool bound_hit(ExploreResult& result) const;
  void measure(ExploreResult& r) const {
    r.states = visited_.size();
    r.state_bytes =
        visited_.memory_bytes() + parent_.capacity() * sizeof(uint32_t) + via_.capacity() * sizeof(uint16_t);
    r.memory_bytes = r.state_bytes + current_.memory_bytes() + next_.memory_bytes() +
                     edges_.capacity() * sizeof(edges_[0]) + edge_via_.capacity() * sizeof(uint16_t);
  }
  void report(const ExploreResult& r) const {
    if (progress_) progress_({r.states, r.transitions, r.max_depth, r.memory_bytes});
  }
  // Expands one state; false when it found a violation (recorded in `result`).
  bool expand(uint32_t index, const SearchNode& node, ExploreResult& result);
  // The steps from the initial state to state `index`, and that state, rebuilt by
  // replaying the recorded transitions (only the frontier keeps full states).
  std::vector<ExploreStep> path_to(uint32_t index, SearchNode* end = nullptr) const;
  SearchNode load(uint32_t index) const {
    SearchNode node = *root_;
    path_to(index, &node);
    return node;
  }
  std::optional<Lasso> find_lasso() const;

  ExploreConfig config_;
  const ApplyFn& apply_;
  const ProgressFn& progress_;
  std::shared_ptr<const Wiring> wiring_;
  std::optional<ModelProperties> blank_props_;  // the checker of the initial state
  std::optional<SearchNode> root_;
  VisitedSet visited_;
  std::vector<uint32_t> parent_;  // [state]
  std::vector<uint16_t> via_;     // [state] candidate op index at the parent
  Layer current_, next_;
  std::string buffer_;
  std::vector<std::pair<uint32_t, uint32_t>> edges_;  // with liveness: (from, to)
  std::vector<uint16_t> edge_via_;
};

bool Search::bound_hit(ExploreResult& result) const {
  if (visited_.size() >= config_.max_states) {
    result.bound_hit = "max_states " + std::to_string(config_.max_states);
  } else if (result.memory_bytes > config_.max_memory_bytes) {
    result.bound_hit = "max_memory_bytes " + std::to_string(config_.max_memory_bytes);
  }
  return !result.bound_hit.empty();
}

bool Search::expand(uint32_t index, const SearchNode& node, ExploreResult& result) {
  const std::vector<Op> ops = explorer::candidate_ops(node, config_);
  for (size_t k = 0; k < ops.size(); ++k) {
    auto next = explorer::successor(node, ops[k], apply_);
    if (!next.violations.empty()) {
      std::vector<ExploreStep> steps = path_to(index);
      steps.push_back({ops[k], next.result.ok() ? *next.result : Effects{}});
      result.counterexample = Counterexample{next.violations.front(), std::move(steps)};
      return false;
    }
    if (!next.changed) continue;
    result.transitions++;
    const uint32_t to = add(next.node, index, static_cast<uint16_t>(k), next_);
    if (config_.liveness) {
      edges_.emplace_back(index, to);
      edge_via_.push_back(static_cast<uint16_t>(k));
    }
  }
  return true;
}

ExploreResult Search::run() {
  ExploreResult result;
  for (bool stop = false; !stop && current_.size() > 0; ++result.max_depth) {
    next_.clear(static_cast<uint32_t>(visited_.size()));
    for (size_t k = 0; k < current_.size() && !stop; ++k) {
      measure(result);
      if (bound_hit(result)) break;
      const auto index = static_cast<uint32_t>(current_.first + k);
      stop = !expand(index, decode(current_.at(k)), result);
      if ((index + 1) % kProgressEvery == 0) report(result);
    }
    if (!result.bound_hit.empty()) break;
    std::swap(current_, next_);
  }
  if (result.max_depth > 0) result.max_depth--;  // the last layer added nothing
  measure(result);
  result.complete = !result.counterexample && result.bound_hit.empty();
  if (result.complete && config_.liveness) {
    result.liveness_checked = true;
    result.lasso = find_lasso();
  }
  report(result);
  return result;
}

std::vector<ExploreStep> Search::path_to(uint32_t index, SearchNode* end) const {
  std::vector<uint16_t> vias;
  for (uint32_t at = index; at != 0; at = parent_[at]) vias.push_back(via_[at]);
  std::vector<ExploreStep> steps;
  SearchNode node = *root_;
  for (auto it = vias.rbegin(); it != vias.rend(); ++it) {
    const Op op = explorer::candidate_ops(node, config_)[*it];
    auto next = explorer::successor(node, op, apply_);
    steps.push_back({op, next.result.ok() ? *next.result : Effects{}});
    node = std::move(next.node);
  }
  if (end) *end = std::move(node);
  return steps;
}

std::optional<Lasso> Search::find_lasso() const {
  explorer::LivenessGraph graph{static_cast<uint32_t>(visited_.size()), edges_, edge_via_};
  auto ops_of = [&](uint32_t s) { return explorer::candidate_ops(load(s), config_); };
  auto pending = [&](uint32_t s) { return explorer::pending_messages(load(s)); };
  auto cycle = explorer::find_fair_stuck_cycle(graph, ops_of, pending);
  if (!cycle) return std::nullopt;
  Lasso lasso;
  lasso.stuck = cycle->stuck;
  lasso.prefix = path_to(cycle->entry);
  SearchNode node = load(cycle->entry);
  for (const auto& [to, via] : cycle->walk) {
    const Op op = explorer::candidate_ops(node, config_)[via];
    auto next = explorer::successor(node, op, apply_);
    lasso.cycle.push_back({op, next.result.ok() ? *next.result : Effects{}});
    node = std::move(next.node);
  }
  return lasso;
}

}  // namespace

ExploreResult explore(const ExploreConfig& config, const ApplyFn& apply, const ProgressFn& progress) {
  Search search(config, apply, progress);
  return search.run();
}

std::string format_steps(const std::vector<ExploreStep>& steps, size_t first_number) {
  std::ostringstream o;
  for (size_t i = 0; i < steps.size(); ++i) {
    o << "  " << (first_number + i) << "  " << to_string(steps[i].op);
    const char* sep = "  -> ";
    for (const auto& e : steps[i].effects) {
      o << sep << effect_kind_name(e.kind) << " q" << e.queue << " #" << e.message.id;
      if (e.consumer != kNoConsumer) o << " c" << e.consumer;
      if (e.kind == EffectKind::kDelivered) o << " attempt " << e.message.attempts;
      sep = ", ";
    }
    o << "\n";
  }
  return o.str();
}

}  // namespace mq
