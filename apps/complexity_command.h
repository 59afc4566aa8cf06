#pragma once
// `mqharness complexity`: measures the broker core's cost per operation across sizes
// and fits each of the origin document's Theorem 4.2 claims to a complexity class.

#include <cstdint>

namespace CLI {
class App;
}

namespace mq::app {

struct ComplexityOptions {
  int min_log2 = 10;      // smallest queue size 2^min_log2
  int max_log2 = 20;      // largest queue size 2^max_log2
  uint32_t ops = 4096;    // operations timed per sample
  uint32_t repeats = 11;  // samples per size; the median is used
};

void add_complexity_command(CLI::App& app, ComplexityOptions& options);
int run_complexity_command(const ComplexityOptions& options);

}  // namespace mq::app
