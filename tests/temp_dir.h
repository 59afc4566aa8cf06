#pragma once
// Temporary paths for tests. ctest runs each test as its own process, several at once,
// so every path carries the test file's name and the process id (a directory also the
// running test's name), and two runs never share one.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace mq::test {

// A path in the test's temporary directory, unique to this process: `test` names the
// test file ("cli_test"), `name` the file. Nothing is created.
inline std::string temp_path(const std::string& test, const std::string& name) {
  return ::testing::TempDir() + test + "_" + std::to_string(::getpid()) + "_" + name;
}

// A fresh, empty directory for the running test: `test` names the test file, `tag`
// tells one test's directories apart. What was there before is removed; the caller
// removes the directory at the end.
inline std::string fresh_temp_dir(const std::string& test, const std::string& tag = "") {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = (info != nullptr ? std::string(info->name()) : std::string("outside-a-test")) +
                           (tag.empty() ? "" : "_" + tag);
  const std::filesystem::path dir = temp_path(test, name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace mq::test
