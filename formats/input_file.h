#pragma once
// InputFile: a file the user named as input, opened with a message for each way it
// can be wrong, so that "no such file", "a directory" and "cannot be read" are never
// confused with a malformed file (an empty history, bad JSON at line 1):
//   kNotFound        "PATH: no such file"
//   kInvalidArgument "PATH: is a directory, not a file"
//   kIoError         "PATH: cannot open for reading: <errno text>"
// "-" is standard input where the caller allows it (its name in messages is
// "<stdin>").
//
// Thread-safety: none needed; one InputFile per reader.

#include <fstream>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq {

inline constexpr const char* kStdinName = "<stdin>";

class InputFile {
 public:
  // With allow_stdin, "-" is standard input; otherwise it is a file named "-".
  static Result<InputFile> open(const std::string& path, bool allow_stdin = false);

  std::istream& stream() { return file_ ? *file_ : *stdin_; }
  // The path as given, or "<stdin>": what error messages name.
  const std::string& name() const { return name_; }
  bool is_stdin() const { return file_ == nullptr; }

 private:
  InputFile() = default;
  std::unique_ptr<std::vector<char>> buffer_;  // the file's stream buffer: fewer, larger reads
  std::unique_ptr<std::ifstream> file_;
  std::istream* stdin_ = nullptr;
  std::string name_;
};

// The checks of InputFile::open without opening: ok, or the same three messages.
Status check_input_file(const std::string& path);

}  // namespace mq
