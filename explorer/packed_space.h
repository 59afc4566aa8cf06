#pragma once
// PackedSpace: the explorer's fast state space for the clean model. A search state
// (model state, what ModelProperties remembers, crashes used, menu messages sent) is
// a fixed-size byte array laid out from the configuration, and the successor of an
// operation is computed in place on a copy of it, without allocation. The model in
// model/ stays the specification; this is a second implementation of the same
// transition function and of the same step properties, made for speed, and held to
// the model by tests (tests/packed_space_test.cc: round trips, and every transition
// of whole explorations compared with Model::apply + ModelProperties::observe) and by
// `explore --cross-check`, which compares every transition of a run.
//
// Equivalence with the reference encoding (search_node.h): two states have equal
// bytes here iff their identities there are equal, so state counts agree. The
// history counters (refused, deliveries, redeliveries) are not kept, and the
// checker's live set is not stored: in the clean model it always equals the set of
// held messages (no_loss checks exactly that), so it distinguishes nothing.
//
// Layout: a header (menu messages sent, crashes, clock, broker up, consumers
// attached), then per queue its round-robin cursor, dead-letter refusals, message
// lists (each a length byte and menu indices: ready per level, delayed, in flight,
// finished) and the checker's memory (never-delivered order per level, round-robin
// turns), then one 8-byte record per (queue, menu message) slot that can exist.
//
// Symmetry (canonicalize): consumers of a queue whose configurations are identical
// are interchangeable up to rotation of their round-robin ring, and menu messages
// with the same destination and the same spec (payload aside, which no behaviour
// reads) are interchangeable. See docs/explorer.md for the argument.
//
// Thread-safety: const methods may be called from many threads, each with its own
// Scratch.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "explorer/explore_config.h"
#include "explorer/search_node.h"

namespace mq::explorer {

// A relabelling: new consumer and menu index of each old one. It maps a state, an
// operation and an effect to their images.
struct Relabel {
  std::vector<uint8_t> consumer;  // [old consumer] -> new
  std::vector<uint8_t> message;   // [old menu index] -> new
  static Relabel identity(size_t consumers, size_t messages);
  Relabel then(const Relabel& next) const;  // first this, then next
  Relabel inverse() const;
};

class PackedSpace {
 public:
  // Empty when the packed space can run `config` with its clean model; else why not
  // (then the explorer uses the reference state space).
  static std::string unsupported_reason(const ExploreConfig& config);

  // REQUIRES: unsupported_reason(config) is empty; menu ids are 1..n (normalized).
  PackedSpace(const ExploreConfig& config, std::shared_ptr<const Wiring> wiring, bool symmetry);
  // A copy for another thread: its tables in memory that thread allocates, read by it
  // alone (the search's expanders each take one: on one shared copy, another thread's
  // writes to the memory beside the tables cost every read a cache miss; measured in
  // docs/explorer.md). Every member is a value, so the copy is the member-wise one.
  PackedSpace(const PackedSpace& other) = default;
  PackedSpace& operator=(const PackedSpace&) = delete;

  size_t state_size() const { return size_; }
  void root(uint8_t* out) const;

  // Per-thread working memory for successor().
  struct Scratch {
    struct Effect {
      EffectKind kind;
      uint8_t queue, index, consumer, attempts, priority, origin;
      uint16_t timestamp;
    };
    std::vector<Effect> effects;  // of the step being judged, in the model's order
  };
  Scratch make_scratch() const;

  // One candidate operation, compactly. Its kinds are packed_space.cc's alone (an
  // opaque enumeration here): the header's users only carry a candidate from
  // candidates() to apply() and to_op(), so a new kind of operation is stated in the
  // one file whose switches must handle it.
  struct PackedOp {
    enum class Kind : uint8_t;
    Kind kind;
    uint8_t a = 0, b = 0;  // send: a = menu index; dispatch: a = queue; others: a = consumer, b = menu index
  };
  // At most this many candidates in any state.
  uint32_t max_candidates() const { return max_candidates_; }
  // The candidate operations at `s`, in candidate_ops order (their index is
  // the `via` of the state they lead to). Returns how many were written to `out`.
  uint32_t candidates(const uint8_t* s, PackedOp* out) const;
  // Writes the successor of `op` into `out` (state_size() bytes). Returns false if the
  // operation changed nothing (an error or a no-op). `violations` gets the enabled
  // properties the step breaks (bits as bit(ModelProperty)).
  // With `state_checks` false, the conservation property (check_invariants of the
  // successor, a function of the successor alone) is left out: the explorer judges it
  // once per new state with state_violations() instead of once per transition.
  bool apply(const uint8_t* s, const PackedOp& op, uint8_t* out, uint32_t& violations, Scratch& scratch,
             bool state_checks = true) const;
  // The enabled properties that state `s` itself breaks (check_invariants), as bits.
  uint32_t state_violations(const uint8_t* s) const;
  // A candidate as the model's operation.
  Op to_op(const uint8_t* s, const PackedOp& op) const;

  // The reference node of a packed state, and back. The node's history counters are
  // unknown: refused and redeliveries 0, deliveries 2^40 (see packed_space.cc).
  SearchNode to_node(const uint8_t* s) const;
  void from_node(const SearchNode& node, uint8_t* out) const;  // REQUIRES: representable

  // Symmetry: rewrites `s` to the canonical member of its orbit; if `applied` is
  // given, it gets the relabelling applied (canonical = applied(s)); without
  // symmetry, the identity.
  bool symmetric() const { return symmetry_; }
  void canonicalize(uint8_t* s, Relabel* applied = nullptr) const;
  // The number of states in the orbit of canonical state `s` (for the reduction report).
  uint64_t orbit_size(const uint8_t* s) const;
  // What the symmetry reduction identifies, in words ("" if nothing).
  std::string symmetry_summary() const;
  Op relabel(const Op& op, const Relabel& r) const;

 private:
  struct Attrs {
    TimeNs ttl_ns = 0, delay_ns = 0;
    uint32_t max_retries = 0;
    friend bool operator==(const Attrs&, const Attrs&) = default;
  };
  struct Slot {
    uint32_t offset = 0;
    Attrs attrs[2];  // [origin]: 0 sent directly (or the only way in), 1 dead-lettered here
    bool two_origins = false;
  };
  struct Queue {
    uint32_t levels = 1, list_cap = 0, slots = 0, capacity = 0, max_retries = 0;
    bool durable = false, front = false;
    TimeNs vt = 0;
    int dlq = -1;
    std::vector<uint8_t> ring;  // consumers in round-robin order
    bool rotatable = false;     // consumers identical: the ring may rotate
    uint32_t cursor = 0, dlr = 0, ready = 0, delayed = 0, in_flight = 0, finished = 0, never = 0, turns = 0;
  };
  struct Menu {
    std::vector<uint8_t> queues;  // where a send or publish puts it
    bool topic = false;
    uint32_t topic_id = 0;
    MessageSpec spec;
    uint32_t cls = 0;  // symmetry class: equal for interchangeable messages
  };
  class Mut;
  using Reach = std::vector<std::vector<uint8_t>>;
  Reach reach_of();
  size_t lay_out_queues(const Reach& reach);
  size_t lay_out_slots(const Reach& reach, size_t at);
  void index_consumers();
  void find_symmetries();
  bool invariants_hold(Mut& after) const;
  uint32_t judge(Mut& before, Mut& after, const PackedOp& op, Scratch& sc, bool state_checks) const;
  void rotate(uint8_t* s, uint32_t q, uint32_t by, Relabel* r) const;
  void permute_messages(uint8_t* s, const uint8_t* to) const;
  void signature(const uint8_t* s, uint32_t i, std::string& out) const;

  int slot_index(uint32_t q, uint32_t i) const { return slot_of_[q * n_ + i]; }

  ExploreConfig config_;
  std::shared_ptr<const Wiring> wiring_;
  bool symmetry_;
  uint32_t n_ = 0;  // menu messages
  std::vector<Queue> queues_;
  std::vector<Menu> menu_;
  std::vector<int> slot_of_;  // [q * n + i] -> slot, or -1
  std::vector<Slot> slots_;
  std::vector<uint32_t> slot_off_;     // [q * n + i] -> record offset, 0 if no slot (hot path)
  // [q * n + i] -> the slot's attributes by origin (hot path; a copy of slots_' own,
  // not a pointer to them, so that a copy of the space reads its own).
  std::vector<std::array<Attrs, 2>> slot_attrs_;
  std::vector<uint8_t> consumer_queue_, consumer_pos_, consumer_auto_;
  std::vector<uint32_t> consumer_prefetch_;
  uint32_t sent_ = 0, sent_bytes_ = 0, crashes_ = 0, now_ = 0, up_ = 0, attached_ = 0;
  size_t size_ = 0;
  uint32_t max_candidates_ = 0;
  std::vector<std::vector<uint8_t>> classes_;  // interchangeable menu indices, size >= 2
};

}  // namespace mq::explorer
