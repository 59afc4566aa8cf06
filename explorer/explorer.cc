#include "explorer/explorer.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "explorer/huge_memory.h"
#include "explorer/liveness.h"
#include "explorer/packed_space.h"
#include "explorer/search_node.h"
#include "explorer/visited_set.h"

namespace mq::explorer {


namespace {

// A block of a layer: huge-page memory, populated when mapped (one system call
// instead of a page fault per page).
class Block {
 public:
  explicit Block(size_t capacity) : memory_(capacity, /*populate=*/true) {}
  size_t size() const { return size_; }
  size_t capacity() const { return memory_.size(); }
  const char* data() const { return static_cast<const char*>(memory_.data()); }
  void append(std::string_view v) {
    MQ_CHECK(size_ + v.size() <= capacity());
    std::memcpy(static_cast<char*>(memory_.data()) + size_, v.data(), v.size());
    size_ += v.size();
  }
  void clear() { size_ = 0; }

 private:
  HugeMemory memory_;
  size_t size_ = 0;
};

// A breadth-first layer of full states, in blocks (a state is never split); a
// cleared layer gives its blocks back to a pool, so that after the first layers no
// memory is mapped or first touched again.
inline constexpr size_t kBlockBytes = size_t{2} << 20;

// Cache-line aligned: the merge appends to the next layer while other threads read
// the current one, which would otherwise share a line with it.
class alignas(64) Layer {
 public:
  uint32_t first = 0;  // index of its first state

  size_t size() const { return refs.size(); }
  std::string_view at(size_t k) const {
    const Ref& r = refs[k];
    return std::string_view(blocks[r.block].data() + r.begin, r.size);
  }
  // Returns whether it mapped a new block (the pool had none).
  bool append(std::string_view state, std::vector<Block>& pool) {
    bool mapped = false;
    if (blocks.empty() || blocks.back().size() + state.size() > blocks.back().capacity()) {
      if (!pool.empty() && pool.back().capacity() >= state.size()) {
        blocks.push_back(std::move(pool.back()));
        pool.pop_back();
      } else {
        blocks.emplace_back(std::max(kBlockBytes, state.size()));
        mapped = true;
      }
    }
    Block& b = blocks.back();
    refs.push_back({static_cast<uint32_t>(blocks.size() - 1), static_cast<uint32_t>(b.size()),
                    static_cast<uint32_t>(state.size())});
    b.append(state);
    return mapped;
  }
  // Gives the blocks that hold only states before `k` to the pool: the states of a
  // layer are read once, window after window, so the next layer can fill the blocks
  // the current one is done with, and the two layers at their widest never hold their
  // memory at once (the search's peak memory was both layers plus the visited table).
  void release_before(size_t k, std::vector<Block>& pool) {
    const size_t done = k < refs.size() ? refs[k].block : blocks.size();
    for (; released < done; ++released) {
      blocks[released].clear();
      pool.push_back(std::move(blocks[released]));
    }
  }
  void clear(uint32_t new_first, std::vector<Block>& pool) {
    first = new_first;
    release_before(refs.size(), pool);
    blocks.clear();
    refs.clear();
    released = 0;
  }
  uint64_t memory_bytes() const {
    uint64_t n = refs.capacity() * sizeof(Ref);
    for (size_t b = released; b < blocks.size(); ++b) n += blocks[b].capacity();
    return n;
  }

 private:
  struct Ref {
    uint32_t block, begin, size;
  };
  std::vector<Block> blocks;
  std::vector<Ref> refs;
  size_t released = 0;  // blocks [0, released) are in the pool
};

// ---- the two state spaces, behind one interface ----

// What one thread's expansion of a chunk of parents produces, in order. Cache-line
// aligned: threads fill neighbouring chunks' outputs at once.
struct alignas(64) ChunkOut {
  struct Candidate {  // a successor not in the visited set when the window began
    uint64_t fp;
    uint32_t parent;
    uint16_t via;
    uint32_t begin, end;  // its bytes in `bytes`
  };
  struct Edge {
    uint32_t from;
    uint16_t via;
    uint32_t to;  // a state index, or kCandidate | candidate number in this chunk
  };
  static constexpr uint32_t kCandidate = 0x80000000u;
  std::vector<Candidate> candidates;
  // Bytes of candidates (and, while a parent is expanded, of all its successors).
  struct Bytes {
    std::unique_ptr<char[]> data;
    size_t size = 0, capacity = 0;
    char* reserve(size_t n) {  // room for n more bytes; returns where they go
      if (size + n > capacity) {
        const size_t grown = std::max(size + n, capacity * 2 + 4096);
        std::unique_ptr<char[]> more(new char[grown]);
        if (size) std::memcpy(more.get(), data.get(), size);
        data = std::move(more);
        capacity = grown;
      }
      return data.get() + size;
    }
    std::string_view view(uint32_t begin, uint32_t end) const { return {data.get() + begin, end - begin}; }
  } bytes;
  std::vector<Edge> edges;                                 // with liveness: every changing transition
  std::vector<std::pair<uint32_t, uint32_t>> transitions;  // (parent, changing transitions)
  std::optional<std::pair<uint32_t, uint16_t>> violation;  // (parent, via): stops the chunk
  void clear() {
    candidates.clear();
    bytes.size = 0;
    edges.clear();
    transitions.clear();
    violation.reset();
  }
};

class Sink;

class Space {
 public:
  virtual ~Space() = default;
  virtual std::string root() const = 0;
  virtual size_t root_identity() const = 0;  // the size of the root's identity prefix
  // One thread's expander (it owns that thread's working memory).
  class Expander {
   public:
    virtual ~Expander() = default;
    // Every candidate of `state` in order; stops at the first violating one.
    virtual void expand(std::string_view state, Sink& sink) = 0;
  };
  virtual std::unique_ptr<Expander> expander() const = 0;
  // Replays candidate indices from the initial state: the steps (as the model took
  // them from the real initial state), the node reached, the last step's violations.
  virtual void replay(const std::vector<uint16_t>& vias, std::vector<ExploreStep>* steps, SearchNode* end,
                      std::vector<Violation>* last) const = 0;
  virtual uint64_t orbit_size(std::string_view) const { return 1; }
  // The properties a state breaks by itself, as bits (0: none, or judged per step).
  virtual uint32_t state_violations(std::string_view) const { return 0; }
};

// Receives the successors of a chunk's parents from a state space, parent after
// parent, and at the chunk's end looks them all up in the visited set together
// (VisitedSet::find_all, whose misses overlap).
class Sink {
 public:
  // One per thread: its working memory serves chunk after chunk.
  Sink(const VisitedSet& visited, const Space& space, bool edges)
      : visited_(visited), space_(space), edges_(edges) {}
  // Starts a chunk, whose results go to `out` (cleared).
  void start(ChunkOut& out) {
    out.clear();
    out_ = &out;
    parents_.clear();
    pending_.clear();
  }
  void begin(uint32_t parent) {
    parents_.push_back({parent, static_cast<uint32_t>(pending_.size()), kNoVia});
  }
  // Where the next successor's `size` bytes go (valid until the next call).
  char* slot(size_t size) { return out_->bytes.reserve(size); }
  // The successor just written at slot() is a changed successor by candidate `via`;
  // its identity is its first `identity` bytes.
  void add(uint16_t via, size_t size, size_t identity) {
    const auto begin = static_cast<uint32_t>(out_->bytes.size);
    const uint64_t fp = fingerprint(std::string_view(out_->bytes.data.get() + begin, identity));
    out_->bytes.size += size;
    pending_.push_back({fp, parents_.back().parent, via, begin, static_cast<uint32_t>(out_->bytes.size)});
  }
  void add(uint16_t via, std::string_view bytes, size_t identity) {
    std::memcpy(slot(bytes.size()), bytes.data(), bytes.size());
    add(via, bytes.size(), identity);
  }
  // Candidate `via` of the current parent breaks a property: the chunk stops there.
  void violation(uint16_t via) { parents_.back().violation = via; }
  bool stopped() const { return !parents_.empty() && parents_.back().violation != kNoVia; }
  // Keeps the successors not seen before (in order, their bytes packed together), judges
  // the properties of each such state, and stops at the first violation: a state
  // property broken by a successor, or a step property (violation()), whichever comes
  // first in candidate order. A successor already visited was judged when it was found.
  void finish();

 private:
  static constexpr uint32_t kNoVia = UINT32_MAX;
  struct Parent {
    uint32_t parent, first;  // its successors: pending_[first, next parent's first)
    uint32_t violation;      // the violating candidate, or kNoVia
  };
  const VisitedSet& visited_;
  const Space& space_;
  bool edges_;
  ChunkOut* out_ = nullptr;
  std::vector<Parent> parents_;
  std::vector<ChunkOut::Candidate> pending_;
  // finish(): a successor equal to an earlier one of the chunk (siblings meet again:
  // a then b, b then a) takes that one's answer instead of a lookup of its own, and is
  // not a candidate twice. A small open-addressing table of the chunk's fingerprints.
  void find_repeats();
  std::vector<uint64_t> local_key_;
  std::vector<uint32_t> local_at_;  // [local slot] distinct index, or kNoVia if empty
  std::vector<uint32_t> distinct_;  // [pending] index of its fingerprint in fps_
  std::vector<uint32_t> first_;     // [distinct] the first pending with that fingerprint
  std::vector<uint64_t> fps_;       // [distinct] the fingerprints, in order of first appearance
  std::vector<uint32_t> found_;     // [distinct] what the visited set says of each
  std::vector<uint32_t> to_;        // [pending] state index, or kCandidate | candidate number
};

void Sink::find_repeats() {
  const size_t n = pending_.size();
  size_t cap = 64;
  while (cap < 2 * n) cap *= 2;  // load at most 1/2
  local_key_.resize(cap);
  local_at_.assign(cap, kNoVia);
  distinct_.resize(n);
  first_.clear();
  fps_.clear();
  for (uint32_t j = 0; j < n; ++j) {
    const uint64_t fp = pending_[j].fp;
    size_t at = fp & (cap - 1);
    for (size_t probe = 0; local_at_[at] != kNoVia && local_key_[at] != fp;
         ++probe, at = (at + 1) & (cap - 1))
      MQ_CHECK(probe < cap);
    if (local_at_[at] == kNoVia) {
      local_key_[at] = fp;
      local_at_[at] = static_cast<uint32_t>(fps_.size());
      fps_.push_back(fp);
      first_.push_back(j);
    }
    distinct_[j] = local_at_[at];
  }
}

void Sink::finish() {
  find_repeats();
  found_.resize(fps_.size());
  visited_.find_all(fps_.data(), fps_.size(), found_.data());
  to_.resize(pending_.size());
  uint32_t write = 0;
  for (size_t p = 0; p < parents_.size(); ++p) {
    const Parent& par = parents_[p];
    const uint32_t last =
        p + 1 < parents_.size() ? parents_[p + 1].first : static_cast<uint32_t>(pending_.size());
    uint32_t violation = par.violation, kept = 0;
    for (uint32_t j = par.first; j < last; ++j, ++kept) {
      ChunkOut::Candidate c = pending_[j];
      const uint32_t d = distinct_[j];
      uint32_t to = first_[d] == j ? found_[d] : to_[first_[d]];
      if (to == VisitedSet::kNotFound) {
        const std::string_view bytes = out_->bytes.view(c.begin, c.end);
        if (space_.state_violations(bytes) != 0) {
          violation = c.via;
          break;
        }
        to = ChunkOut::kCandidate | static_cast<uint32_t>(out_->candidates.size());
        const uint32_t len = c.end - c.begin;
        if (write != c.begin) std::memmove(out_->bytes.data.get() + write, bytes.data(), len);
        c.begin = write;
        c.end = write += len;
        out_->candidates.push_back(c);
      }
      to_[j] = to;
      if (edges_) out_->edges.push_back({par.parent, c.via, to});
    }
    out_->transitions.emplace_back(par.parent, kept);
    if (violation != kNoVia) {
      out_->violation = {par.parent, static_cast<uint16_t>(violation)};
      break;
    }
  }
  out_->bytes.size = write;
}

// The model's own code on decoded nodes, for any ApplyFn.
class ReferenceSpace final : public Space {
 public:
  ReferenceSpace(const ExploreConfig& config, const ApplyFn& apply, const SearchNode& root)
      : config_(config), apply_(apply), root_(root), blank_(root.props) {}
  std::string root() const override {
    std::string out;
    encode(root_, out);
    return out;
  }
  size_t root_identity() const override {
    std::string out;
    return encode(root_, out);
  }
  class Ref final : public Expander {
   public:
    explicit Ref(const ReferenceSpace& s) : s_(s) {}
    void expand(std::string_view state, Sink& sink) override {
      const SearchNode node = decode(s_.root_.model.wiring(), s_.blank_, state);
      const std::vector<Op> ops = candidate_ops(node, s_.config_);
      for (size_t k = 0; k < ops.size(); ++k) {
        auto next = successor(node, ops[k], s_.apply_);
        if (!next.violations.empty()) return sink.violation(static_cast<uint16_t>(k));
        if (!next.changed) continue;
        buffer_.clear();
        const size_t identity = encode(next.node, buffer_);
        sink.add(static_cast<uint16_t>(k), buffer_, identity);
      }
    }

   private:
    const ReferenceSpace& s_;
    std::string buffer_;
  };
  std::unique_ptr<Expander> expander() const override { return std::make_unique<Ref>(*this); }
  void replay(const std::vector<uint16_t>& vias, std::vector<ExploreStep>* steps, SearchNode* end,
              std::vector<Violation>* last) const override {
    SearchNode node = root_;
    for (uint16_t via : vias) {
      const Op op = candidate_ops(node, config_)[via];
      auto next = successor(node, op, apply_);
      if (steps) steps->push_back({op, next.result.ok() ? *next.result : Effects{}});
      if (last) *last = next.violations;
      node = std::move(next.node);
    }
    if (end) *end = std::move(node);
  }

 private:
  const ExploreConfig& config_;
  const ApplyFn& apply_;
  SearchNode root_;
  ModelProperties blank_;
};

// The packed space of the model itself (packed_space.h).
class PackedModelSpace final : public Space {
 public:
  PackedModelSpace(const ExploreConfig& config, const SearchNode& root, bool symmetry, bool cross_check)
      : config_(config),
        space_(config, root.model.wiring(), symmetry),
        root_(root),
        cross_check_(cross_check) {}
  const PackedSpace& space() const { return space_; }
  std::string root() const override {
    std::string out(space_.state_size(), '\0');
    space_.root(reinterpret_cast<uint8_t*>(out.data()));
    space_.canonicalize(reinterpret_cast<uint8_t*>(out.data()));
    return out;
  }
  size_t root_identity() const override { return space_.state_size(); }
  class Packed final : public Expander {
   public:
    explicit Packed(const PackedModelSpace& s)
        : s_(s),
          space_(s.space_),
          sc_(space_.make_scratch()),
          ops_(space_.max_candidates()),
          out_(space_.state_size()) {}
    void expand(std::string_view state, Sink& sink) override {
      const auto* p = reinterpret_cast<const uint8_t*>(state.data());
      const uint32_t n = space_.candidates(p, ops_.data());
      std::optional<SearchNode> node;
      if (s_.cross_check_) node = s_.space_.to_node(p);
      const size_t size = space_.state_size();
      for (uint32_t k = 0; k < n; ++k) {
        uint32_t violations = 0;
        auto* out = reinterpret_cast<uint8_t*>(sink.slot(size));
        const bool changed = space_.apply(p, ops_[k], out, violations, sc_, node.has_value());
        if (node) {
          std::memcpy(out_.data(), out, size);
          check(*node, p, k, n, changed, violations);
        }
        if (violations != 0) return sink.violation(static_cast<uint16_t>(k));
        if (!changed) continue;
        space_.canonicalize(out);
        sink.add(static_cast<uint16_t>(k), size, size);
      }
    }

   private:
    // --cross-check: the reference must agree on the candidate, the change, the
    // violations and the successor.
    void check(const SearchNode& node, const uint8_t* p, uint32_t k, uint32_t n, bool changed,
               uint32_t violations) {
      const std::vector<Op> ops = candidate_ops(node, s_.config_);
      MQ_CHECK_MSG(ops.size() == n, "cross-check: candidate count differs");
      MQ_CHECK_MSG(ops[k] == s_.space_.to_op(p, ops_[k]), "cross-check: candidate differs");
      auto next = successor(node, ops[k], apply_model);
      uint32_t want = 0;
      for (const auto& v : next.violations) want |= bit(v.property);
      if (want != violations) {
        std::fprintf(stderr, "cross-check: %s: reference %x, packed %x\n%s", to_string(ops[k]).c_str(), want,
                     violations, to_string(node.model.state()).c_str());
        for (const auto& v : next.violations) std::fprintf(stderr, "  %s\n", v.message.c_str());
      }
      MQ_CHECK_MSG(want == violations, "cross-check: violations differ");
      MQ_CHECK_MSG(next.changed == changed, "cross-check: change differs");
      if (!changed) return;
      std::vector<uint8_t> ref(s_.space_.state_size());
      s_.space_.from_node(next.node, ref.data());
      MQ_CHECK_MSG(ref == out_, "cross-check: successor differs");
    }
    const PackedModelSpace& s_;
    const PackedSpace space_;  // this thread's own copy (in memory it allocated)
    PackedSpace::Scratch sc_;
    std::vector<PackedSpace::PackedOp> ops_;
    std::vector<uint8_t> out_;
  };
  std::unique_ptr<Expander> expander() const override { return std::make_unique<Packed>(*this); }
  // Replays in canonical states and maps each operation back to the real path: h
  // takes the labels of the current canonical state to those of the real one.
  void replay(const std::vector<uint16_t>& vias, std::vector<ExploreStep>* steps, SearchNode* end,
              std::vector<Violation>* last) const override {
    SearchNode node = root_;
    std::string root_bytes = root();
    std::vector<uint8_t> cur(root_bytes.begin(), root_bytes.end()), next_state(cur.size());
    std::vector<PackedSpace::PackedOp> ops(space_.max_candidates());
    auto sc = space_.make_scratch();
    auto h = Relabel::identity(config_.topology.consumers.size(), config_.messages.size());
    for (uint16_t via : vias) {
      const uint32_t n = space_.candidates(cur.data(), ops.data());
      MQ_CHECK(via < n);
      const Op op = space_.relabel(space_.to_op(cur.data(), ops[via]), h);
      auto next = successor(node, op, apply_model);
      if (steps) steps->push_back({op, next.result.ok() ? *next.result : Effects{}});
      if (last) *last = next.violations;
      node = std::move(next.node);
      uint32_t violations = 0;
      space_.apply(cur.data(), ops[via], next_state.data(), violations, sc);
      Relabel applied;
      space_.canonicalize(next_state.data(), &applied);
      h = applied.inverse().then(h);
      cur.swap(next_state);
    }
    if (end) *end = std::move(node);
  }
  uint64_t orbit_size(std::string_view s) const override {
    return space_.orbit_size(reinterpret_cast<const uint8_t*>(s.data()));
  }
  uint32_t state_violations(std::string_view s) const override {
    return space_.state_violations(reinterpret_cast<const uint8_t*>(s.data()));
  }

 private:
  const ExploreConfig& config_;
  PackedSpace space_;
  SearchNode root_;
  bool cross_check_;
};

// ---- the search ----

inline constexpr uint32_t kWindowStates = 1 << 14;  // parents per window
inline constexpr uint32_t kChunkStates = 256;       // parents per chunk

class Search {
 public:
  Search(const ExploreConfig& config, const ApplyFn* apply, const SearchOptions& options,
         const ProgressFn& progress)
      : config_(normalized(config)),
        options_(options),
        progress_(progress),
        visited_(config_.liveness, config_.max_states) {
    MQ_CHECK_MSG(config_.messages.size() <= 64, "explore: at most 64 menu messages");
    MQ_CHECK_MSG(config_.topology.consumers.size() <= 63, "explore: at most 63 consumers");
    MQ_CHECK(options_.jobs >= 1);
    Model initial = Model::create(config_.topology).value();
    const SearchNode root{initial, ModelProperties(initial, config_.properties), 0, 0};
    const std::string why = PackedSpace::unsupported_reason(config_);
    if (apply == nullptr && why.empty() && !options_.reference) {
      const bool symmetry = options_.symmetry && !config_.liveness;
      auto packed = std::make_unique<PackedModelSpace>(config_, root, symmetry, options_.cross_check);
      engine_ = "packed, " + std::to_string(packed->space().state_size()) + " bytes per state";
      symmetry_ = packed->space().symmetry_summary();
      if (options_.symmetry && config_.liveness)
        engine_ += " (symmetry off: liveness is judged on the full graph)";
      space_ = std::move(packed);
    } else {
      space_ = std::make_unique<ReferenceSpace>(config_, apply ? *apply : apply_model_fn_, root);
      engine_ = apply ? "reference (a variant of the model)"
                      : "reference" + (why.empty() ? std::string() : " (" + why + ")");
    }
    current_.clear(0, pool_);
    const std::string r = space_->root();
    MQ_CHECK_MSG(space_->state_violations(r) == 0, "explore: the initial state breaks an invariant");
    visited_.insert(fingerprint(std::string_view(r).substr(0, space_->root_identity())));
    parent_.push_back(kNoParent);
    via_.push_back(0);
    current_.append(r, pool_);
    represented_ = space_->orbit_size(r);
  }

  ExploreResult run();

 private:
  static constexpr uint32_t kNoParent = UINT32_MAX;
  static ExploreConfig normalized(ExploreConfig c) {
    for (size_t i = 0; i < c.messages.size(); ++i) {
      c.messages[i].spec.id = i + 1;
      if (c.messages[i].spec.payload.empty()) c.messages[i].spec.payload = "m" + std::to_string(i + 1);
    }
    return c;
  }
  void measure(ExploreResult& r) const {
    r.states = visited_.size();
    r.state_bytes = visited_.memory_bytes() + parent_.memory_bytes() + via_.memory_bytes();
    r.memory_bytes = r.state_bytes + current_.memory_bytes() + next_.memory_bytes() + graph_.memory_bytes();
  }
  void report(const ExploreResult& r, uint32_t depth) const {
    if (progress_) progress_({r.states, r.transitions, depth, r.memory_bytes});
  }
  // Expands parents [first, last) of the current layer; false when the search stops
  // (a violation, or the state bound inside this window).
  bool window(size_t first, size_t last, ExploreResult& result);
  bool merge(ChunkOut& out, ExploreResult& result);
  std::vector<uint16_t> vias_to(uint32_t index) const {
    std::vector<uint16_t> vias;
    for (uint32_t at = index; at != 0; at = parent_[at]) vias.push_back(via_[at]);
    std::reverse(vias.begin(), vias.end());
    return vias;
  }
  SearchNode load(uint32_t index) const {
    SearchNode node = SearchNode{Model::create(config_.topology).value(),
                                 ModelProperties(Model::create(config_.topology).value()), 0, 0};
    space_->replay(vias_to(index), nullptr, &node, nullptr);
    return node;
  }
  std::optional<Lasso> find_lasso() const;

  const ApplyFn apply_model_fn_ = apply_model;
  ExploreConfig config_;
  SearchOptions options_;
  const ProgressFn& progress_;
  std::unique_ptr<Space> space_;
  std::string engine_, symmetry_;
  VisitedSet visited_;
  uint64_t represented_ = 0;
  HugeArray<uint32_t> parent_;  // [state]
  HugeArray<uint16_t> via_;     // [state] candidate op index at the parent
  Layer current_, next_;
  std::vector<Block> pool_;  // blocks of cleared layers
  size_t mapped_ = 0;        // blocks the merge had to map (the pool was empty)
  std::vector<ChunkOut> chunks_;
  std::vector<uint32_t> merge_index_;  // merge(): state index of each candidate
  StateGraph graph_;         // with liveness
};

// The chunks of a window are expanded by the threads in any order; whichever thread
// finishes the chunk the merge waits for merges it, and every finished chunk after
// it, while the others go on expanding. So the merge follows chunk order (the
// numbering of one thread) and overlaps the expansion; with one thread, each chunk is
// merged as soon as it is expanded, while its bytes are still in cache. Expanders
// look successors up while the merger inserts: the visited set allows that as long as
// no insert grows the table, so the merger leaves a chunk that would need growth (and
// every later one) to the main thread, after the window's threads have stopped.
bool Search::window(size_t first, size_t last, ExploreResult& result) {
  const size_t count = (last - first + kChunkStates - 1) / kChunkStates;
  if (chunks_.size() < count) chunks_.resize(count);
  std::unique_ptr<std::atomic<bool>[]> done(new std::atomic<bool>[count]);
  for (size_t c = 0; c < count; ++c) done[c] = false;
  std::atomic<size_t> next{0};
  std::atomic<size_t> stop_after{SIZE_MAX};  // no chunk after this one is needed
  std::mutex merge_mu;
  std::atomic<size_t> merged{0};  // chunks merged, in order (written under merge_mu)
  bool go_on = true;              // under merge_mu: no violation, no bound
  bool deferred = false;          // under merge_mu: the next chunk needs a larger table
  auto merge_ready = [&](bool concurrent) {
    for (size_t m = merged.load(); go_on && m < count && done[m].load(); m = merged.load()) {
      if (concurrent && (deferred || !visited_.fits(chunks_[m].candidates.size()))) {
        deferred = true;
        return;
      }
      if (!concurrent) visited_.make_room(chunks_[m].candidates.size(), options_.jobs);
      go_on = merge(chunks_[m], result);
      if (!go_on) stop_after = 0;
      merged = m + 1;
    }
  };
  auto try_merge = [&] {
    for (size_t round = 0; round < count; ++round) {  // each round merges at least one chunk
      {
        std::unique_lock<std::mutex> lock(merge_mu, std::try_to_lock);
        if (!lock.owns_lock()) return;  // the merger will see this chunk, or the main thread after the window
        merge_ready(true);
        if (!go_on || deferred) return;
      }
      // A chunk finished while the lock was held, by a thread whose try_lock failed.
      const size_t m = merged.load();
      if (m >= count || !done[m].load()) return;
    }
  };
  auto work = [&]() {
    auto expander = space_->expander();
    Sink sink(visited_, *space_, config_.liveness);
    for (size_t c = next++; c < count; c = next++) {
      ChunkOut& out = chunks_[c];
      out.clear();
      if (c <= stop_after.load()) {
        sink.start(out);
        const size_t end = std::min(last, first + (c + 1) * kChunkStates);
        for (size_t k = first + c * kChunkStates; k < end && !sink.stopped(); ++k) {
          sink.begin(static_cast<uint32_t>(current_.first + k));
          expander->expand(current_.at(k), sink);
        }
        sink.finish();
        if (out.violation) {
          for (size_t seen = stop_after.load(); c < seen && !stop_after.compare_exchange_weak(seen, c);) {
          }
        }
      }
      done[c] = true;
      try_merge();
    }
  };
  std::vector<std::thread> threads;
  const size_t helpers = std::min<size_t>(options_.jobs, count) - 1;
  // With helpers, the blocks the last window's merge had to map are mapped for this one
  // by the main thread while the helpers expand: the merge, which every thread waits
  // for in the end, then finds them in the pool instead of stalling on fresh memory
  // (the kernel zeroing it, slow when the host backs it anew). Memory only: which
  // block holds a state changes nothing the search computes.
  const size_t premap = helpers > 0 ? std::exchange(mapped_, 0) : 0;
  for (size_t t = 0; t < helpers; ++t) threads.emplace_back(work);
  if (premap > 0) {
    std::vector<Block> fresh;
    for (size_t b = 0; b < premap; ++b) fresh.emplace_back(kBlockBytes);
    std::lock_guard<std::mutex> lock(merge_mu);
    for (Block& b : fresh) pool_.push_back(std::move(b));
  }
  work();
  for (auto& t : threads) t.join();
  merge_ready(false);  // alone now: the table may grow (on every thread: make_room)
  return go_on;
}

// Adds a chunk's new states in order: the same numbering as one thread expanding
// parent after parent. False when the search stops (a violation, the state bound).
bool Search::merge(ChunkOut& out, ExploreResult& result) {
  merge_index_.assign(out.candidates.size(), 0);
  // The candidates' table slots, back to back so that their misses overlap (see
  // VisitedSet::find_all); usually still in cache from the chunk's lookups.
  for (const auto& cand : out.candidates) visited_.prefetch(cand.fp);
  size_t at = 0;  // next candidate
  for (const auto& [parent, transitions] : out.transitions) {
    if (visited_.size() >= config_.max_states) {
      result.bound_hit = "max_states " + std::to_string(config_.max_states);
      result.bound = Bound::kStates;
      return false;
    }
    result.transitions += transitions;
    for (; at < out.candidates.size() && out.candidates[at].parent == parent; ++at) {
      const auto& cand = out.candidates[at];
      const auto r = visited_.insert(cand.fp);
      merge_index_[at] = r.index;
      if (!r.inserted) continue;
      parent_.push_back(parent);
      via_.push_back(cand.via);
      const std::string_view bytes = out.bytes.view(cand.begin, cand.end);
      mapped_ += next_.append(bytes, pool_);
      if (!symmetry_.empty()) represented_ += space_->orbit_size(bytes);
    }
  }
  if (config_.liveness) {
    for (const auto& e : out.edges)
      graph_.add(e.from, (e.to & ChunkOut::kCandidate) ? merge_index_[e.to & ~ChunkOut::kCandidate] : e.to,
                 e.via);
  }
  if (!out.violation) return true;
  const auto [parent, via] = *out.violation;
  std::vector<uint16_t> vias = vias_to(parent);
  vias.push_back(via);
  Counterexample cx;
  std::vector<Violation> last;
  space_->replay(vias, &cx.steps, nullptr, &last);
  MQ_CHECK_MSG(!last.empty(), "explore: the replayed counterexample does not violate");
  cx.violation = last.front();
  result.counterexample = std::move(cx);
  return false;
}

ExploreResult Search::run() {
  ExploreResult result;
  result.engine = engine_;
  result.symmetry = symmetry_;
  result.jobs = options_.jobs;
  bool stop = false;
  for (; !stop && current_.size() > 0; ++result.max_depth) {
    next_.clear(static_cast<uint32_t>(visited_.size()), pool_);
    for (size_t first = 0; first < current_.size() && !stop; first += kWindowStates) {
      measure(result);
      if (result.memory_bytes > config_.max_memory_bytes) {
        result.bound_hit = "max_memory_bytes " + std::to_string(config_.max_memory_bytes);
        result.bound = Bound::kMemory;
        stop = true;
        break;
      }
      const size_t last = std::min(current_.size(), first + kWindowStates);
      stop = !window(first, last, result);
      current_.release_before(last, pool_);
      measure(result);
      report(result, result.max_depth);
    }
    if (stop) break;
    std::swap(current_, next_);
  }
  if (!stop && result.max_depth > 0) result.max_depth--;  // the last layer added nothing
  measure(result);
  result.represented = symmetry_.empty() ? result.states : represented_;
  result.complete = !result.counterexample && result.bound_hit.empty();
  if (result.complete && config_.liveness) {
    result.liveness_checked = true;
    graph_.close(static_cast<uint32_t>(visited_.size()));
    result.lasso = find_lasso();
  }
  report(result, result.max_depth);
  return result;
}

std::optional<Lasso> Search::find_lasso() const {
  auto ops_of = [&](uint32_t s) { return candidate_ops(load(s), config_); };
  auto pending = [&](uint32_t s) { return pending_messages(load(s)); };
  auto cycle = find_fair_stuck_cycle(graph_, ops_of, pending);
  if (!cycle) return std::nullopt;
  Lasso lasso;
  lasso.stuck = cycle->stuck;
  std::vector<uint16_t> vias = vias_to(cycle->entry);
  space_->replay(vias, &lasso.prefix, nullptr, nullptr);
  for (const auto& [to, via] : cycle->walk) vias.push_back(via);
  std::vector<ExploreStep> all;
  space_->replay(vias, &all, nullptr, nullptr);
  lasso.cycle.assign(all.begin() + static_cast<std::ptrdiff_t>(lasso.prefix.size()), all.end());
  return lasso;
}

}  // namespace

ExploreResult explore(const ExploreConfig& config, const SearchOptions& options, const ProgressFn& progress) {
  Search search(config, nullptr, options, progress);
  return search.run();
}

ExploreResult explore(const ExploreConfig& config, const ApplyFn& apply, const ProgressFn& progress,
                      const SearchOptions& options) {
  Search search(config, &apply, options, progress);
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

}  // namespace mq::explorer
