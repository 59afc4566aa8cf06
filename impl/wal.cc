#include "impl/wal.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>

#include "impl/mutant.h"

namespace mq::impl {
namespace {

constexpr std::string_view kSegmentPrefix = "wal-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kSegmentDigits = 16;
constexpr uint64_t kSegmentNumbers = 10'000'000'000'000'000;  // 10^kSegmentDigits

// ---- reading one segment into frames ----

struct Frame {
  uint64_t offset = 0;
  WalRecord record;
};

struct Scan {
  std::string name;
  uint64_t number = 0;
  std::vector<Frame> frames;
  std::optional<CorruptionReport> error;  // where reading stopped early
  bool torn = false;                      // ... and that place is a torn tail
};

// The length a frame's header held before one bit of it flipped at rest, if that
// explains the frame: the one of the 32 lengths a bit away from `length` whose record
// fits in `rest` and matches the frame's checksum. A synced frame whose length gained
// a high bit claims more bytes than the segment holds, which reads as a torn write at
// the log's tail: without this, recovery would drop it and every synced record after
// it as torn. (A torn write leaves a length that was written whole, and its body cut:
// none of those 32 lengths matches its checksum, but with a chance of 2^-27.)
std::optional<uint32_t> length_before_one_flip(std::string_view rest, uint32_t length) {
  MQ_CHECK(rest.size() >= kFrameHeaderBytes);
  for (int bit = 0; bit < 32; ++bit) {
    const uint32_t was = length ^ (uint32_t{1} << bit);
    if (was > kMaxRecordBytes || was > rest.size() - kFrameHeaderBytes) continue;
    const char field[4] = {static_cast<char>(was), static_cast<char>(was >> 8), static_cast<char>(was >> 16),
                           static_cast<char>(was >> 24)};
    const uint32_t crc = crc32c(rest.substr(kFrameHeaderBytes, was), crc32c(std::string_view(field, 4)));
    if (crc == le32(rest, 4)) return was;
  }
  return std::nullopt;
}

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

// Reads frames until the end or the first bad one. `last`: this is the final
// segment, the only place a torn tail may be.
Scan scan_segment(std::string name, uint64_t number, std::string_view data, bool last) {
  Scan s{std::move(name), number, {}, std::nullopt, false};
  // The scan so far, ended by the problem at `offset` (the caller returns it).
  auto stop = [&](uint64_t offset, std::string what, bool tail_like,
                  CorruptionKind kind = CorruptionKind::kFraming) -> Scan {
    s.error = CorruptionReport{s.name, offset, std::move(what), kind};
    s.torn = last && tail_like;
    // A write applies whole or not at all: the records a torn tail leaves of the write
    // it cuts were never confirmed (a write is synced before anything it holds is
    // answered), and applying some of them would make the broker act on commands
    // nobody learned the outcome of.
    if (s.torn) {
      for (size_t k = 0; k < data.size() && !s.frames.empty() && !s.frames.back().record.ends_write; ++k)
        s.frames.pop_back();
    }
    return std::move(s);
  };
  if (data.substr(0, kSegmentMagic.size()) != kSegmentMagic.substr(0, std::min(data.size(), kSegmentMagic.size()))) {
    return stop(0, "bad segment magic", false);
  }
  if (data.size() < kSegmentMagic.size()) return stop(0, "segment header cut short", true);
  uint64_t off = kSegmentMagic.size();
  // Bounded: each round consumes at least one frame header or stops.
  for (size_t round = 0; off < data.size(); ++round) {
    MQ_CHECK(round <= data.size());
    const std::string_view rest = data.substr(off);
    if (all_zero(rest)) return stop(off, "zero-filled tail", true);
    if (rest.size() < kFrameHeaderBytes) return stop(off, "frame header cut short", true);
    const uint32_t length = le32(rest, 0);
    if (length > kMaxRecordBytes || rest.size() - kFrameHeaderBytes < length) {
      if (const auto was = length_before_one_flip(rest, length)) {
        return stop(off,
                    "checksum mismatch: the length field reads " + std::to_string(length) +
                        ", one bit away from " + std::to_string(*was) + ", which the checksum matches",
                    false, CorruptionKind::kChecksum);
      }
    }
    if (length > kMaxRecordBytes) {
      return stop(off, "wrong length: " + std::to_string(length) + " exceeds the record limit", false);
    }
    if (rest.size() - kFrameHeaderBytes < length) {
      return stop(off, "record cut short: length " + std::to_string(length) + ", " +
                           std::to_string(rest.size() - kFrameHeaderBytes) + " bytes left", true);
    }
    const std::string_view body = rest.substr(kFrameHeaderBytes, length);
    // Fault: the checksum is not compared, so a flipped bit is decoded as data.
    if (!MQ_MUTANT(kWalIgnoresCrc) && crc32c(body, crc32c(rest.substr(0, 4))) != le32(rest, 4)) {
      const bool final_frame = rest.size() == kFrameHeaderBytes + length;
      return stop(off, "checksum mismatch (record length " + std::to_string(length) + ")", final_frame,
                  CorruptionKind::kChecksum);
    }
    auto record = decode_body(body);
    if (!record.ok()) return stop(off, record.status().message(), false, CorruptionKind::kDecode);
    s.frames.push_back(Frame{off, std::move(record).value()});
    off += kFrameHeaderBytes + length;
  }
  // Whole frames to the end, but the last one does not end a write: the rest of that
  // write is missing (a cut between two frames, which nothing above can see).
  if (!s.frames.empty() && !s.frames.back().record.ends_write) {
    return stop(off,
                "the log ends inside a write (its last record, at byte " + std::to_string(s.frames.back().offset) +
                    ", is not the end of one)",
                true);
  }
  return s;
}

// Whether the segment begins with a complete checkpoint.
bool begins_with_checkpoint(const Scan& s) {
  if (s.frames.empty() || s.frames[0].record.type != RecordType::kSnapshotBegin) return false;
  for (const Frame& f : s.frames) {
    if (f.record.type == RecordType::kSnapshotEnd) return true;
  }
  return false;
}

// ---- replaying records into an image ----

class ImageBuilder {
 public:
  explicit ImageBuilder(const BrokerConfig& config) : config_(&config), state_(fresh(0)) {}

  Status apply(const WalRecord& r);
  DurableImage build() const;

 private:
  enum class Where : uint8_t { kReady, kDelayed, kInFlight };
  struct Entry {
    Message message;
    Where where = Where::kReady;
    int64_t key = 0;  // order within its place
    ConsumerId holder = kNoConsumer;
    TimeNs delivered_ns = 0;
  };
  struct Q {
    std::map<MessageId, Entry> held;
    int64_t front = 0, back = 0;
    std::deque<WindowEntry> window;
  };
  struct State {
    TimeNs time_ns = 0;
    std::vector<Q> queues;
    int64_t seq = 0;
    uint64_t records = 0;
  };

  State fresh(TimeNs t) const {
    State s;
    s.time_ns = t;
    s.queues.resize(config_->queues.size());
    return s;
  }
  Status place(State& s, QueueId q, Message m, Where where, bool front);
  Status apply_bracket(const WalRecord& r);
  Status apply_snapshot(const WalRecord& r);
  Status apply_change(const WalRecord& r);

  const BrokerConfig* config_;
  State state_;
  std::optional<State> snapshot_;  // a checkpoint being read
};

Status ImageBuilder::place(State& s, QueueId q, Message m, Where where, bool front) {
  Q& qs = s.queues[q];
  if (qs.held.contains(m.id)) return corruption("message #" + std::to_string(m.id) + " is already held");
  const int64_t key = where != Where::kReady ? ++s.seq : front ? --qs.front : ++qs.back;
  const MessageId id = m.id;
  qs.held.emplace(id, Entry{std::move(m), where, key, kNoConsumer, 0});
  return Status();
}

Status ImageBuilder::apply(const WalRecord& r) {
  const RecordRole role = record_role(r.type);
  const bool bracket = role == RecordRole::kCheckpointBracket;
  if (!bracket && r.queue >= config_->queues.size()) {
    return corruption("record for unknown queue #" + std::to_string(r.queue));
  }
  if (!bracket && !config_->queues[r.queue].durable) {
    return corruption(std::string(record_type_name(r.type)) + " record for non-durable queue '" +
                      config_->queues[r.queue].name + "'");
  }
  switch (role) {
    case RecordRole::kCheckpointBracket: return apply_bracket(r);
    case RecordRole::kCheckpointEntry: return apply_snapshot(r);
    case RecordRole::kChange: break;
  }
  if (snapshot_) return corruption(std::string(record_type_name(r.type)) + " record inside a checkpoint");
  return apply_change(r);
}

// REQUIRES: r is a checkpoint's bracket (record_role).
Status ImageBuilder::apply_bracket(const WalRecord& r) {
  if (r.type == RecordType::kSnapshotBegin) {
    snapshot_ = fresh(r.time_ns);
    return Status();
  }
  MQ_CHECK(r.type == RecordType::kSnapshotEnd);
  if (!snapshot_) return corruption("checkpoint end without a beginning");
  if (snapshot_->records != r.count) {
    return corruption("checkpoint holds " + std::to_string(snapshot_->records) + " records, its end says " +
                      std::to_string(r.count));
  }
  state_ = std::move(*snapshot_);
  snapshot_.reset();
  return Status();
}

// REQUIRES: r is a checkpoint's entry (record_role).
Status ImageBuilder::apply_snapshot(const WalRecord& r) {
  if (!snapshot_) return corruption(std::string(record_type_name(r.type)) + " record outside a checkpoint");
  State& s = *snapshot_;
  s.records++;
  if (r.type == RecordType::kSnapReady) return place(s, r.queue, r.message, Where::kReady, false);
  if (r.type == RecordType::kSnapDelayed) return place(s, r.queue, r.message, Where::kDelayed, false);
  if (r.type == RecordType::kSnapInFlight) {
    MQ_RETURN_IF_ERROR(place(s, r.queue, r.message, Where::kInFlight, false));
    Entry& e = s.queues[r.queue].held.at(r.id);
    e.holder = r.consumer;
    e.delivered_ns = r.at_ns;
    return Status();
  }
  MQ_CHECK(r.type == RecordType::kSnapWindow);
  s.queues[r.queue].window.push_back({r.id, r.at_ns});
  return Status();
}

// REQUIRES: r is a change (record_role).
Status ImageBuilder::apply_change(const WalRecord& r) {
  State& s = state_;
  Q& qs = s.queues[r.queue];
  const QueueOptions& o = config_->queues[r.queue];
  s.time_ns = std::max(s.time_ns, r.time_ns);
  if (r.type == RecordType::kPut) {
    const Where where = r.message.not_before_ns <= r.message.timestamp_ns ? Where::kReady : Where::kDelayed;
    MQ_RETURN_IF_ERROR(place(s, r.queue, r.message, where, false));
    qs.window.push_back({r.id, r.message.timestamp_ns});
    if (qs.window.size() > o.dedup_window_ids) qs.window.pop_front();
    return Status();
  }
  auto it = qs.held.find(r.id);
  const std::string what = std::string(record_type_name(r.type)) + " of message #" + std::to_string(r.id);
  if (it == qs.held.end()) return corruption(what + ", which queue '" + o.name + "' does not hold");
  Entry& e = it->second;
  auto expect = [&](Where w, const char* place) -> Status {
    if (e.where != w) return corruption(what + ", which is not " + place);
    return Status();
  };
  if (r.type == RecordType::kRelease) {
    MQ_RETURN_IF_ERROR(expect(Where::kDelayed, "delayed"));
    e.where = Where::kReady;
    e.key = ++qs.back;
    return Status();
  }
  if (r.type == RecordType::kDeliver) {
    MQ_RETURN_IF_ERROR(expect(Where::kReady, "ready"));
    e.where = Where::kInFlight;
    e.key = ++s.seq;
    e.holder = r.consumer;
    e.delivered_ns = r.time_ns;
    e.message.attempts = r.attempts;
    return Status();
  }
  if (r.type == RecordType::kRequeue) {
    MQ_RETURN_IF_ERROR(expect(Where::kInFlight, "in flight"));
    e.where = Where::kReady;
    e.key = o.redelivery == Redelivery::kFront ? --qs.front : ++qs.back;
    e.holder = kNoConsumer;
    return Status();
  }
  MQ_CHECK(r.type == RecordType::kRemove);
  // Fault: the removal of a delivered message (its ack) is skipped on replay.
  if (MQ_MUTANT(kAckLostInReplay) && e.where == Where::kInFlight) return Status();
  qs.held.erase(it);
  return Status();
}

DurableImage ImageBuilder::build() const {
  DurableImage image;
  image.time_ns = state_.time_ns;
  image.queues.resize(state_.queues.size());
  for (size_t q = 0; q < state_.queues.size(); ++q) {
    const Q& qs = state_.queues[q];
    QueueImage& qi = image.queues[q];
    if (qs.held.empty() && qs.window.empty()) continue;
    std::vector<const Entry*> sorted;
    for (const auto& [id, e] : qs.held) sorted.push_back(&e);
    std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) { return a->key < b->key; });
    qi.ready.resize(config_->queues[q].priority_levels);
    for (const Entry* e : sorted) {
      switch (e->where) {
        case Where::kReady:
          if (e->message.priority >= qi.ready.size()) qi.ready.resize(e->message.priority + 1u);
          qi.ready[e->message.priority].push_back(e->message);
          break;
        case Where::kDelayed: qi.delayed.push_back(e->message); break;
        case Where::kInFlight:
          // Fault: messages in flight at the crash are left out of the recovered image.
          if (MQ_MUTANT(kForgetInFlightOnRecovery)) break;
          qi.in_flight.push_back({e->message, e->holder, e->delivered_ns});
          break;
      }
    }
    qi.window.assign(qs.window.begin(), qs.window.end());
  }
  return image;
}

WalRecord make_record(RecordType type, QueueId q) {
  WalRecord r;
  r.type = type;
  r.queue = q;
  return r;
}

// The error recover() stops with, and the report it is made of.
Status stop_at(CorruptionReport r, CorruptionReport* problem) {
  Status s = corruption("write-ahead log corrupt: " + r.to_string());
  if (problem != nullptr) *problem = std::move(r);
  return s;
}

// What recover() does with a problem: stop, or note it and go on.
Status report(const WalOptions& options, Recovery& rec, CorruptionReport r, CorruptionReport* problem) {
  if (!options.skip_corruption) return stop_at(std::move(r), problem);
  rec.skipped.push_back(std::move(r));
  return Status();
}

// No segment begins with a complete checkpoint: what cut the newest one short (a
// segment that begins a checkpoint and stopped at a bad frame inside it, or whose very
// first frame, which would say, is bad), else the start of the log is missing.
CorruptionReport no_checkpoint(const std::vector<Scan>& scans) {
  for (size_t i = scans.size(); i-- > 0;) {
    const Scan& s = scans[i];
    const bool begins = !s.frames.empty() && s.frames[0].record.type == RecordType::kSnapshotBegin;
    if ((begins || s.frames.empty()) && s.error) {
      CorruptionReport r = *s.error;
      r.what =
          (begins ? "checkpoint cut short: " : "no checkpoint readable at the segment's start: ") + r.what;
      return r;
    }
  }
  return CorruptionReport{scans[0].name, 0, "no segment begins with a complete checkpoint (the log's start is missing)",
                          CorruptionKind::kFraming};
}

}  // namespace

std::optional<uint64_t> segment_number(std::string_view name) {
  if (name.size() != kSegmentPrefix.size() + kSegmentDigits + kSegmentSuffix.size() ||
      !name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  uint64_t n = 0;
  for (size_t k = 0; k < kSegmentDigits; ++k) {
    const char ch = name[kSegmentPrefix.size() + k];
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(ch - '0');
  }
  return n;
}

std::string segment_name(uint64_t number) {
  MQ_CHECK(number < kSegmentNumbers);
  char buf[64];
  std::snprintf(buf, sizeof buf, "wal-%016llu.log", static_cast<unsigned long long>(number));
  return buf;
}

Result<Recovery> Wal::recover(Storage& storage, const BrokerConfig& config, const WalOptions& options,
                              CorruptionReport* problem) {
  auto names = storage.list();
  if (!names.ok()) return names.status();
  std::vector<std::pair<uint64_t, std::string>> segments;
  for (const auto& name : *names) {
    if (auto n = segment_number(name)) segments.emplace_back(*n, name);
  }
  std::sort(segments.begin(), segments.end());
  std::vector<Scan> scans;
  for (size_t i = 0; i < segments.size(); ++i) {
    auto data = storage.read(segments[i].second);
    if (!data.ok()) return data.status();
    scans.push_back(scan_segment(segments[i].second, segments[i].first, *data, i + 1 == segments.size()));
  }
  Recovery rec;
  if (scans.empty()) {
    rec.image.queues.resize(config.queues.size());
    return rec;
  }
  size_t base = scans.size();
  for (size_t i = scans.size(); i-- > 0;) {
    if (begins_with_checkpoint(scans[i])) {
      base = i;
      break;
    }
  }
  if (base == scans.size()) return stop_at(no_checkpoint(scans), problem);
  for (size_t i = base + 1; i < scans.size(); ++i) {
    if (scans[i].number != scans[i - 1].number + 1) {
      return stop_at(CorruptionReport{scans[i].name, 0, "missing segment " + segment_name(scans[i - 1].number + 1) +
                                                            " before it", CorruptionKind::kFraming},
                     problem);
    }
  }
  ImageBuilder builder(config);
  for (size_t i = base; i < scans.size(); ++i) {
    const Scan& s = scans[i];
    rec.segments.push_back(s.name);
    bool skip_rest = false;
    for (const Frame& f : s.frames) {
      const Status st = builder.apply(f.record);
      if (!st.ok()) {
        MQ_RETURN_IF_ERROR(
            report(options, rec, {s.name, f.offset, st.message(), CorruptionKind::kInconsistent}, problem));
        skip_rest = true;
        break;
      }
      rec.records++;
    }
    if (skip_rest || !s.error) continue;
    if (s.torn) {
      rec.torn_tail = s.error;
    } else {
      MQ_RETURN_IF_ERROR(report(options, rec, *s.error, problem));
    }
  }
  rec.image = builder.build();
  return rec;
}

// ---- writing ----

Result<Wal> Wal::start(Storage& storage, const WalOptions& options, const DurableImage& image) {
  auto names = storage.list();
  if (!names.ok()) return names.status();
  Wal wal(storage, options);
  for (const auto& name : *names) {
    if (auto n = segment_number(name)) wal.segment_ = std::max(wal.segment_, *n);
  }
  MQ_RETURN_IF_ERROR(wal.checkpoint(image));
  return wal;
}

Status Wal::fail(Status s) {
  if (health_.ok()) health_ = s;
  return s;
}

Status Wal::write(LogBatch batch) {
  if (!health_.ok()) return health_;
  if (!batch.bytes.empty()) {
    if (segment_bytes_ > kSegmentMagic.size() && segment_bytes_ + batch.bytes.size() > options_.segment_bytes) {
      // The active segment was synced by the previous write: roll to a new one.
      ++segment_;
      segment_bytes_ = 0;
      const Status s = storage_->append(segment_name(segment_), kSegmentMagic);
      segment_bytes_ += kSegmentMagic.size();
      if (!s.ok()) return fail(s);
    }
    const std::string name = segment_name(segment_);
    Status s = storage_->append(name, batch.bytes);
    segment_bytes_ += batch.bytes.size();
    // Fault: the sync is skipped, yet the batch is reported synced (and confirmed).
    if (s.ok() && options_.sync_appends && !MQ_MUTANT(kConfirmBeforeSync)) s = storage_->sync(name);
    if (!s.ok()) return fail(s);
  }
  return Status();
}

Status Wal::checkpoint(const DurableImage& image) {
  if (!health_.ok()) return health_;
  std::string content(kSegmentMagic);
  uint64_t count = 0;  // the records between the begin and the end, which the end states
  auto put = [&](WalRecord r) {
    r.time_ns = image.time_ns;
    encode_record(r, content);
  };
  auto put_entry = [&](WalRecord r) {
    put(std::move(r));
    ++count;
  };
  put(make_record(RecordType::kSnapshotBegin, 0));
  for (QueueId q = 0; q < image.queues.size(); ++q) {
    const QueueImage& qi = image.queues[q];
    auto message_record = [&](RecordType type, const Message& m) {
      WalRecord r = make_record(type, q);
      r.id = m.id;
      r.message = m;
      return r;
    };
    for (const auto& level : qi.ready) {
      for (const Message& m : level) put_entry(message_record(RecordType::kSnapReady, m));
    }
    for (const Message& m : qi.delayed) put_entry(message_record(RecordType::kSnapDelayed, m));
    for (const InFlightImage& f : qi.in_flight) {
      WalRecord r = message_record(RecordType::kSnapInFlight, f.message);
      r.consumer = f.holder;
      r.at_ns = f.delivered_ns;
      put_entry(std::move(r));
    }
    for (const WindowEntry& w : qi.window) {
      WalRecord r = make_record(RecordType::kSnapWindow, q);
      r.id = w.id;
      r.at_ns = w.accepted_ns;
      put_entry(std::move(r));
    }
  }
  WalRecord end = make_record(RecordType::kSnapshotEnd, 0);
  end.count = count;
  end.ends_write = true;  // the checkpoint is one write
  put(end);
  const uint64_t next = segment_ + 1;
  const std::string name = segment_name(next);
  Status s = storage_->append(name, content);
  if (s.ok()) s = storage_->sync(name);
  if (!s.ok()) return fail(s);
  segment_ = next;
  segment_bytes_ = content.size();
  // The new generation is durable: the old one is garbage now. A failure to remove
  // it leaves superseded segments that recovery skips, so it is reported but does
  // not break the log.
  auto names = storage_->list();
  if (!names.ok()) return names.status();
  for (const auto& old : *names) {
    const auto n = segment_number(old);
    if (n && *n < next) MQ_RETURN_IF_ERROR(storage_->remove(old));
  }
  return Status();
}

}  // namespace mq::impl
