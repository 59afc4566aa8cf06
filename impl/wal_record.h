#pragma once
// WalRecord: one entry of the write-ahead log, and its byte format.
//
// A segment file is an 8-byte magic ("MQWAL002") followed by frames:
//   u32 body_length | u32 crc32c(body_length bytes || body) | body
// all little-endian. The CRC covers the length too, so a flipped length bit is
// caught. A body is: u8 type | u32 queue | i64 time_ns | type-specific fields
// (see encode_record). Bit 7 of the type byte (kEndsWriteBit) marks the last record
// of one write, i.e. of what one append wrote and one sync made durable (a batch of
// Wal::write, or a checkpoint): a log that ends on a record without it was cut
// inside a write, which recovery reports as a torn tail even when the cut falls
// exactly between two frames. Records of one command are consecutive; the format is
// documented in docs/durability.md.
//
// Message records (from BrokerCore effects with persist set):
//   kPut      a durable queue accepted the message (ready if not_before <= timestamp,
//             else delayed)                                   (effect kAccepted)
//   kRelease  delayed -> back of ready                         (kReleased)
//   kDeliver  ready -> in flight at `consumer`, attempts       (kDelivered)
//   kRequeue  in flight -> ready (front under front redelivery, else back) (kRequeued)
//   kRemove   finished: acked, expired, dead-lettered, dropped
// Checkpoint records (a snapshot of BrokerCore::durable_image(), in one segment):
//   kSnapshotBegin, then kSnapReady / kSnapDelayed / kSnapInFlight / kSnapWindow
//   in image order, then kSnapshotEnd carrying the count of records in between.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "impl/effect.h"

namespace mq::impl {

// 002: the type byte carries kEndsWriteBit (001 had no way to see a cut between frames).
inline constexpr std::string_view kSegmentMagic = "MQWAL002";
inline constexpr size_t kFrameHeaderBytes = 8;
// A record larger than this is reported as a wrong length (payloads are bounded
// far below it), instead of trying to read gigabytes on a corrupt length field.
inline constexpr uint32_t kMaxRecordBytes = 64u << 20;
inline constexpr uint8_t kEndsWriteBit = 0x80;

// The little-endian u32 at `at` of `bytes`: a frame's length and CRC fields.
// REQUIRES: at + 4 <= bytes.size().
inline uint32_t le32(std::string_view bytes, size_t at) {
  MQ_CHECK(at + 4 <= bytes.size());
  uint32_t v = 0;
  for (size_t k = 4; k-- > 0;) v = (v << 8) | static_cast<uint8_t>(bytes[at + k]);
  return v;
}

enum class RecordType : uint8_t {
  kPut = 1,
  kRelease = 2,
  kDeliver = 3,
  kRequeue = 4,
  kRemove = 5,
  kSnapshotBegin = 6,
  kSnapReady = 7,
  kSnapDelayed = 8,
  kSnapInFlight = 9,
  kSnapWindow = 10,
  kSnapshotEnd = 11,
};
const char* record_type_name(RecordType type);

// What a record is to recovery (ImageBuilder, wal.cc): a change to the image, one
// entry of a checkpoint, or a checkpoint's bracket (its beginning and end). Recovery
// dispatches on it, so a new record type must say which it is before it builds.
enum class RecordRole : uint8_t { kChange, kCheckpointEntry, kCheckpointBracket };
constexpr RecordRole record_role(RecordType type) {
  switch (type) {
    case RecordType::kSnapReady:
    case RecordType::kSnapDelayed:
    case RecordType::kSnapInFlight:
    case RecordType::kSnapWindow: return RecordRole::kCheckpointEntry;
    case RecordType::kSnapshotBegin:
    case RecordType::kSnapshotEnd: return RecordRole::kCheckpointBracket;
    case RecordType::kPut:
    case RecordType::kRelease:
    case RecordType::kDeliver:
    case RecordType::kRequeue:
    case RecordType::kRemove: break;
  }
  return RecordRole::kChange;
}

struct WalRecord {
  RecordType type = RecordType::kPut;
  QueueId queue = 0;
  TimeNs time_ns = 0;
  MessageId id = 0;                   // every type but kPut/kSnap* with a message
  ConsumerId consumer = kNoConsumer;  // kDeliver, kSnapInFlight (the holder)
  uint32_t attempts = 0;              // kDeliver
  TimeNs at_ns = 0;                   // kSnapInFlight: delivered at; kSnapWindow: accepted at
  uint64_t count = 0;                 // kSnapshotEnd
  Message message;                    // kPut, kSnapReady, kSnapDelayed, kSnapInFlight
  bool ends_write = false;            // the last record of one write (kEndsWriteBit)
};

// The record of an effect, if it has one (persist set). REQUIRES: e.persist.
WalRecord record_of(const Effect& e);

// CRC-32C (Castagnoli) of `data`, continuing from `crc`. On a processor with SSE4.2
// (asked once, at start) its crc32 instruction computes it, unless the calling
// thread chose the table (use_crc32c); crc32c_table is the portable byte-at-a-time
// table, what every other processor runs, and the instruction's reference in the
// tests.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);
uint32_t crc32c_table(std::string_view data, uint32_t crc = 0);

// How crc32c() computes on the calling thread: kInstruction, the processor's crc32
// instruction where it has one (else the table); kTable, the table always, as a
// processor without the instruction does (an ARM build of mqd). Both give the same
// values, so the log's bytes do not depend on it. The simulator chooses per run
// (disk.crc32c_table), so that one machine runs the code another machine runs.
enum class Crc32cWay : uint8_t { kInstruction, kTable };
// Sets the calling thread's way and returns the one it replaces.
Crc32cWay use_crc32c(Crc32cWay way);

// Appends the framed record to out. Asserts the record round-trips (a record is
// checked before it is written, as DESIGN.md asks).
void encode_record(const WalRecord& r, std::string& out);
// Decodes a body whose CRC already matched. kCorruption names what is malformed
// (unknown type, short or long body) without the location, which the caller adds.
Result<WalRecord> decode_body(std::string_view body);
// Marks the frame that starts at `frame_offset` of `frames` as the last of a write
// (sets ends_write and recomputes its CRC). REQUIRES: a whole frame starts there.
void mark_ends_write(std::string& frames, size_t frame_offset);

}  // namespace mq::impl
