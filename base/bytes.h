#pragma once
// ByteWriter / ByteReader: LEB128 varints and length-prefixed strings, for compact
// deterministic encodings (the explorer stores millions of encoded states).
// A reader never reads past its end: a short or malformed input is an MQ_CHECK,
// because every byte it reads was written by ByteWriter in the same process.

#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"

namespace mq {

// How many bytes ByteWriter::u(v) writes.
inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  void u(uint64_t v) {
    for (int i = 0; i < 10 && v >= 0x80; ++i, v >>= 7) out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
    out_.push_back(static_cast<char>(v));
  }
  void s(std::string_view v) {
    u(v.size());
    out_.append(v);
  }
  size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}
  uint64_t u() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      MQ_CHECK(p_ < end_);
      const auto byte = static_cast<uint8_t>(*p_++);
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    MQ_CHECK_MSG(false, "varint longer than 10 bytes");
    return 0;
  }
  std::string s() {
    const uint64_t n = u();
    MQ_CHECK(n <= static_cast<uint64_t>(end_ - p_));
    std::string v(p_, n);
    p_ += n;
    return v;
  }
  bool done() const { return p_ == end_; }

 private:
  const char* p_;
  const char* end_;
};

}  // namespace mq
