#include "impl/log_buffer.h"

#include "impl/wal_record.h"

namespace mq::impl {

uint64_t LogBuffer::add(const Effects& effects) {
  for (const Effect& e : effects) {
    if (!e.persist) continue;
    last_frame_at_ = pending_.size();
    encode_record(record_of(e), pending_);
    ++added_lsn_;
  }
  return added_lsn_;
}

LogBatch LogBuffer::take() {
  if (!pending_.empty()) mark_ends_write(pending_, last_frame_at_);
  LogBatch b{std::move(pending_), added_lsn_};
  pending_.clear();
  return b;
}

}  // namespace mq::impl
