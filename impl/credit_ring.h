#pragma once
// CreditRing: which consumers of one queue may take a delivery now (attached, with
// prefetch credit left), as a bitset over their round-robin positions with a
// summary level on top (bit w of the summary is set iff word w is non-zero).
// "The next consumer with credit at or after the cursor" then costs O(1) for up to
// 4096 consumers and O(n / 4096) beyond, instead of the model's O(|C|) scan, while
// choosing exactly the consumer the model chooses.
// Thread-safety: none.

#include <bit>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/check.h"

namespace mq::impl {

class CreditRing {
 public:
  CreditRing() = default;
  explicit CreditRing(uint32_t size)
      : size_(size), words_((size + 63) / 64, 0), summary_((words_.size() + 63) / 64, 0) {}

  void set(uint32_t pos, bool has_credit) {
    MQ_CHECK(pos < size_);
    const size_t w = pos / 64;
    const uint64_t bit = uint64_t{1} << (pos % 64);
    words_[w] = has_credit ? (words_[w] | bit) : (words_[w] & ~bit);
    const uint64_t sbit = uint64_t{1} << (w % 64);
    summary_[w / 64] = words_[w] != 0 ? (summary_[w / 64] | sbit) : (summary_[w / 64] & ~sbit);
  }
  bool test(uint32_t pos) const {
    MQ_CHECK(pos < size_);
    return (words_[pos / 64] >> (pos % 64)) & 1;
  }

  // The first position with credit in cyclic order from `from`, if any.
  std::optional<uint32_t> next_from(uint32_t from) const {
    if (size_ == 0) return std::nullopt;
    MQ_CHECK(from < size_);
    if (auto p = first_at_or_after(from)) return p;
    return from == 0 ? std::nullopt : first_at_or_after(0);
  }

 private:
  std::optional<uint32_t> first_at_or_after(uint32_t pos) const {
    size_t w = pos / 64;
    const uint64_t here = words_[w] & (~uint64_t{0} << (pos % 64));
    if (here != 0) return static_cast<uint32_t>(w * 64 + std::countr_zero(here));
    // Find the next non-zero word through the summary; the loop is bounded by the
    // number of summary words.
    size_t next = w + 1;
    for (size_t s = next / 64; s < summary_.size(); ++s) {
      uint64_t bits = summary_[s];
      if (s == next / 64) bits &= ~uint64_t{0} << (next % 64);  // words before `next` are done
      if (bits == 0) continue;
      w = s * 64 + static_cast<size_t>(std::countr_zero(bits));
      return static_cast<uint32_t>(w * 64 + std::countr_zero(words_[w]));
    }
    return std::nullopt;
  }

  uint32_t size_ = 0;
  std::vector<uint64_t> words_;
  std::vector<uint64_t> summary_;
};

}  // namespace mq::impl
