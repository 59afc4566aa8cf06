#include "impl/mem_storage.h"

#include <algorithm>

namespace mq::impl {

uint64_t MemStorage::used_bytes() const {
  uint64_t n = 0;
  for (const auto& [name, f] : files_) n += f.data.size();
  return n;
}

Status MemStorage::append(const std::string& name, std::string_view data) {
  File& f = files_[name];
  if (space_limit_) {
    const uint64_t used = used_bytes();
    const uint64_t room = used >= *space_limit_ ? 0 : *space_limit_ - used;
    if (data.size() > room) {
      f.data.append(data.substr(0, room));
      return io_error("append to '" + name + "': No space left on device (ENOSPC)");
    }
  }
  f.data.append(data);
  return Status();
}

Status MemStorage::sync(const std::string& name) {
  auto it = files_.find(name);
  if (it == files_.end()) return not_found("sync: no file '" + name + "'");
  if (failing_syncs_ > 0) {
    --failing_syncs_;
    return io_error("sync of '" + name + "': Input/output error (EIO)");
  }
  it->second.synced = it->second.data.size();
  it->second.exists_durably = true;
  return Status();
}

Result<std::string> MemStorage::read(const std::string& name) {
  auto it = files_.find(name);
  if (it == files_.end()) return not_found("read: no file '" + name + "'");
  return it->second.data;
}

Result<std::vector<std::string>> MemStorage::list() {
  std::vector<std::string> names;
  for (const auto& [name, f] : files_) names.push_back(name);
  return names;  // std::map keeps them sorted
}

Status MemStorage::remove(const std::string& name) {
  if (files_.erase(name) == 0) return not_found("remove: no file '" + name + "'");
  return Status();
}

void MemStorage::crash(uint64_t keep_unsynced) {
  for (auto it = files_.begin(); it != files_.end();) {
    File& f = it->second;
    const uint64_t keep = std::min<uint64_t>(f.data.size(), f.synced + keep_unsynced);
    f.data.resize(keep);
    f.synced = keep;
    if (!f.exists_durably && keep == 0) {
      it = files_.erase(it);
      continue;
    }
    f.exists_durably = true;
    ++it;
  }
}

void MemStorage::flip_bit(const std::string& name, uint64_t offset, uint8_t bit) {
  auto it = files_.find(name);
  MQ_CHECK(it != files_.end() && offset < it->second.data.size());
  it->second.data[offset] = static_cast<char>(it->second.data[offset] ^ (1 << (bit % 8)));
}

void MemStorage::truncate(const std::string& name, uint64_t size) {
  auto it = files_.find(name);
  MQ_CHECK(it != files_.end() && size <= it->second.data.size());
  it->second.data.resize(size);
  it->second.synced = std::min(it->second.synced, size);
}

void MemStorage::put(const std::string& name, std::string content) {
  File& f = files_[name];
  f.data = std::move(content);
  f.synced = f.data.size();
  f.exists_durably = true;
}

}  // namespace mq::impl
