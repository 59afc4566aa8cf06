#pragma once
// Wal: the broker's write-ahead log. It stores the records of the BrokerCore
// effects that have `persist` set (impl/wal_record.h) in segment files behind the
// Storage interface, and rebuilds a DurableImage from them at recovery.
//
// Log layout: segments "wal-<16-digit number>.log", numbered consecutively. Every
// generation of the log begins with a segment whose first records are a checkpoint
// (a complete snapshot of the durable state); records appended later follow it, in
// that segment and in the next ones (a new segment starts when the active one
// exceeds WalOptions::segment_bytes). checkpoint() writes a new checkpoint segment,
// syncs it, and only then removes every older segment: so the log stays bounded by
// the live state plus what was written since the last checkpoint, and a crash at
// any point leaves either the old generation or the new one complete.
//
// Recovery rules (docs/durability.md has the full statement):
// - Reading starts at the newest segment that begins with a complete checkpoint;
//   older segments are superseded leftovers of an interrupted removal. If none
//   does, the error names what cut the newest checkpoint short (a bad frame in it),
//   or else the first segment ("the log's start is missing").
// - From there, segment numbers must be consecutive: a gap is kCorruption
//   ("missing segment ...").
// - A torn final record ends the log: in the last segment, a frame cut short by
//   the end of the file, or whose CRC fails when it is the last frame in the file, or
//   a zero-filled tail, or a file that ends on whole frames whose last one does not
//   end a write (WalRecord::ends_write: the rest of that write is missing). It is
//   reported in Recovery::torn_tail, not as an error; the records before the write it
//   cuts apply, those of that write do not (a write applies whole or not at all: it
//   is synced before anything it holds is answered).
//   A cut exactly at the end of a write leaves a log that no byte tells from one
//   whose later writes never happened: recovery cannot report it.
// - Anything else that fails (a CRC mismatch followed by more data, a length past
//   kMaxRecordBytes, a short frame in a segment that is not the last, or one that
//   ends inside a write, a bad magic,
//   a record that does not fit the state, e.g. a delivery of a message not held) is
//   corruption, reported with the file and byte offset. By default recovery stops
//   with kCorruption; with WalOptions::skip_corruption it skips the rest of that
//   segment, records a CorruptionReport, and goes on with the next one. Never silent.
//
// Group commit: a LogBuffer (impl/log_buffer.h) encodes records and numbers them
// (LSN); write() appends and syncs one batch of them, so one sync confirms every
// record added before the batch was taken. The Wal is only this writing half: the
// server shell (impl/server_shell.h) owns the LogBuffer, and decides when to
// checkpoint, and its drivers own the Wal; a single-threaded user (a test, a tool)
// keeps a LogBuffer beside the Wal and calls write(buffer.take()).
//
// Thread-safety: none. A driver calls write() and checkpoint() from one thread at
// a time (its commit thread).
// Errors: after any append or sync failure the Wal is broken
// and every later write() and checkpoint() fails with that status: bytes of a failed
// append may be on disk, so nothing may be appended after them. Reopen to recover.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "impl/broker_config.h"
#include "impl/durable_image.h"
#include "impl/log_buffer.h"
#include "impl/storage.h"
#include "impl/wal_record.h"

namespace mq::impl {

struct WalOptions {
  uint64_t segment_bytes = 8u << 20;      // start a new segment past this size
  bool skip_corruption = false;           // recovery: skip and report instead of stopping
  // false: write() appends without syncing (mqd --fsync never: a record counts once it
  // is in the page cache). Checkpoints and the start of a generation are synced
  // regardless, so that a power loss leaves a log that recovery can read: the last
  // checkpoint and whatever of the records after it reached the disk.
  bool sync_appends = true;
};

// What kind of damage a CorruptionReport describes: a driver that injects faults
// (the simulator) tells the damage it caused (a flipped bit: kChecksum at that
// frame) from a log the broker itself wrote wrong.
enum class CorruptionKind : uint8_t {
  kChecksum,      // a frame's CRC does not match its bytes (with more data after it)
  kFraming,       // a length past the record limit, a frame cut short, a bad magic
  kDecode,        // a body that does not decode
  kInconsistent,  // a record that does not fit the state before it
};

struct CorruptionReport {
  std::string file;
  uint64_t offset = 0;  // where the frame starts
  std::string what;
  CorruptionKind kind = CorruptionKind::kFraming;
  std::string to_string() const { return file + " at byte " + std::to_string(offset) + ": " + what; }
};

struct Recovery {
  DurableImage image;
  std::vector<CorruptionReport> skipped;      // only with skip_corruption
  std::optional<CorruptionReport> torn_tail;  // where the log ended early, if it did
  std::vector<std::string> segments;          // the segments read, oldest first
  uint64_t records = 0;                       // records applied
};

// REQUIRES: number < 10^16 (a segment's name has 16 digits).
std::string segment_name(uint64_t number);
// The number of the segment named `name` (segment_name's inverse); nullopt: not a
// segment's name. A data directory may hold other files, even names one character
// off a segment's: the log neither reads nor removes them.
std::optional<uint64_t> segment_number(std::string_view name);

class Wal {
 public:
  // Reads the log (changes nothing) and rebuilds what it says the durable queues
  // hold. An empty storage gives an empty image.
  // Errors: kCorruption (with file and offset), kIoError from the storage. On
  // kCorruption, `problem` (when given) receives the report the error is made of (a
  // checkpoint cut short names the frame that cut it), so that a caller that injected
  // damage can tell it from damage it did not cause.
  static Result<Recovery> recover(Storage& storage, const BrokerConfig& config, const WalOptions& options,
                                  CorruptionReport* problem = nullptr);

  // Starts a new generation: a checkpoint of `image` in a segment numbered after
  // every existing one, synced, then every older segment removed. Call it after
  // recover() and BrokerCore::restore(), with the restored core's image, so that
  // nothing is ever appended after a torn tail.
  static Result<Wal> start(Storage& storage, const WalOptions& options, const DurableImage& image);

  // Appends the batch to the active segment (starting a new one if it is full) and
  // syncs. On success every record up to batch.last_lsn is durable (the caller,
  // which numbered them, keeps that count).
  Status write(LogBatch batch);

  // Writes `image` as a new generation (see start()). The image must reflect every
  // record taken so far; on success they are all durable (superseded by the image),
  // whatever was not written of them.
  Status checkpoint(const DurableImage& image);

  uint64_t active_segment() const { return segment_; }

 private:
  Wal(Storage& storage, WalOptions options) : storage_(&storage), options_(options) {}
  Status fail(Status s);

  Storage* storage_;
  WalOptions options_;
  uint64_t segment_ = 0;  // number of the active segment
  uint64_t segment_bytes_ = 0;
  Status health_;
};

}  // namespace mq::impl
