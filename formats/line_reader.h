#pragma once
// LineReader: the lines of a stream, each at most a given number of bytes, read in
// growing chunks (up to 1 MiB) and cut at '\n' (memchr; much cheaper than std::getline). Memory is
// one chunk plus the longest line allowed, whatever the stream holds: a line longer
// than the limit is an error naming the file, the line and the limit, found before
// more of it is read.
//
// A reader can be marked and rewound to the mark: it then keeps every byte read since
// the mark (at most `max_marked_bytes`, else next() fails saying so), so a caller can
// look at the first lines (to tell a file's format) and then read them again. This
// is what lets a history be read from standard input, which cannot be reopened.
//
// Errors: kCorruption "FILE:N: line longer than M bytes (the limit for ...)",
// kIoError "FILE:N: read failed".
// Thread-safety: none; one reader per stream.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mq {

class LineReader {
 public:
  // `what` names the kind of line in the limit's message ("a history line").
  // REQUIRES: `in` outlives the reader; max_line_bytes > 0.
  LineReader(std::istream& in, std::string_view file, size_t max_line_bytes,
             std::string_view what = "a line");

  // The next line without its '\n' (a '\r' before it is kept), valid until the next
  // call; nullopt at the end of the stream.
  Result<std::optional<std::string_view>> next();

  // 1-based number of the line next() returned last (0 before the first).
  uint64_t line() const { return line_; }
  // Whether that line ended the stream without a '\n'.
  bool unterminated() const { return unterminated_; }
  const std::string& file() const { return file_; }
  // "FILE:N: " for line N (default: the current line).
  std::string where(uint64_t line = 0) const;

  // Keeps what is read from here on, up to `max_marked_bytes`, for rewind().
  void mark(size_t max_marked_bytes);
  // Back to the mark: next() returns the line after it again. REQUIRES: marked.
  void rewind();

 private:
  bool fill();  // reads one more chunk; false at the end or on a failure

  std::istream& in_;
  std::string file_;
  size_t max_line_bytes_;
  std::string what_;
  std::string buffer_;
  size_t pos_ = 0;  // start of the next line in buffer_
  bool at_end_ = false;
  uint64_t line_ = 0;
  bool unterminated_ = false;
  std::optional<size_t> mark_pos_;  // while marked: buffer_ is not compacted before it
  uint64_t mark_line_ = 0;
  size_t max_marked_bytes_ = 0;
  size_t chunk_bytes_ = 0;  // the next read's size (0: the first, small one)
};

}  // namespace mq
