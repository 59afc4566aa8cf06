#pragma once
// advise_huge_pages: asks the kernel to back a large buffer with transparent huge
// pages (2 MiB), so that filling it costs one page fault per 2 MiB instead of one per
// 4 KiB. A simulator run writes its whole history (tens of MB) into fresh memory, and
// on a virtual machine a page fault costs microseconds: the faults were a third of a
// seed's time (docs/performance.md, "Simulator").
//
// Only a hint: no content and no result changes, and it may do nothing (a kernel
// without transparent huge pages, or one set to "never"; under "always" it is not
// needed). Never fails. Thread-safety: any thread; it touches no memory.

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace mq {

// Buffers smaller than this are not worth a system call (less than one huge page).
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

inline void advise_huge_pages(const void* data, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (bytes < kHugePageBytes) return;
  constexpr uintptr_t kPage = 4096;  // madvise takes page-aligned ranges: the whole pages inside
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + kPage - 1) & ~(kPage - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kPage - 1);
  if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace mq
