// The model's properties under RapidCheck: random topologies, random operation
// sequences (shrunk to a minimal failing one on failure), every step judged.
// Reproduce a failure with the RC_PARAMS line RapidCheck prints.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <variant>

#include "properties/model_walk.h"

namespace mq {
namespace {

rc::Gen<OpChoice> gen_choice() {
  return rc::gen::apply(
      [](int kind, uint64_t bits) {
        return OpChoice{static_cast<OpKind>(kind), bits};
      },
      rc::gen::inRange(0, kOpKinds), rc::gen::arbitrary<uint64_t>());
}

// Runs the sequence on a topology drawn from `topology_seed` with only `property`
// enabled, drains, and asserts no violation; on failure prints the trace.
void check_property(ModelProperty property) {
  const auto topology_seed = *rc::gen::arbitrary<uint64_t>();
  const auto choices = *rc::gen::container<std::vector<OpChoice>>(gen_choice());
  Prng prng(topology_seed);
  const Topology topology = topology_seed % 4 == 0 ? default_topology() : random_topology(prng);
  Model model = Model::create(topology).value();
  ModelProperties props(model, bit(property));
  MessageId next_id = 1;
  std::vector<std::string> trace;
  for (const auto& choice : choices) {
    const Op op = interpret(model, choice, next_id);
    trace.push_back(to_string(op));
    Model before = model;
    auto result = model.apply(op);
    const auto v = props.observe(before, op, result, model);
    if (!v.empty())
      RC_FAIL(v.front().message + "\nafter: " + trace.back() + "\nstate:\n" + to_string(model.state()));
  }
  const auto v = drain(model, props, apply_model, kDrainBoundNs, &trace);
  if (!v.empty()) RC_FAIL(v.front().message + "\nstate:\n" + to_string(model.state()));
  RC_TAG(choices.size() > 50 ? "long" : "short");
}

// Def. 2.3: enqueue is true iff the queue has capacity.
RC_GTEST_PROP(ModelProperty, CapacityNeverExceededAndRefusalIffFull, ()) {
  check_property(ModelProperty::kCapacity);
}
// Thm 3.2.1 / 4.1.4, repaired: FIFO within a priority level among first deliveries.
RC_GTEST_PROP(ModelProperty, FifoWithinPriorityLevel, ()) {
  check_property(ModelProperty::kFifo);
}
// Section 7.1, repaired: a higher priority is delivered first.
RC_GTEST_PROP(ModelProperty, HigherPriorityFirst, ()) {
  check_property(ModelProperty::kPriority);
}
// Thm 3.3.1 with epsilon = 1 among consumers that always had credit.
RC_GTEST_PROP(ModelProperty, RoundRobinCountsDifferByAtMostOne, ()) {
  check_property(ModelProperty::kRoundRobin);
}
// Thm 3.1.1 / 4.1.2: nothing lost without a crash; durable queues lose nothing.
RC_GTEST_PROP(ModelProperty, NothingLostWithoutCrash, ()) {
  check_property(ModelProperty::kNoLoss);
}
// Def. 2.2's ttl, and delay queues (7.2).
RC_GTEST_PROP(ModelProperty, TtlAndDelayRespected, ()) {
  check_property(ModelProperty::kTtlDelay);
}
// Thm 4.1.1: every accepted message is in exactly one place.
RC_GTEST_PROP(ModelProperty, Conservation, ()) {
  check_property(ModelProperty::kConservation);
}
// Thm 4.1.3, repaired: once faults stop, everything reaches a terminal state.
RC_GTEST_PROP(ModelProperty, EverythingFinishesAfterFaultsStop, ()) {
  check_property(ModelProperty::kLiveness);
}

// The walks reach every operation the model takes: a new kind of Op fails here
// until interpret() can produce it, so the suites above judge it too.
TEST(ModelWalk, EveryKindOfOperationIsWalked) {
  Prng prng(1);
  Model model = Model::create(default_topology()).value();
  MessageId next_id = 1;
  std::set<size_t> kinds;
  for (int step = 0; step < 20'000 && kinds.size() < std::variant_size_v<Op>; ++step) {
    const Op op = interpret(model, random_choice(prng, model), next_id);
    kinds.insert(op.index());
    (void)model.apply(op);
  }
  EXPECT_EQ(kinds.size(), std::variant_size_v<Op>);
}

}  // namespace
}  // namespace mq
