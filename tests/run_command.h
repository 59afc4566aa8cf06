#pragma once
// run_command: runs a shell command line for a test and returns its exit status and
// output, read with a bound (a runaway child cannot fill the test's memory). For the
// tests that drive mqharness, mqharness-mutants and the scripts as a user would; with
// the checks of the command-line convention they share (README "One convention for
// every command").

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "temp_dir.h"

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

// For EXPECT_TRUE: `command` (standard error joined to the output) exits with `status`
// and prints `text`; on failure the command and all it printed.
inline ::testing::AssertionResult exits_with(const std::string& command, int status,
                                             const std::string& text) {
  const Outcome o = run_command(command + " 2>&1");
  if (o.status == status && o.output.find(text) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << command << "\nexit " << o.status << ", wanted " << status << " and the text: " << text << "\n"
         << o.output;
}

// One invocation of a command and what it must answer (exits_with).
struct Expected {
  std::string args;  // appended to the command after a space ("" for none)
  int status = 0;
  std::string text;
};

// Each case of `cases` run as `command ARGS`, checked with exits_with.
inline void expect_each(const std::string& command, const std::vector<Expected>& cases) {
  for (const Expected& c : cases) {
    EXPECT_TRUE(exits_with(c.args.empty() ? command : command + " " + c.args, c.status, c.text));
  }
}

// The convention's --json: `command` (standard error dropped) writes exactly one JSON
// object on one line, whose first key is `key` (the version key naming the verb), with
// "exit_status" and "outcome" matching `status`. Returns the object (null after a
// failure, which is reported).
inline nlohmann::ordered_json json_object_of(const std::string& command, const std::string& key, int status) {
  const Outcome o = run_command(command + " 2>/dev/null");
  EXPECT_EQ(o.status, status) << command << "\n" << o.output;
  if (o.output.empty() || o.output.find('\n') != o.output.size() - 1) {
    ADD_FAILURE() << "not one line: " << command << "\n" << o.output;
    return nullptr;
  }
  auto j = nlohmann::ordered_json::parse(o.output, nullptr, false);
  if (!j.is_object()) {
    ADD_FAILURE() << "not an object: " << command << "\n" << o.output;
    return nullptr;
  }
  EXPECT_EQ(j.begin().key(), key) << o.output;
  EXPECT_EQ(j.value("exit_status", -1), status) << o.output;
  const char* outcomes[] = {"ok", "violated", "input error", "bound reached"};
  if (status >= 0 && status <= 3) {
    EXPECT_EQ(j.value("outcome", ""), outcomes[status]) << o.output;
  }
  return j;
}

// The text after the first `prefix` in `output`, to the end of its line ("" if none).
inline std::string line_after(const std::string& output, const std::string& prefix) {
  const size_t at = output.find(prefix);
  if (at == std::string::npos) return "";
  const size_t start = at + prefix.size();
  return output.substr(start, output.find('\n', start) - start);
}

}  // namespace mq::test
