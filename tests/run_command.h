#pragma once
// run_command: runs a shell command line for a test and returns its exit status and
// output, read with a bound (a runaway child cannot fill the test's memory). For the
// tests that drive mqharness and mqharness-mutants as a user would.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace mq::test {

struct Outcome {
  int status = -1;     // the exit status; -1 when the process did not exit normally
  std::string output;  // what the command line wrote to its standard output
};

inline constexpr size_t kMaxCommandOutputBytes = size_t{16} << 20;

// `command` is given to /bin/sh as it is (add " 2>&1" to read standard error too).
inline Outcome run_command(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  Outcome out;
  if (p == nullptr) return out;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while (out.output.size() < kMaxCommandOutputBytes && (n = std::fread(buf.data(), 1, buf.size(), p)) > 0) {
    out.output.append(buf.data(), n);
  }
  const int raw = ::pclose(p);
  out.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return out;
}

}  // namespace mq::test
