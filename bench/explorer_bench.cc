// The explorer: whole searches of configs/explore-small.json (safety only, and with
// liveness) on one and two threads, and the packed state space's successor function
// alone. Counters are states (or transitions) per second of the benchmark's time.
// The side-by-side comparison with SPIN is bench/spin/run.sh (docs/explorer.md).
#include <benchmark/benchmark.h>

#include "explorer/explorer.h"
#include "explorer/packed_space.h"

namespace mq::explorer {
namespace {

ExploreConfig small_config(bool liveness) {
  auto loaded = load_explore_config(MQ_SOURCE_DIR "/configs/explore-small.json");
  MQ_CHECK(loaded.ok());
  ExploreConfig c = *loaded;
  c.liveness = liveness;
  return c;
}

void BM_ExploreSmall(benchmark::State& state) {
  const ExploreConfig c = small_config(state.range(0) != 0);
  SearchOptions o;
  o.jobs = static_cast<uint32_t>(state.range(1));
  o.symmetry = false;
  uint64_t states = 0;
  for (auto _ : state) {
    const ExploreResult r = explore(c, o);
    MQ_CHECK(r.complete && !r.counterexample && !r.lasso);
    states += r.states;
  }
  state.counters["states/s"] = benchmark::Counter(static_cast<double>(states), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExploreSmall)
    ->ArgNames({"liveness", "jobs"})
    ->Args({0, 1})
    ->Args({0, 2})
    ->Args({1, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Every candidate of the initial state's successors, over and over: the cost of
// apply() (operation, properties, invariants) without the search around it.
void BM_PackedSuccessors(benchmark::State& state) {
  const ExploreConfig c = small_config(false);
  const PackedSpace space(c, Model::create(c.topology).value().wiring(), false);
  auto sc = space.make_scratch();
  std::vector<uint8_t> root(space.state_size()), mid(space.state_size()), out(space.state_size());
  space.root(root.data());
  std::vector<PackedSpace::PackedOp> ops(space.max_candidates());
  uint32_t violations = 0;
  space.candidates(root.data(), ops.data());
  space.apply(root.data(), ops[0], mid.data(), violations, sc);  // one message sent
  const uint32_t m = space.candidates(mid.data(), ops.data());
  uint64_t transitions = 0;
  for (auto _ : state) {
    for (uint32_t k = 0; k < m; ++k)
      benchmark::DoNotOptimize(space.apply(mid.data(), ops[k], out.data(), violations, sc));
    transitions += m;
  }
  state.counters["transitions/s"] =
      benchmark::Counter(static_cast<double>(transitions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PackedSuccessors);

}  // namespace
}  // namespace mq::explorer
