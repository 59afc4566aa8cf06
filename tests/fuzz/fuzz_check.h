#pragma once
// What every fuzz target shares (docs/fuzzing.md). A target is a function
// LLVMFuzzerTestOneInput(data, size) that reads the bytes as hostile input and
// asserts what must hold whatever they are; a failed FUZZ_EXPECT aborts, which
// libFuzzer reports as a crash and saves the input. The same functions are linked
// into corpus_replay (the default build) to re-run every committed corpus file as a
// regression test, without clang.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/status.h"

// Aborts with both sides of a broken expectation.
#define FUZZ_EXPECT(cond, what)                                                        \
  do {                                                                                 \
    if (!(cond)) ::mq::fuzz::expectation_failed(#cond, __FILE__, __LINE__, (what)); \
  } while (0)

namespace mq::fuzz {

[[noreturn]] inline void expectation_failed(const char* cond, const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "%s:%d: fuzz expectation failed: %s\n  %s\n", file, line, cond, what.c_str());
  std::abort();
}

inline std::string_view text_of(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// An error of a reader: one of the codes its header promises, and a message that
// starts with the name it was given (file, and line where there is one).
inline void expect_reader_error(const Status& s, std::string_view name, std::initializer_list<Code> codes) {
  bool allowed = false;
  for (Code c : codes) allowed = allowed || s.code() == c;
  FUZZ_EXPECT(allowed, s.to_string());
  FUZZ_EXPECT(s.message().starts_with(name), s.to_string());
}

}  // namespace mq::fuzz
