#include "impl/wal_record.h"

#include <array>
#include <cstring>
#include <utility>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace mq::impl {
namespace {

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, one table built once.
const std::array<uint32_t, 256>& crc_table() {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

template <typename T>
void put(std::string& out, T v) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  // Little-endian, whatever the host; one append (the compiler folds the loop into a
  // store on a little-endian host).
  std::array<char, sizeof(T)> bytes{};
  for (size_t k = 0; k < sizeof(T); ++k, u = static_cast<U>(u >> 4 >> 4)) bytes[k] = static_cast<char>(u & 0xFF);
  out.append(bytes.data(), bytes.size());
}

// Reads fixed-width little-endian fields; a short body sets `short_` instead of
// reading past the end (the body comes from disk: malformed input is data).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  T get() {
    using U = std::make_unsigned_t<T>;
    if (in_.size() < sizeof(T)) {
      short_ = true;
      in_ = {};
      return T{};
    }
    U u = 0;
    for (size_t k = sizeof(T); k-- > 0;) u = static_cast<U>((u << 4 << 4) | static_cast<uint8_t>(in_[k]));
    in_.remove_prefix(sizeof(T));
    return static_cast<T>(u);
  }
  std::string bytes(size_t n) {
    if (in_.size() < n) {
      short_ = true;
      in_ = {};
      return {};
    }
    std::string s(in_.substr(0, n));
    in_.remove_prefix(n);
    return s;
  }
  bool short_read() const { return short_; }
  size_t left() const { return in_.size(); }

 private:
  std::string_view in_;
  bool short_ = false;
};

void put_message(std::string& out, const Message& m) {
  put<uint64_t>(out, m.id);
  put<int64_t>(out, m.timestamp_ns);
  put<uint8_t>(out, m.priority);
  put<int64_t>(out, m.ttl_ns);
  put<int64_t>(out, m.not_before_ns);
  put<uint32_t>(out, m.attempts);
  put<uint32_t>(out, m.max_retries);
  const std::string_view payload = m.payload_view();
  put<uint32_t>(out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
}

Message get_message(Reader& r) {
  Message m;
  m.id = r.get<uint64_t>();
  m.timestamp_ns = r.get<int64_t>();
  m.priority = r.get<uint8_t>();
  m.ttl_ns = r.get<int64_t>();
  m.not_before_ns = r.get<int64_t>();
  m.attempts = r.get<uint32_t>();
  m.max_retries = r.get<uint32_t>();
  const auto n = r.get<uint32_t>();
  m.payload = std::make_shared<const std::string>(r.bytes(n));
  return m;
}

}  // namespace

const char* record_type_name(RecordType type) {
  switch (type) {
    case RecordType::kPut: return "put";
    case RecordType::kRelease: return "release";
    case RecordType::kDeliver: return "deliver";
    case RecordType::kRequeue: return "requeue";
    case RecordType::kRemove: return "remove";
    case RecordType::kSnapshotBegin: return "snapshot-begin";
    case RecordType::kSnapReady: return "snap-ready";
    case RecordType::kSnapDelayed: return "snap-delayed";
    case RecordType::kSnapInFlight: return "snap-in-flight";
    case RecordType::kSnapWindow: return "snap-window";
    case RecordType::kSnapshotEnd: return "snapshot-end";
  }
  return "?";
}

WalRecord record_of(const Effect& e) {
  MQ_CHECK(e.persist);
  WalRecord r;
  r.queue = e.queue;
  r.time_ns = e.time_ns;
  r.id = e.message.id;
  switch (e.kind) {
    case EffectKind::kAccepted:
      r.type = RecordType::kPut;
      r.message = e.message;
      break;
    case EffectKind::kReleased: r.type = RecordType::kRelease; break;
    case EffectKind::kDelivered:
      r.type = RecordType::kDeliver;
      r.consumer = e.consumer;
      r.attempts = e.message.attempts;
      break;
    case EffectKind::kRequeued: r.type = RecordType::kRequeue; break;
    case EffectKind::kAcked:
    case EffectKind::kExpired:
    case EffectKind::kDeadLettered:
    case EffectKind::kDropped:
      r.type = RecordType::kRemove;
      break;
    case EffectKind::kDuplicate:
    case EffectKind::kRefused:
    case EffectKind::kDeadLetterRefused:
    case EffectKind::kLost:
    case EffectKind::kTimer:
      MQ_CHECK_MSG(false, "record_of: effect kind without a record");
  }
  return r;
}

uint32_t crc32c_table(std::string_view data, uint32_t crc) {
  const auto& t = crc_table();
  crc = ~crc;
  for (char ch : data) crc = t[(crc ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

#if defined(__x86_64__)
namespace {

// SSE4.2's crc32 instruction computes CRC-32C (the same reflected polynomial), eight
// bytes at a time: about 20 times the table's speed.
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(std::string_view data, uint32_t crc) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, 8);  // little-endian: the bytes in their order
    c = _mm_crc32_u64(c, word);
  }
  auto c32 = static_cast<uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*p));
  return ~c32;
}

bool have_sse42() {
  static const bool have = [] {
    __builtin_cpu_init();  // may run before libgcc's own constructor has
    return __builtin_cpu_supports("sse4.2") != 0;
  }();
  return have;
}

}  // namespace
#endif

namespace {
thread_local Crc32cWay t_crc32c_way = Crc32cWay::kInstruction;
}  // namespace

Crc32cWay use_crc32c(Crc32cWay way) { return std::exchange(t_crc32c_way, way); }

uint32_t crc32c(std::string_view data, uint32_t crc) {
#if defined(__x86_64__)
  if (t_crc32c_way == Crc32cWay::kInstruction && have_sse42()) return crc32c_sse42(data, crc);
#endif
  return crc32c_table(data, crc);
}

namespace {

// Appends the record's body to `body`.
void encode_body(const WalRecord& r, std::string& body) {
  put<uint8_t>(body, static_cast<uint8_t>(static_cast<uint8_t>(r.type) | (r.ends_write ? kEndsWriteBit : 0)));
  put<uint32_t>(body, r.queue);
  put<int64_t>(body, r.time_ns);
  switch (r.type) {
    case RecordType::kPut:
    case RecordType::kSnapReady:
    case RecordType::kSnapDelayed:
      put_message(body, r.message);
      break;
    case RecordType::kSnapInFlight:
      put_message(body, r.message);
      put<uint32_t>(body, r.consumer);
      put<int64_t>(body, r.at_ns);
      break;
    case RecordType::kRelease:
    case RecordType::kRequeue:
    case RecordType::kRemove:
      put<uint64_t>(body, r.id);
      break;
    case RecordType::kDeliver:
      put<uint64_t>(body, r.id);
      put<uint32_t>(body, r.consumer);
      put<uint32_t>(body, r.attempts);
      break;
    case RecordType::kSnapWindow:
      put<uint64_t>(body, r.id);
      put<int64_t>(body, r.at_ns);
      break;
    case RecordType::kSnapshotBegin: break;
    case RecordType::kSnapshotEnd: put<uint64_t>(body, r.count); break;
  }
}

// Writes v little-endian over the 4 bytes of `out` at `at`.
void put_at(std::string& out, size_t at, uint32_t v) {
  MQ_CHECK(at + 4 <= out.size());
  for (size_t k = 0; k < 4; ++k, v >>= 8) out[at + k] = static_cast<char>(v & 0xFF);
}

}  // namespace

void encode_record(const WalRecord& r, std::string& out) {
  // The frame is built in place: the header's 8 bytes, then the body behind them,
  // then the header filled in (no temporary strings: the simulator writes a record
  // per broker step).
  const size_t frame = out.size();
  out.append(kFrameHeaderBytes, '\0');
  encode_body(r, out);
  const size_t length = out.size() - frame - kFrameHeaderBytes;
  MQ_CHECK(length <= kMaxRecordBytes);
  const std::string_view body = std::string_view(out).substr(frame + kFrameHeaderBytes);
  // Check before writing: the body decodes to a record that encodes to the same bytes.
  {
    thread_local std::string again;  // reused: its capacity stays
    again.clear();
    auto back = decode_body(body);
    if (back.ok()) encode_body(*back, again);
    MQ_CHECK_MSG(back.ok() && again == body, "encode_record: the record does not round-trip");
  }
  put_at(out, frame, static_cast<uint32_t>(length));
  const uint32_t crc = crc32c(body, crc32c(std::string_view(out).substr(frame, 4)));
  put_at(out, frame + 4, crc);
}

Result<WalRecord> decode_body(std::string_view body) {
  Reader in(body);
  WalRecord r;
  const auto type_byte = in.get<uint8_t>();
  r.ends_write = (type_byte & kEndsWriteBit) != 0;
  const uint8_t type = type_byte & static_cast<uint8_t>(~kEndsWriteBit);
  if (type < static_cast<uint8_t>(RecordType::kPut) || type > static_cast<uint8_t>(RecordType::kSnapshotEnd)) {
    return corruption("unknown record type " + std::to_string(type));
  }
  r.type = static_cast<RecordType>(type);
  r.queue = in.get<uint32_t>();
  r.time_ns = in.get<int64_t>();
  switch (r.type) {
    case RecordType::kPut:
    case RecordType::kSnapReady:
    case RecordType::kSnapDelayed:
      r.message = get_message(in);
      r.id = r.message.id;
      break;
    case RecordType::kSnapInFlight:
      r.message = get_message(in);
      r.id = r.message.id;
      r.consumer = in.get<uint32_t>();
      r.at_ns = in.get<int64_t>();
      break;
    case RecordType::kRelease:
    case RecordType::kRequeue:
    case RecordType::kRemove:
      r.id = in.get<uint64_t>();
      break;
    case RecordType::kDeliver:
      r.id = in.get<uint64_t>();
      r.consumer = in.get<uint32_t>();
      r.attempts = in.get<uint32_t>();
      break;
    case RecordType::kSnapWindow:
      r.id = in.get<uint64_t>();
      r.at_ns = in.get<int64_t>();
      break;
    case RecordType::kSnapshotBegin: break;
    case RecordType::kSnapshotEnd: r.count = in.get<uint64_t>(); break;
  }
  if (in.short_read()) return corruption(std::string(record_type_name(r.type)) + " record body is too short");
  if (in.left() != 0) {
    return corruption(std::string(record_type_name(r.type)) + " record body has " + std::to_string(in.left()) +
                      " bytes too many");
  }
  return r;
}

void mark_ends_write(std::string& frames, size_t frame_offset) {
  MQ_CHECK(frame_offset + kFrameHeaderBytes < frames.size());
  const std::string_view frame = std::string_view(frames).substr(frame_offset);
  uint32_t length = 0;
  for (size_t k = 4; k-- > 0;) length = (length << 8) | static_cast<uint8_t>(frame[k]);
  MQ_CHECK(kFrameHeaderBytes + length <= frame.size() && length > 0);
  frames[frame_offset + kFrameHeaderBytes] = static_cast<char>(frames[frame_offset + kFrameHeaderBytes] | kEndsWriteBit);
  const std::string_view body = std::string_view(frames).substr(frame_offset + kFrameHeaderBytes, length);
  put_at(frames, frame_offset + 4, crc32c(body, crc32c(frame.substr(0, 4))));
  // Checked after writing, as every record is: the frame decodes, marked.
  auto back = decode_body(body);
  MQ_CHECK(back.ok() && back->ends_write);
}

}  // namespace mq::impl
