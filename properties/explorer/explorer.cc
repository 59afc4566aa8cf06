#include "properties/explorer/explorer.h"

#include <sstream>

#include "properties/explorer/liveness.h"
#include "properties/explorer/search_node.h"
#include "properties/explorer/state_store.h"

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

class Search {
 public:
  Search(const ExploreConfig& config, const ApplyFn& apply, const ProgressFn& progress)
      : config_(normalized(config)), apply_(apply), progress_(progress) {
    MQ_CHECK_MSG(config_.messages.size() <= 64, "explore: at most 64 menu messages");
    MQ_CHECK_MSG(config_.topology.consumers.size() <= 63, "explore: at most 63 consumers");
    Model initial = Model::create(config_.topology).value();
    wiring_ = initial.wiring();
    blank_props_.emplace(initial, config_.properties);
    SearchNode root{initial, *blank_props_, 0, 0};
    store(root, StateStore::kNoParent, 0);
  }

  ExploreResult run();
  std::vector<ExploreStep> path_to(uint32_t index) const;

 private:
  uint32_t store(const SearchNode& node, uint32_t parent, uint16_t via, bool* inserted = nullptr) {
    buffer_.clear();
    const size_t identity = explorer::encode(node, buffer_);
    const auto r = store_.insert(buffer_, identity, parent, via);
    if (inserted) *inserted = r.inserted;
    return r.index;
  }
  SearchNode load(uint32_t index) const { return explorer::decode(wiring_, *blank_props_, store_.bytes(index)); }
  bool bound_hit(ExploreResult& result) const;
  void report(const ExploreResult& r) const {
    if (progress_) progress_({r.states, r.transitions, r.max_depth, r.memory_bytes});
  }
  std::optional<Lasso> find_lasso() const;

  ExploreConfig config_;
  const ApplyFn& apply_;
  const ProgressFn& progress_;
  std::shared_ptr<const Wiring> wiring_;
  std::optional<ModelProperties> blank_props_;  // the checker of the initial state
  StateStore store_;
  std::string buffer_;
  std::vector<std::pair<uint32_t, uint32_t>> edges_;  // with liveness: (from, to)
  std::vector<uint16_t> edge_via_;
};

bool Search::bound_hit(ExploreResult& result) const {
  if (store_.size() >= config_.max_states) {
    result.bound_hit = "max_states " + std::to_string(config_.max_states);
  } else if (result.memory_bytes > config_.max_memory_bytes) {
    result.bound_hit = "max_memory_bytes " + std::to_string(config_.max_memory_bytes);
  }
  return !result.bound_hit.empty();
}

ExploreResult Search::run() {
  ExploreResult result;
  size_t layer_end = store_.size();
  for (uint32_t i = 0; i < store_.size(); ++i) {
    if (i == layer_end) {
      result.max_depth++;
      layer_end = store_.size();
    }
    result.memory_bytes = store_.memory_bytes() + edges_.capacity() * 10;
    if (bound_hit(result)) break;
    const SearchNode node = load(i);
    const std::vector<Op> ops = explorer::candidate_ops(node, config_);
    for (size_t k = 0; k < ops.size(); ++k) {
      auto next = explorer::successor(node, ops[k], apply_);
      if (!next.violations.empty()) {
        std::vector<ExploreStep> steps = path_to(i);
        steps.push_back({ops[k], next.result.ok() ? *next.result : Effects{}});
        result.counterexample = Counterexample{next.violations.front(), std::move(steps)};
        break;
      }
      if (!next.changed) continue;
      result.transitions++;
      const uint32_t j = store(next.node, i, static_cast<uint16_t>(k));
      if (config_.liveness) {
        edges_.emplace_back(i, j);
        edge_via_.push_back(static_cast<uint16_t>(k));
      }
    }
    if (result.counterexample) break;
    if ((i + 1) % kProgressEvery == 0) {
      result.states = store_.size();
      report(result);
    }
  }
  result.states = store_.size();
  result.state_bytes = store_.memory_bytes();
  result.complete = !result.counterexample && result.bound_hit.empty();
  if (result.complete && config_.liveness) {
    result.liveness_checked = true;
    result.lasso = find_lasso();
  }
  report(result);
  return result;
}

std::vector<ExploreStep> Search::path_to(uint32_t index) const {
  std::vector<uint32_t> chain;
  for (uint32_t at = index; at != 0; at = store_.parent(at)) chain.push_back(at);
  std::vector<ExploreStep> steps;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const SearchNode parent = load(store_.parent(*it));
    const Op op = explorer::candidate_ops(parent, config_)[store_.via(*it)];
    auto next = explorer::successor(parent, op, apply_);
    steps.push_back({op, next.result.ok() ? *next.result : Effects{}});
  }
  return steps;
}

std::optional<Lasso> Search::find_lasso() const {
  explorer::LivenessGraph graph{static_cast<uint32_t>(store_.size()), edges_, edge_via_};
  auto ops_of = [&](uint32_t s) { return explorer::candidate_ops(load(s), config_); };
  auto pending = [&](uint32_t s) { return explorer::pending_messages(load(s)); };
  auto cycle = explorer::find_fair_stuck_cycle(graph, ops_of, pending);
  if (!cycle) return std::nullopt;
  Lasso lasso;
  lasso.stuck = cycle->stuck;
  lasso.prefix = path_to(cycle->entry);
  uint32_t at = cycle->entry;
  for (const auto& [to, via] : cycle->walk) {
    const SearchNode node = load(at);
    const Op op = explorer::candidate_ops(node, config_)[via];
    auto next = explorer::successor(node, op, apply_);
    lasso.cycle.push_back({op, next.result.ok() ? *next.result : Effects{}});
    at = to;
  }
  MQ_CHECK(at == cycle->entry);
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
