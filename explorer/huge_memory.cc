#include "explorer/huge_memory.h"

#include <sys/mman.h>

#include <cstdint>

#include "base/check.h"

namespace mq::explorer {
namespace {

// Below a huge page, ordinary pages: a small table should not cost 2 MiB.
size_t rounded(size_t bytes) {
  const size_t page = bytes < HugeMemory::kHugePage ? 4096 : HugeMemory::kHugePage;
  return (bytes + page - 1) & ~(page - 1);
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
  // One huge page more than needed, then the unaligned head and the tail given back.
  void* p = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  MQ_CHECK_MSG(p != MAP_FAILED, "explore: out of memory");
  const auto base = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = (base + kHugePage - 1) & ~(uintptr_t{kHugePage} - 1);
  if (aligned > base) munmap(p, aligned - base);
  const size_t tail = kHugePage - (aligned - base);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + length), tail);
  data_ = reinterpret_cast<void*>(aligned);
  madvise(data_, length, MADV_HUGEPAGE);  // advice only: no error if the kernel declines
#ifdef MADV_POPULATE_WRITE
  if (populate) madvise(data_, length, MADV_POPULATE_WRITE);  // advice too: a fault per page otherwise
#else
  (void)populate;
#endif
}

HugeMemory::~HugeMemory() {
  if (data_) munmap(data_, rounded(bytes_));
}

}  // namespace mq::explorer
