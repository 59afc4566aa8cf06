// The packed state space against the model: round trips of random reachable states,
// every transition of whole explorations compared with Model::apply and
// ModelProperties::observe (cross-check), and the symmetry quotient: the canonical
// images of the states reachable without symmetry are exactly the states reachable
// with it.
#include "explorer/packed_space.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>

#include "base/prng.h"
#include "explorer/explorer.h"
#include "properties/model_walk.h"

namespace mq::explorer {
namespace {


inline constexpr int kRandomConfigs = 24;
inline constexpr int kWalkSteps = 60;

ExploreConfig shipped(const std::string& name) {
  auto c = load_explore_config(std::string(MQ_SOURCE_DIR) + "/configs/" + name);
  MQ_CHECK(c.ok());
  return *c;
}

// A random small configuration: a random topology and a menu of up to four messages,
// some of them alike (so that message symmetry has something to do).
ExploreConfig random_config(uint64_t seed) {
  Prng prng(seed);
  ExploreConfig c;
  c.topology = random_topology(prng);
  for (auto& q : c.topology.queues) {
    // What the packed space explores (unsupported_reason): rejecting queues that
    // remember every id.
    q.overflow = Overflow::kReject;
    q.dedup_window_ids = 0;
    q.dedup_window_ns = 0;
    q.max_retries = static_cast<uint32_t>(prng.range(0, 2));
    if (q.visibility_timeout_ns > 0) q.visibility_timeout_ns = prng.range(1, 2);  // within the clock bound
  }
  const auto n = prng.range(1, 4);
  for (int64_t i = 0; i < n; ++i) {
    MenuMessage m;
    const bool topic = !c.topology.topics.empty() && prng.range(0, 3) == 0;
    if (topic)
      m.topic = static_cast<TopicId>(prng.range(0, c.topology.topics.size() - 1));
    else
      m.queue = static_cast<QueueId>(prng.range(0, c.topology.queues.size() - 1));
    m.spec.priority = static_cast<Priority>(prng.range(0, 1));
    m.spec.ttl_ns = static_cast<TimeNs>(prng.range(0, 2));
    m.spec.delay_ns = prng.range(0, 3) == 0 ? 1 : 0;
    if (i > 0 && prng.range(0, 2) == 0) m = c.messages.back();  // alike
    c.messages.push_back(m);
  }
  for (size_t i = 0; i < c.messages.size(); ++i) c.messages[i].spec.id = i + 1;
  for (size_t i = 0; i < c.messages.size(); ++i) c.messages[i].spec.payload = "m" + std::to_string(i + 1);
  c.max_time_ns = static_cast<TimeNs>(prng.range(0, 3));
  c.max_crashes = static_cast<uint32_t>(prng.range(0, 1));
  c.consumer_faults = prng.range(0, 1) == 1;
  c.liveness = false;
  c.max_states = 30'000;
  return c;
}

std::shared_ptr<const Wiring> wiring_of(const ExploreConfig& c) {
  return Model::create(c.topology).value().wiring();
}

std::vector<uint8_t> root_of(const PackedSpace& s) {
  std::vector<uint8_t> out(s.state_size());
  s.root(out.data());
  return out;
}

TEST(PackedSpaceTest, RandomWalksRoundTripAndAgreeWithTheModel) {
  int walked = 0, steps = 0;
  for (int k = 0; k < kRandomConfigs; ++k) {
    const ExploreConfig c = random_config(1000 + k);
    if (c.topology.validate().ok() == false || !PackedSpace::unsupported_reason(c).empty()) continue;
    ++walked;
    const PackedSpace space(c, wiring_of(c), /*symmetry=*/false);
    auto sc = space.make_scratch();
    Prng prng(77 + k);
    std::vector<uint8_t> s = root_of(space), next(space.state_size()), back(space.state_size());
    std::vector<PackedSpace::PackedOp> ops(space.max_candidates());
    for (int step = 0; step < kWalkSteps; ++step) {
      const SearchNode node = space.to_node(s.data());
      space.from_node(node, back.data());
      ASSERT_EQ(back, s) << "config " << k << " step " << step << "\n" << to_string(node.model.state());
      const std::vector<Op> want = candidate_ops(node, c);
      const uint32_t n = space.candidates(s.data(), ops.data());
      ASSERT_EQ(n, want.size());
      for (uint32_t i = 0; i < n; ++i) {
        ASSERT_EQ(to_string(space.to_op(s.data(), ops[i])), to_string(want[i]));
        uint32_t violations = 0;
        const bool changed = space.apply(s.data(), ops[i], next.data(), violations, sc);
        const auto ref = successor(node, want[i], apply_model);
        EXPECT_EQ(changed, ref.changed) << to_string(want[i]);
        EXPECT_EQ(violations, 0u) << to_string(want[i]);
        EXPECT_TRUE(ref.violations.empty()) << to_string(want[i]);
        if (!changed) continue;
        space.from_node(ref.node, back.data());
        ASSERT_EQ(back, next) << "config " << k << " " << to_string(want[i]) << " from\n"
                              << to_string(node.model.state());
      }
      if (n == 0) break;
      ++steps;
      uint32_t violations = 0;
      const auto pick = static_cast<uint32_t>(prng.range(0, n - 1));
      if (space.apply(s.data(), ops[pick], next.data(), violations, sc)) s = next;
    }
  }
  EXPECT_GE(walked, kRandomConfigs / 2);
  EXPECT_GE(steps, walked * kWalkSteps / 2);
}

TEST(PackedSpaceTest, EveryTransitionAgreesWithTheReferenceOnShippedAndRandomConfigs) {
  std::vector<ExploreConfig> configs{shipped("explore-small.json"), shipped("explore-medium.json")};
  for (auto& c : configs) c.max_states = 20'000;
  for (int k = 0; k < kRandomConfigs; ++k) configs.push_back(random_config(2000 + k));
  for (const auto& c : configs) {
    if (!c.topology.validate().ok()) continue;
    SearchOptions cross;
    cross.cross_check = true;  // MQ_CHECKs every transition
    cross.symmetry = false;
    SearchOptions reference;
    reference.reference = true;
    const ExploreResult a = explore(c, cross), b = explore(c, reference);
    EXPECT_NE(a.engine.find("packed"), std::string::npos) << a.engine;
    EXPECT_EQ(a.states, b.states);
    EXPECT_EQ(a.transitions, b.transitions);
    EXPECT_EQ(a.max_depth, b.max_depth);
    EXPECT_EQ(a.complete, b.complete);
  }
}

// Breadth-first search over the packed space without symmetry, canonicalizing each
// state with a symmetric space: the set of canonical images.
std::set<std::vector<uint8_t>> canonical_images(const ExploreConfig& c) {
  const PackedSpace plain(c, wiring_of(c), false), sym(c, wiring_of(c), true);
  auto sc = plain.make_scratch();
  std::set<std::vector<uint8_t>> seen, images;
  std::deque<std::vector<uint8_t>> frontier{root_of(plain)};
  seen.insert(frontier.front());
  std::vector<PackedSpace::PackedOp> ops(plain.max_candidates());
  std::vector<uint8_t> next(plain.state_size());
  for (size_t guard = 0; !frontier.empty() && guard < 1'000'000; ++guard) {
    std::vector<uint8_t> s = std::move(frontier.front());
    frontier.pop_front();
    std::vector<uint8_t> image = s;
    sym.canonicalize(image.data());
    images.insert(image);
    const uint32_t n = plain.candidates(s.data(), ops.data());
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t violations = 0;
      if (plain.apply(s.data(), ops[i], next.data(), violations, sc) && seen.insert(next).second)
        frontier.push_back(next);
    }
  }
  return images;
}

TEST(PackedSpaceTest, SymmetryQuotientIsTheSetOfCanonicalImages) {
  // The audit's repaired design: two interchangeable consumers and two alike messages.
  ExploreConfig c = shipped("explore-small.json");
  c.messages[2] = c.messages[0];
  c.max_time_ns = 0;
  c.liveness = false;
  const auto images = canonical_images(c);
  const ExploreResult reduced = explore(c);
  SearchOptions off;
  off.symmetry = false;
  const ExploreResult full = explore(c, off);
  EXPECT_NE(reduced.symmetry.find("messages #1 #3"), std::string::npos) << reduced.symmetry;
  EXPECT_NE(reduced.symmetry.find("consumers c0 c1"), std::string::npos) << reduced.symmetry;
  EXPECT_EQ(reduced.states, images.size());
  EXPECT_LT(reduced.states * 2, full.states);
  EXPECT_GE(reduced.represented, full.states);  // the orbits cover every reachable state
  EXPECT_TRUE(reduced.complete && full.complete);
  for (int k = 0; k < kRandomConfigs; ++k) {
    const ExploreConfig r = random_config(3000 + k);
    if (!r.topology.validate().ok()) continue;
    ExploreConfig small = r;
    small.max_states = 20'000;  // keep the set-based search short
    if (!explore(small, off).complete) continue;
    EXPECT_EQ(explore(small).states, canonical_images(small).size()) << "random config " << k;
  }
}

}  // namespace
}  // namespace mq::explorer
