#include "formats/line_reader.h"

#include <algorithm>
#include <cstring>
#include <istream>

namespace mq {
namespace {

// Bytes asked of the stream at a time: the first read is small, and each one after
// doubles up to kChunkBytes, so a short input (a fuzz input, a small file) costs no
// megabyte allocation while a long one is read in large chunks.
constexpr size_t kFirstChunkBytes = size_t{4} << 10;
constexpr size_t kChunkBytes = size_t{1} << 20;

// Appends what `in` has (up to `max` bytes) to `buffer`; false at the end of the
// stream or after a failure (badbit). readsome takes only what the stream buffer
// holds, so bytes read before a failing refill are kept (istream::read would lose
// their count).
bool read_more(std::istream& in, std::string& buffer, size_t max) {
  const size_t kept = buffer.size();
  buffer.resize(kept + max);
  std::streamsize got = 0;
  // Two rounds at most: if nothing is buffered, peek() refills the buffer (or ends).
  for (int round = 0; round < 2 && got == 0 && in.good(); ++round) {
    got = in.readsome(buffer.data() + kept, static_cast<std::streamsize>(max));
    if (got == 0 && in.good()) in.peek();
  }
  buffer.resize(kept + static_cast<size_t>(got));
  return got > 0;
}

}  // namespace

LineReader::LineReader(std::istream& in, std::string_view file, size_t max_line_bytes, std::string_view what)
    : in_(in), file_(file), max_line_bytes_(max_line_bytes), what_(what) {
  MQ_CHECK(max_line_bytes_ > 0);
}

std::string LineReader::where(uint64_t line) const {
  return file_ + ":" + std::to_string(line == 0 ? line_ : line) + ": ";
}

bool LineReader::fill() {
  // Drop the lines already returned, except those kept for a rewind.
  const size_t keep_from = mark_pos_ ? *mark_pos_ : pos_;
  buffer_.erase(0, keep_from);
  pos_ -= keep_from;
  if (mark_pos_) mark_pos_ = 0;
  const size_t chunk = chunk_bytes_;
  chunk_bytes_ = std::min(kChunkBytes, chunk_bytes_ == 0 ? kFirstChunkBytes : 2 * chunk_bytes_);
  return read_more(in_, buffer_, chunk == 0 ? kFirstChunkBytes : chunk);
}

Result<std::optional<std::string_view>> LineReader::next() {
  // Bounded by the stream: each round returns a line or reads one more chunk, and a
  // line is at most max_line_bytes_ (checked before the next chunk is read).
  for (;;) {
    const char* start = buffer_.data() + pos_;
    const size_t left = buffer_.size() - pos_;
    const auto* nl = static_cast<const char*>(left > 0 ? std::memchr(start, '\n', left) : nullptr);
    const size_t length = nl != nullptr ? static_cast<size_t>(nl - start) : left;
    if (length > max_line_bytes_) {
      return corruption(where(line_ + 1) + "line longer than " + std::to_string(max_line_bytes_) +
                        " bytes (the limit for " + what_ + ")");
    }
    if (mark_pos_ && pos_ + length - *mark_pos_ > max_marked_bytes_) {
      return corruption(where(line_ + 1) + "the lines read ahead take more than " +
                        std::to_string(max_marked_bytes_) + " bytes (the limit for reading ahead)");
    }
    if (nl != nullptr || (at_end_ && left > 0 && !in_.bad())) {
      ++line_;
      unterminated_ = nl == nullptr;
      pos_ += length + (nl != nullptr ? 1 : 0);
      return std::optional<std::string_view>(std::string_view(start, length));
    }
    if (at_end_) {
      if (in_.bad()) return io_error(where(line_ + 1) + "read failed");
      return std::optional<std::string_view>();
    }
    at_end_ = !fill();
  }
}

void LineReader::mark(size_t max_marked_bytes) {
  mark_pos_ = pos_;
  mark_line_ = line_;
  max_marked_bytes_ = max_marked_bytes;
}

void LineReader::rewind() {
  MQ_CHECK(mark_pos_.has_value());
  pos_ = *mark_pos_;
  line_ = mark_line_;
  unterminated_ = false;
  mark_pos_.reset();
}

}  // namespace mq
