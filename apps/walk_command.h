#pragma once
// `mqharness walk`: random walks of the model, every step judged by ModelProperties,
// each walk ended by the liveness drain.

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace mq::app {

struct WalkOptions {
  std::string seeds = "1..100";  // "A..B" (inclusive) or one seed "S"
  uint64_t first_seed = 1;       // parsed from `seeds`
  uint64_t last_seed = 100;
  uint64_t steps = 2000;
  std::string topology = "default";  // "default" or "random" (a topology per seed)
};

void add_walk_command(CLI::App& app, WalkOptions& options);
// Exit status: 0 when every property held on every seed, 1 on a violation.
int run_walk_command(WalkOptions options);
// "A..B" or "S" into [first, last]; false when malformed or A > B.
bool parse_seed_range(const std::string& text, uint64_t& first, uint64_t& last);

}  // namespace mq::app
