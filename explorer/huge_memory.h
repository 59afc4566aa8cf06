#pragma once
// HugeMemory: a zeroed block of anonymous memory for the explorer's big arrays (the
// visited table, layer blocks, the parent and transition arrays, liveness edges),
// aligned to 2 MiB and advised for transparent huge pages.
//
// Why: the visited table is looked up at random, once per transition; with 4 KiB
// pages nearly every lookup also misses the TLB, and in this project's virtual
// machines the page walk costs as much as the cache miss. The kernel only backs an
// address range with a huge page if the range covers a whole aligned 2 MiB, and
// mmap() aligns to 4 KiB only, so the mapping is made 2 MiB larger and trimmed.
// With `populate`, the memory is faulted in by one madvise() (after the huge-page
// advice, so that it is populated with huge pages) instead of a fault per page.
//
// Huge pages are advice: if the kernel declines, the memory is ordinary pages.
// Errors: MQ_CHECK on failing to map (out of memory). Thread-safety: none (a value).

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

namespace mq::explorer {

class HugeMemory {
 public:
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugeMemory() = default;
  // REQUIRES: bytes > 0.
  explicit HugeMemory(size_t bytes, bool populate = false);
  ~HugeMemory();
  HugeMemory(HugeMemory&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  HugeMemory& operator=(HugeMemory&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  HugeMemory(const HugeMemory&) = delete;
  HugeMemory& operator=(const HugeMemory&) = delete;

  void* data() const { return data_; }
  size_t size() const { return bytes_; }  // as asked (the mapping is rounded up to 2 MiB)

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// HugeRegion: address space for an array that doubles in place. The constructor
// reserves `max_bytes` of addresses, 2 MiB aligned and advised for huge pages, that
// hold no memory and count against none (PROT_NONE); commit() makes a longer prefix
// readable and writable, and the pages that adds are zero until first touched. So an
// array that doubles keeps its first half where it is and only faults in the second,
// where a copy to a new mapping holds both at once (the visited table's doubling at
// the search's widest layers was a third of its peak memory).
// Errors: MQ_CHECK on failing to reserve or commit. Thread-safety: none (a value).
class HugeRegion {
 public:
  HugeRegion() = default;
  // REQUIRES: max_bytes > 0.
  explicit HugeRegion(size_t max_bytes);
  ~HugeRegion();
  HugeRegion(HugeRegion&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        max_(std::exchange(o.max_, 0)),
        committed_(std::exchange(o.committed_, 0)) {}
  HugeRegion& operator=(HugeRegion&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(max_, o.max_);
    std::swap(committed_, o.committed_);
    return *this;
  }
  HugeRegion(const HugeRegion&) = delete;
  HugeRegion& operator=(const HugeRegion&) = delete;

  // REQUIRES: size() <= bytes <= max_bytes().
  void commit(size_t bytes);
  void* data() const { return data_; }
  size_t size() const { return committed_; }
  size_t max_bytes() const { return max_; }

 private:
  void* data_ = nullptr;
  size_t max_ = 0, committed_ = 0;
};

// HugeArray: an array that grows at its end by blocks of huge-page memory and never
// moves: growing costs no copy, and the memory is first touched once. For the
// explorer's per-state and per-edge arrays (millions of elements), which a
// std::vector would copy and fault in again at every doubling.
// Thread-safety: none.
template <class T>
class HugeArray {
  static_assert(std::is_trivially_copyable_v<T> && (sizeof(T) & (sizeof(T) - 1)) == 0);

 public:
  static constexpr size_t kBlockBytes = HugeMemory::kHugePage;
  static constexpr size_t kPerBlock = kBlockBytes / sizeof(T);

  void push_back(const T& v) {
    if (size_ == blocks_.size() * kPerBlock) blocks_.emplace_back(kBlockBytes);
    (*this)[size_++] = v;
  }
  T& operator[](size_t i) { return static_cast<T*>(blocks_[i / kPerBlock].data())[i % kPerBlock]; }
  const T& operator[](size_t i) const {
    return static_cast<const T*>(blocks_[i / kPerBlock].data())[i % kPerBlock];
  }
  size_t size() const { return size_; }
  uint64_t memory_bytes() const { return blocks_.size() * kBlockBytes; }

 private:
  std::vector<HugeMemory> blocks_;
  size_t size_ = 0;
};

}  // namespace mq::explorer
