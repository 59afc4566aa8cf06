#pragma once
// StateStore: the explorer's visited set and BFS queue in one. Each state is stored
// once, as bytes in an arena, in the order it was discovered (so index order is
// breadth-first order), with the index of its parent and the transition that led to
// it (for the shortest path back to the initial state). Lookup is an open-addressing
// table of 32-bit indices keyed by a 64-bit hash of the state's identity bytes.
//
// Each encoding is split in two: identity bytes, which decide whether two states are
// the same, and trailing bytes carried along (history counters that no behaviour
// depends on). Thread-safety: none.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mq {

class StateStore {
 public:
  static constexpr uint32_t kNoParent = UINT32_MAX;

  struct Insert {
    uint32_t index;
    bool inserted;  // false: the state was already known
  };

  // REQUIRES: identity_size <= bytes.size(); fewer than 2^32 - 1 states.
  Insert insert(std::string_view bytes, size_t identity_size, uint32_t parent, uint16_t via);

  size_t size() const { return parent_.size(); }
  std::string_view bytes(uint32_t index) const;
  uint32_t parent(uint32_t index) const { return parent_[index]; }
  uint16_t via(uint32_t index) const { return via_[index]; }
  // Bytes held: arena, indices, table.
  uint64_t memory_bytes() const;

 private:
  std::pair<size_t, std::string_view> record(uint32_t index) const;
  std::string_view identity(uint32_t index) const;
  void grow();

  std::string arena_;              // per state: varint identity size, then the bytes
  std::vector<uint64_t> offset_;   // [index] start in arena_; one extra at the end
  std::vector<uint32_t> parent_;
  std::vector<uint16_t> via_;
  std::vector<uint32_t> table_;    // 0 = empty, else index + 1
};

uint64_t hash_bytes(std::string_view bytes);

}  // namespace mq
