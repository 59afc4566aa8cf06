#include "live/pending_writes.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace mq::live {

void PendingWrites::write(off_t offset, std::string_view data) {
  MQ_CHECK(offset >= 0);
  if (data.empty()) return;
  const off_t end = offset + static_cast<off_t>(data.size());
  auto it = extents_.lower_bound(offset);
  // An extent that starts before `offset` and reaches into it keeps its head (and
  // its tail, if it also reaches past `end`).
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    const off_t prev_end = prev->first + static_cast<off_t>(prev->second.size());
    if (prev_end > offset) {
      if (prev_end > end) {
        extents_.emplace(end, prev->second.substr(static_cast<size_t>(end - prev->first)));
      }
      prev->second.resize(static_cast<size_t>(offset - prev->first));
    }
  }
  // Extents starting inside [offset, end) are covered; one reaching past `end` keeps its tail.
  for (it = extents_.lower_bound(offset); it != extents_.end() && it->first < end;) {
    const off_t it_end = it->first + static_cast<off_t>(it->second.size());
    if (it_end > end) extents_.emplace(end, it->second.substr(static_cast<size_t>(end - it->first)));
    it = extents_.erase(it);
  }
  // Appending to the extent that ends where this write starts keeps a log in one extent.
  it = extents_.lower_bound(offset);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    if (prev->first + static_cast<off_t>(prev->second.size()) == offset) {
      prev->second.append(data);
      size_ = std::max(size_, end);
      return;
    }
  }
  extents_.emplace(offset, std::string(data));
  size_ = std::max(size_, end);
}

void PendingWrites::truncate(off_t size) {
  MQ_CHECK(size >= 0);
  backing_valid_ = std::min(backing_valid_, size);
  for (auto it = extents_.lower_bound(size); it != extents_.end();) it = extents_.erase(it);
  auto it = extents_.lower_bound(size);
  if (it != extents_.begin()) {
    auto prev = std::prev(it);
    const off_t prev_end = prev->first + static_cast<off_t>(prev->second.size());
    if (prev_end > size) prev->second.resize(static_cast<size_t>(size - prev->first));
  }
  size_ = size;
}

uint64_t PendingWrites::bytes() const {
  uint64_t n = 0;
  for (const auto& [off, data] : extents_) n += data.size();
  return n;
}

ssize_t PendingWrites::read(char* buf, size_t len, off_t offset, const BackingReader& backing) const {
  MQ_CHECK(offset >= 0);
  if (offset >= size_) return 0;
  const size_t n = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(len), size_ - offset));
  std::memset(buf, 0, n);
  if (offset < backing_valid_) {
    const size_t m = static_cast<size_t>(std::min<off_t>(static_cast<off_t>(n), backing_valid_ - offset));
    const ssize_t r = backing(buf, m, offset);
    if (r < 0) return r;
  }
  const off_t end = offset + static_cast<off_t>(n);
  auto it = extents_.lower_bound(offset);
  if (it != extents_.begin()) --it;
  for (; it != extents_.end() && it->first < end; ++it) {
    const off_t e_start = it->first;
    const off_t e_end = e_start + static_cast<off_t>(it->second.size());
    const off_t from = std::max(e_start, offset);
    const off_t to = std::min(e_end, end);
    if (from >= to) continue;
    std::memcpy(buf + (from - offset), it->second.data() + (from - e_start), static_cast<size_t>(to - from));
  }
  return static_cast<ssize_t>(n);
}

int PendingWrites::apply(const BackingWriter& writer) const {
  if (int rc = writer.truncate(backing_valid_); rc != 0) return rc;
  for (const auto& [off, data] : extents_) {
    if (int rc = writer.pwrite(data.data(), data.size(), off); rc != 0) return rc;
  }
  return writer.truncate(size_);
}

}  // namespace mq::live
