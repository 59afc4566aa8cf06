#pragma once
// MemStorage: an in-memory Storage for tests and the simulator, with the faults a
// real disk has: crash() loses what was not synced (optionally keeping a torn prefix
// of it), a space limit makes append fail with ENOSPC after writing what fits,
// sync can be made to fail, and a byte can be flipped or a file truncated to
// model corruption at rest. Deterministic: no clock, no randomness; the caller
// (a test, or the simulator with its PRNG) chooses every fault.
// Thread-safety: none.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "impl/storage.h"

namespace mq::impl {

class MemStorage final : public Storage {
 public:
  Status append(const std::string& name, std::string_view data) override;
  Status sync(const std::string& name) override;
  Result<std::string> read(const std::string& name) override;
  Result<std::vector<std::string>> list() override;
  Status remove(const std::string& name) override;

  // The machine stops: every file keeps its synced bytes plus the first
  // `keep_unsynced` bytes of what was appended after its last sync (a torn write);
  // files never synced disappear unless some bytes are kept.
  void crash(uint64_t keep_unsynced = 0);

  // Appends beyond `bytes` in total (over all files) fail with ENOSPC after
  // writing the part that fits. nullopt: unlimited.
  void set_space_limit(std::optional<uint64_t> bytes) { space_limit_ = bytes; }
  // The next `n` syncs fail with EIO (and make nothing durable).
  void fail_syncs(uint32_t n) { failing_syncs_ = n; }

  // Corruption at rest. REQUIRES: the file exists and offset < its size.
  void flip_bit(const std::string& name, uint64_t offset, uint8_t bit = 0);
  // REQUIRES: the file exists and size <= its size. The cut is durable.
  void truncate(const std::string& name, uint64_t size);
  // Replaces the content, durably (to plant a crafted file).
  void put(const std::string& name, std::string content);

  uint64_t used_bytes() const;

 private:
  struct File {
    std::string data;
    uint64_t synced = 0;  // bytes known durable
    bool exists_durably = false;
  };
  std::map<std::string, File> files_;
  std::optional<uint64_t> space_limit_;
  uint32_t failing_syncs_ = 0;
};

}  // namespace mq::impl
