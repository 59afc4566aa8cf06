#pragma once
// A reference decoder of the write-ahead log, for the WAL fuzz target: the recovery
// rules of impl/wal.h and docs/durability.md written a second time, plainly (one
// list per place, linear scans, no ordering keys), so that Wal::recover can be
// compared with it on any bytes. The records' own encoding is impl's (decode_body
// and crc32c are tested by wal_test against fixed vectors); what is restated here is
// everything recovery decides: which segments, which frames, torn tail or
// corruption, and what each record does to the image.
//
// ReferenceImage also serves the "written" side of the target: records applied to it
// must give what BrokerCore::durable_image() says at every commit.

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "impl/broker_config.h"
#include "impl/durable_image.h"
#include "impl/wal.h"
#include "impl/wal_record.h"

namespace mq::fuzz {

namespace im = mq::impl;

// One line per message, window entry and (with_time) the time: equal texts, equal images.
inline std::string image_text(const im::DurableImage& image, bool with_time = true) {
  std::string s = with_time ? "time " + std::to_string(image.time_ns) + "\n" : "";
  auto message = [](const im::Message& m) {
    return "#" + std::to_string(m.id) + " '" + std::string(m.payload_view()) + "' ts" +
           std::to_string(m.timestamp_ns) + " p" + std::to_string(m.priority) + " ttl" + std::to_string(m.ttl_ns) +
           " nb" + std::to_string(m.not_before_ns) + " a" + std::to_string(m.attempts) + "/" +
           std::to_string(m.max_retries);
  };
  for (size_t q = 0; q < image.queues.size(); ++q) {
    const im::QueueImage& qi = image.queues[q];
    const std::string tag = "q" + std::to_string(q) + " ";
    for (size_t level = 0; level < qi.ready.size(); ++level) {
      for (const auto& m : qi.ready[level]) s += tag + "ready" + std::to_string(level) + " " + message(m) + "\n";
    }
    for (const auto& m : qi.delayed) s += tag + "delayed " + message(m) + "\n";
    for (const auto& f : qi.in_flight) {
      s += tag + "in-flight c" + std::to_string(f.holder) + " at" + std::to_string(f.delivered_ns) + " " +
           message(f.message) + "\n";
    }
    for (const auto& w : qi.window) s += tag + "window #" + std::to_string(w.id) + " at" + std::to_string(w.accepted_ns) + "\n";
  }
  return s;
}

// One queue's contents and the whole state, as ReferenceImage keeps them (outside
// the class: clang 14 cannot default-construct a nested class with member
// initializers inside its enclosing class).
struct RefQueue {
  std::vector<im::Message> ready;  // all levels, in order (image() splits them)
  std::vector<im::Message> delayed;
  std::vector<im::InFlightImage> in_flight;
  std::vector<im::WindowEntry> window;
};
struct RefState {
  im::TimeNs time_ns = 0;
  std::vector<RefQueue> queues;
};

// What the records of a log say the durable queues hold.
class ReferenceImage {
  using Q = RefQueue;
  using State = RefState;

 public:
  explicit ReferenceImage(const im::BrokerConfig& config) : config_(config) { reset(state_, 0); }

  // Applies one record; an error names what does not fit (the image is then unusable).
  Status apply(const im::WalRecord& r) {
    using T = im::RecordType;
    const bool bracket = r.type == T::kSnapshotBegin || r.type == T::kSnapshotEnd;
    if (!bracket && (r.queue >= config_.queues.size() || !config_.queues[r.queue].durable)) {
      return corruption("a record for a queue that is not durable or not configured");
    }
    switch (r.type) {
      case T::kSnapshotBegin:
        snapshot_.emplace();
        reset(*snapshot_, r.time_ns);
        snapshot_records_ = 0;
        return Status();
      case T::kSnapshotEnd:
        if (!snapshot_ || snapshot_records_ != r.count) return corruption("a checkpoint end that does not match");
        state_ = std::move(*snapshot_);
        snapshot_.reset();
        return Status();
      case T::kSnapReady:
      case T::kSnapDelayed:
      case T::kSnapInFlight:
      case T::kSnapWindow: {
        if (!snapshot_) return corruption("a checkpoint record outside a checkpoint");
        ++snapshot_records_;
        Q& q = snapshot_->queues[r.queue];
        if (r.type == T::kSnapWindow) {
          q.window.push_back({r.id, r.at_ns});
          return Status();
        }
        if (holds(q, r.message.id)) return corruption("a message held twice");
        if (r.type == T::kSnapReady) q.ready.push_back(r.message);
        if (r.type == T::kSnapDelayed) q.delayed.push_back(r.message);
        if (r.type == T::kSnapInFlight) q.in_flight.push_back({r.message, r.consumer, r.at_ns});
        return Status();
      }
      case T::kPut:
      case T::kRelease:
      case T::kDeliver:
      case T::kRequeue:
      case T::kRemove:
        if (snapshot_) return corruption("a change record inside a checkpoint");
        return change(r);
    }
    return corruption("an unknown record type");
  }

  im::DurableImage image() const {
    im::DurableImage image;
    image.time_ns = state_.time_ns;
    image.queues.resize(config_.queues.size());
    for (size_t i = 0; i < config_.queues.size(); ++i) {
      const Q& q = state_.queues[i];
      im::QueueImage& qi = image.queues[i];
      const bool empty = q.ready.empty() && q.delayed.empty() && q.in_flight.empty() && q.window.empty();
      if (empty) continue;
      qi.ready.resize(config_.queues[i].priority_levels);
      for (const auto& m : q.ready) {
        if (m.priority >= qi.ready.size()) qi.ready.resize(m.priority + 1u);
        qi.ready[m.priority].push_back(m);
      }
      qi.delayed = q.delayed;
      qi.in_flight = q.in_flight;
      qi.window = q.window;
    }
    return image;
  }

  void reset_to(const im::DurableImage& image) {
    reset(state_, image.time_ns);
    for (size_t i = 0; i < image.queues.size() && i < state_.queues.size(); ++i) {
      const im::QueueImage& qi = image.queues[i];
      Q& q = state_.queues[i];
      for (const auto& level : qi.ready) q.ready.insert(q.ready.end(), level.begin(), level.end());
      q.delayed = qi.delayed;
      q.in_flight = qi.in_flight;
      q.window = qi.window;
    }
  }

 private:
  void reset(State& s, im::TimeNs t) const {
    s.time_ns = t;
    s.queues.assign(config_.queues.size(), Q{});
  }

  static bool holds(const Q& q, im::MessageId id) {
    auto is = [id](const im::Message& m) { return m.id == id; };
    return std::any_of(q.ready.begin(), q.ready.end(), is) || std::any_of(q.delayed.begin(), q.delayed.end(), is) ||
           std::any_of(q.in_flight.begin(), q.in_flight.end(),
                       [id](const im::InFlightImage& f) { return f.message.id == id; });
  }

  template <typename V, typename Id>
  static std::optional<typename V::value_type> take(V& v, Id id) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (id(*it)) {
        auto x = *it;
        v.erase(it);
        return x;
      }
    }
    return std::nullopt;
  }

  Status change(const im::WalRecord& r) {
    using T = im::RecordType;
    State& s = state_;
    Q& q = s.queues[r.queue];
    const im::QueueOptions& o = config_.queues[r.queue];
    s.time_ns = std::max(s.time_ns, r.time_ns);
    auto id_is = [&r](const im::Message& m) { return m.id == r.id; };
    auto flight_is = [&r](const im::InFlightImage& f) { return f.message.id == r.id; };
    switch (r.type) {
      case T::kPut:
        if (holds(q, r.message.id)) return corruption("a message held twice");
        if (r.message.not_before_ns <= r.message.timestamp_ns) {
          q.ready.push_back(r.message);
        } else {
          q.delayed.push_back(r.message);
        }
        q.window.push_back({r.id, r.message.timestamp_ns});
        if (q.window.size() > o.dedup_window_ids) q.window.erase(q.window.begin());
        return Status();
      case T::kRelease: {
        auto m = take(q.delayed, id_is);
        if (!m) return corruption("a release of a message that is not delayed");
        q.ready.push_back(*m);
        return Status();
      }
      case T::kDeliver: {
        auto m = take(q.ready, id_is);
        if (!m) return corruption("a delivery of a message that is not ready");
        m->attempts = r.attempts;
        q.in_flight.push_back({*m, r.consumer, r.time_ns});
        return Status();
      }
      case T::kRequeue: {
        auto f = take(q.in_flight, flight_is);
        if (!f) return corruption("a requeue of a message that is not in flight");
        const bool front = o.redelivery == im::Redelivery::kFront;
        q.ready.insert(front ? q.ready.begin() : q.ready.end(), f->message);
        return Status();
      }
      case T::kRemove:
        if (take(q.ready, id_is) || take(q.delayed, id_is) || take(q.in_flight, flight_is)) return Status();
        return corruption("a removal of a message that is not held");
      default:
        return corruption("not a change record");
    }
  }

  im::BrokerConfig config_;
  State state_;
  std::optional<State> snapshot_;
  uint64_t snapshot_records_ = 0;
};

// ---- scanning segments ----

struct RefFrame {
  std::string segment;
  uint64_t offset = 0;
  im::WalRecord record;
  bool ends_write = false;  // bit 7 of the body's first byte, read here
  uint64_t end() const { return offset + im::kFrameHeaderBytes + size; }
  uint64_t size = 0;  // of the body
};

struct RefSegment {
  std::string name;
  uint64_t number = 0;
  std::vector<RefFrame> frames;
  std::optional<im::CorruptionReport> stop;  // where the frames ended early
  bool tail_like = false;                    // ... in a way a torn write leaves
};

inline uint32_t ref_le32(std::string_view s, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[at])) | static_cast<uint32_t>(static_cast<uint8_t>(s[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3])) << 24;
}

inline RefSegment ref_scan(const std::string& name, uint64_t number, std::string_view data) {
  RefSegment seg{name, number, {}, std::nullopt, false};
  const std::string_view magic = im::kSegmentMagic;
  const size_t head = std::min(data.size(), magic.size());
  if (data.substr(0, head) != magic.substr(0, head)) {
    seg.stop = im::CorruptionReport{name, 0, "bad magic"};
    return seg;
  }
  if (data.size() < magic.size()) {
    seg.stop = im::CorruptionReport{name, 0, "short header"};
    seg.tail_like = true;
    return seg;
  }
  size_t off = magic.size();
  while (off < data.size()) {
    const std::string_view rest = data.substr(off);
    auto stop = [&](bool tail) {
      seg.stop = im::CorruptionReport{name, off, "stop"};
      seg.tail_like = tail;
    };
    if (rest.find_first_not_of('\0') == std::string_view::npos) return stop(true), seg;
    if (rest.size() < im::kFrameHeaderBytes) return stop(true), seg;
    const uint32_t length = ref_le32(rest, 0);
    const size_t room = rest.size() - im::kFrameHeaderBytes;
    if (length > im::kMaxRecordBytes || length > room) {
      // A length one flipped bit away from one that the checksum matches: a damaged
      // length, not a torn write.
      for (uint32_t bit = 1; bit != 0; bit <<= 1) {
        const uint32_t was = length ^ bit;
        if (was > im::kMaxRecordBytes || was > room) continue;
        std::string field(4, '\0');
        for (int b = 0; b < 4; ++b) field[b] = static_cast<char>(was >> (8 * b));
        if (im::crc32c(rest.substr(im::kFrameHeaderBytes, was), im::crc32c(field)) == ref_le32(rest, 4))
          return stop(false), seg;
      }
    }
    if (length > im::kMaxRecordBytes) return stop(false), seg;
    if (length > room) return stop(true), seg;
    const std::string_view body = rest.substr(im::kFrameHeaderBytes, length);
    if (im::crc32c(body, im::crc32c(rest.substr(0, 4))) != ref_le32(rest, 4)) {
      return stop(rest.size() == im::kFrameHeaderBytes + length), seg;
    }
    auto record = im::decode_body(body);
    if (!record.ok()) return stop(false), seg;
    seg.frames.push_back({name, off, *record, (static_cast<uint8_t>(body[0]) & 0x80) != 0, length});
    off += im::kFrameHeaderBytes + length;
  }
  // The file ends on whole frames, but not at the end of a write.
  if (!seg.frames.empty() && !seg.frames.back().ends_write) {
    seg.stop = im::CorruptionReport{name, off, "stop"};
    seg.tail_like = true;
  }
  return seg;
}

// ---- recovery ----

struct RefRecovery {
  Status status;  // ok or kCorruption
  im::DurableImage image;
  std::optional<im::CorruptionReport> torn_tail;  // file and offset (the text is not compared)
  std::vector<im::CorruptionReport> skipped;      // file and offset
  std::vector<RefFrame> applied;
};

// `files`: name -> content, every file of the storage (non-segment names ignored).
inline RefRecovery ref_recover(const std::map<std::string, std::string>& files, const im::BrokerConfig& config,
                               bool skip_corruption) {
  RefRecovery out;
  std::vector<RefSegment> segs;
  for (const auto& [name, data] : files) {
    // "wal-" + 16 digits + ".log"; std::map orders the names, and so the numbers.
    if (name.size() != 24 || !name.starts_with("wal-") || !name.ends_with(".log")) continue;
    const std::string digits = name.substr(4, 16);
    if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
    segs.push_back(ref_scan(name, std::stoull(digits), data));
  }
  for (size_t i = 0; i + 1 < segs.size(); ++i) segs[i].tail_like = false;  // only the last may be torn
  // A write applies whole or not at all: a torn tail takes the records it left of the
  // write it cuts with it.
  if (!segs.empty() && segs.back().tail_like) {
    auto& frames = segs.back().frames;
    while (!frames.empty() && !frames.back().ends_write) frames.pop_back();
  }
  out.image.queues.resize(config.queues.size());
  if (segs.empty()) return out;
  auto complete_checkpoint = [](const RefSegment& s) {
    if (s.frames.empty() || s.frames[0].record.type != im::RecordType::kSnapshotBegin) return false;
    return std::any_of(s.frames.begin(), s.frames.end(),
                       [](const RefFrame& f) { return f.record.type == im::RecordType::kSnapshotEnd; });
  };
  std::optional<size_t> base;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (complete_checkpoint(segs[i])) base = i;
  }
  if (!base) {
    out.status = corruption("no checkpoint");
    return out;
  }
  for (size_t i = *base + 1; i < segs.size(); ++i) {
    if (segs[i].number != segs[i - 1].number + 1) {
      out.status = corruption("missing segment");
      return out;
    }
  }
  ReferenceImage image(config);
  for (size_t i = *base; i < segs.size(); ++i) {
    const RefSegment& s = segs[i];
    bool skipped = false;
    for (const RefFrame& f : s.frames) {
      if (!image.apply(f.record).ok()) {
        if (!skip_corruption) {
          out.status = corruption("record does not fit");
          return out;
        }
        out.skipped.push_back({s.name, f.offset, ""});
        skipped = true;
        break;
      }
      out.applied.push_back(f);
    }
    if (skipped || !s.stop) continue;
    if (s.tail_like) {
      out.torn_tail = s.stop;
    } else if (!skip_corruption) {
      out.status = corruption("corrupt frame");
      return out;
    } else {
      out.skipped.push_back(*s.stop);
    }
  }
  out.image = image.image();
  return out;
}

}  // namespace mq::fuzz
