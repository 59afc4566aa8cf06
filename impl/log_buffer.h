#pragma once
// LogBuffer: the encoding half of the write-ahead log (impl/wal.h). It turns the
// core's `persist` effects into log records (impl/wal_record.h) in a pending buffer
// and numbers them (log sequence numbers, LSN, from 1); take() hands the pending
// bytes over as one batch for the writing half (Wal::write) to append and sync, with
// its last record marked as the end of a write (WalRecord::ends_write).
// Group commit rests on this split: every record added while a batch is being
// written goes into the next batch.
//
// It does no I/O, so the server shell (impl/server_shell.h) owns one and its
// drivers own the Wal that writes.
//
// Thread-safety: none.

#include <cstdint>
#include <string>

#include "impl/effect.h"

namespace mq::impl {

struct LogBatch {
  std::string bytes;      // whole frames, ready to append
  uint64_t last_lsn = 0;  // the LSN of the last record in it (or before it, if empty)
};

class LogBuffer {
 public:
  // Encodes the record of every effect with persist set. Returns the LSN of the
  // last record added so far (unchanged when there was none).
  uint64_t add(const Effects& effects);
  // The records added since the last take().
  LogBatch take();
  uint64_t added_lsn() const { return added_lsn_; }

 private:
  std::string pending_;
  size_t last_frame_at_ = 0;  // offset in pending_ of the last frame added
  uint64_t added_lsn_ = 0;
};

}  // namespace mq::impl
