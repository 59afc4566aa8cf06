#include "formats/input_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

namespace mq {

Status check_input_file(const std::string& path) {
  if (path.empty()) return invalid_argument("an empty path where a file was expected");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return not_found(path + ": no such file");
    return io_error(path + ": cannot open for reading: " + std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) return invalid_argument(path + ": is a directory, not a file");
  return Status();
}

Result<InputFile> InputFile::open(const std::string& path, bool allow_stdin) {
  InputFile f;
  if (path == "-" && allow_stdin) {
    f.stdin_ = &std::cin;
    f.name_ = kStdinName;
    return f;
  }
  MQ_RETURN_IF_ERROR(check_input_file(path));
  constexpr size_t kBufferBytes = size_t{1} << 20;
  f.buffer_ = std::make_unique<std::vector<char>>(kBufferBytes);
  f.file_ = std::make_unique<std::ifstream>();
  f.file_->rdbuf()->pubsetbuf(f.buffer_->data(), static_cast<std::streamsize>(kBufferBytes));
  f.file_->open(path, std::ios::binary);
  if (!*f.file_) return io_error(path + ": cannot open for reading: " + std::strerror(errno));
  f.name_ = path;
  return f;
}

}  // namespace mq
