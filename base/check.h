#pragma once
// MQ_CHECK: an assertion that stays on in every build, release included.
// Invariants of the model, the broker and the simulator are checked with it; a
// failure prints the condition and its place, then aborts (a crash with a core is
// the right answer to a broken invariant: continuing would corrupt the history).

#include <cstdio>
#include <cstdlib>

namespace mq::detail {
[[noreturn]] inline void check_failed(const char* cond, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "%s:%d: MQ_CHECK(%s) failed%s%s\n", file, line, cond, msg[0] != '\0' ? ": " : "", msg);
  std::fflush(stderr);
  std::abort();
}
}  // namespace mq::detail

#define MQ_CHECK(cond)                                                      \
  do {                                                                      \
    if (!(cond)) ::mq::detail::check_failed(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define MQ_CHECK_MSG(cond, msg)                                              \
  do {                                                                       \
    if (!(cond)) ::mq::detail::check_failed(#cond, __FILE__, __LINE__, msg); \
  } while (0)
