#include "explorer/huge_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>

#include "base/check.h"

namespace mq::explorer {
namespace {

// Below a huge page, ordinary pages: a small table should not cost 2 MiB.
size_t rounded(size_t bytes) {
  const size_t page = bytes < HugeMemory::kHugePage ? 4096 : HugeMemory::kHugePage;
  return (bytes + page - 1) & ~(page - 1);
}

// `length` bytes (a multiple of 2 MiB) of anonymous memory at a 2 MiB boundary,
// advised for huge pages: one huge page more is mapped, then the unaligned head and
// the tail are given back.
void* map_aligned(size_t length, int prot) {
  void* p = mmap(nullptr, length + HugeMemory::kHugePage, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MQ_CHECK_MSG(p != MAP_FAILED, "explore: out of memory");
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (base + HugeMemory::kHugePage - 1) & ~(uintptr_t{HugeMemory::kHugePage} - 1);
  if (aligned > base) munmap(p, aligned - base);
  const size_t tail = HugeMemory::kHugePage - (aligned - base);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  void* data = reinterpret_cast<void*>(aligned);
  madvise(data, length, MADV_HUGEPAGE);  // advice only: no error if the kernel declines
  return data;
}

}  // namespace

HugeMemory::HugeMemory(size_t bytes, bool populate) : bytes_(bytes) {
  MQ_CHECK(bytes > 0);
  const size_t length = rounded(bytes);
  if (length < kHugePage) {
    data_ = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MQ_CHECK_MSG(data_ != MAP_FAILED, "explore: out of memory");
    return;
  }
  data_ = map_aligned(length, PROT_READ | PROT_WRITE);
#ifdef MADV_POPULATE_WRITE
  if (populate) madvise(data_, length, MADV_POPULATE_WRITE);  // advice too: a fault per page otherwise
#else
  (void)populate;
#endif
}

HugeMemory::~HugeMemory() {
  if (data_) munmap(data_, rounded(bytes_));
}

HugeRegion::HugeRegion(size_t max_bytes) : max_(max_bytes) {
  MQ_CHECK(max_bytes > 0);
  data_ = map_aligned(rounded(std::max(max_bytes, HugeMemory::kHugePage)), PROT_NONE);
}

HugeRegion::~HugeRegion() {
  if (data_) munmap(data_, rounded(std::max(max_, HugeMemory::kHugePage)));
}

void HugeRegion::commit(size_t bytes) {
  MQ_CHECK(committed_ <= bytes && bytes <= max_);
  // Page granularity: the prefix made writable may reach past `bytes`, never past the
  // reservation (whose length is a multiple of 2 MiB).
  const size_t from = rounded(committed_), to = rounded(bytes);
  if (to > from)
    MQ_CHECK_MSG(mprotect(static_cast<char*>(data_) + from, to - from, PROT_READ | PROT_WRITE) == 0,
                 "explore: out of memory");
  committed_ = bytes;
}

}  // namespace mq::explorer
