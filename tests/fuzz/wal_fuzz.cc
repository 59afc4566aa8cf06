// Fuzz target: write-ahead log recovery (impl/wal.h) from arbitrary segment bytes.
// Every outcome must be a clean image, a reported torn tail, or kCorruption: never a
// crash, never a silently wrong image. Two modes, chosen by the first byte:
//
//  - raw: the rest of the input is cut into segment files at each segment magic and
//    recovered; Wal::recover must agree with the reference decoder
//    (wal_reference.h) on the outcome, the image, the torn tail and every skipped
//    place; a recovered image must restore into a BrokerCore or be refused with a
//    Status, and a restored core's image must survive a checkpoint and a second
//    recovery unchanged;
//  - written: the input is a script of broker commands (BrokerCore, the records of
//    its effects logged through a Wal into a MemStorage, commits and checkpoints at
//    the script's choice), then one damage (truncate, flip a bit, zero the tail,
//    append bytes). Before the damage the log must decode to exactly what was
//    written: the reference image of the committed records, which must also be the
//    core's own durable_image() when everything was committed. After it, recovery
//    must agree with the reference decoder, and what it applied must be the records
//    written in that order, up to the damage: every record that ends before the
//    damaged byte is kept (or, with skip_corruption, every one left out is reported),
//    and records are dropped unreported only by a cut exactly where a write ended
//    (the log a crash before the later writes leaves: no byte tells them apart).
#include <map>
#include <set>

#include "impl/broker_core.h"
#include "impl/mem_storage.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/wal_reference.h"

namespace {

using namespace mq;
using namespace mq::fuzz;

im::BrokerConfig config() {
  im::BrokerConfig c;
  c.producers.push_back({"p"});
  im::QueueOptions a;
  a.name = "a";
  a.capacity = 8;
  a.priority_levels = 3;
  a.durable = true;
  a.max_retries = 2;
  a.dedup_window_ids = 3;
  im::QueueOptions b = a;
  b.name = "b";
  b.capacity = 6;
  b.priority_levels = 1;
  b.redelivery = im::Redelivery::kFront;
  b.visibility_timeout_ns = 5'000'000;
  b.dead_letter_queue = "a";
  im::QueueOptions v = a;
  v.name = "volatile";
  v.durable = false;
  c.queues = {a, b, v};
  c.consumers.push_back({"c0", "a", 2, im::AckMode::kManual});
  c.consumers.push_back({"c1", "b", 1, im::AckMode::kManual});
  c.consumers.push_back({"c2", "a", 0, im::AckMode::kManual});
  return c;
}

std::map<std::string, std::string> files_of(im::MemStorage& storage) {
  std::map<std::string, std::string> files;
  auto names = storage.list();
  FUZZ_EXPECT(names.ok(), names.status().to_string());
  for (const auto& n : *names) {
    auto data = storage.read(n);
    FUZZ_EXPECT(data.ok(), data.status().to_string());
    files[n] = *data;
  }
  return files;
}

std::string where(const std::optional<im::CorruptionReport>& r) {
  return r ? r->file + "@" + std::to_string(r->offset) : "-";
}

// Wal::recover and the reference agree on everything recovery decides.
void expect_same(const Result<im::Recovery>& rec, const RefRecovery& ref, const std::string& context) {
  FUZZ_EXPECT(rec.ok() == ref.status.ok(),
              context + ": recover says " + (rec.ok() ? "ok" : rec.status().to_string()) + ", the reference " +
                  (ref.status.ok() ? "ok" : ref.status.to_string()));
  if (!rec.ok()) {
    FUZZ_EXPECT(rec.status().code() == Code::kCorruption, rec.status().to_string());
    return;
  }
  FUZZ_EXPECT(image_text(rec->image) == image_text(ref.image),
              context + ": images differ\nrecover:\n" + image_text(rec->image) + "reference:\n" + image_text(ref.image));
  FUZZ_EXPECT(where(rec->torn_tail) == where(ref.torn_tail),
              context + ": torn tail " + where(rec->torn_tail) + " vs " + where(ref.torn_tail));
  FUZZ_EXPECT(rec->skipped.size() == ref.skipped.size(), context + ": skipped places differ");
  for (size_t i = 0; i < rec->skipped.size(); ++i) {
    FUZZ_EXPECT(where(rec->skipped[i]) == where(ref.skipped[i]), context + ": skipped place differs");
  }
  FUZZ_EXPECT(rec->records == ref.applied.size(), context + ": record counts differ");
}

// A recovered image restores or is refused; restored, it survives a checkpoint.
void expect_restorable(const im::DurableImage& image) {
  auto core = im::BrokerCore::create(config());
  FUZZ_EXPECT(core.ok(), core.status().to_string());
  im::Effects fx;
  if (!core.value().restore(image.time_ns, image, fx).ok()) return;  // refused with a reason: fine
  const im::DurableImage restored = core->durable_image();
  im::MemStorage fresh;
  auto wal = im::Wal::start(fresh, im::WalOptions{}, restored);
  FUZZ_EXPECT(wal.ok(), wal.status().to_string());
  auto again = im::Wal::recover(fresh, config(), im::WalOptions{});
  FUZZ_EXPECT(again.ok() && !again->torn_tail, again.ok() ? "torn" : again.status().to_string());
  FUZZ_EXPECT(image_text(again->image) == image_text(restored), "a checkpoint does not recover to its image");
}

void raw_mode(uint8_t flags, std::string_view rest) {
  im::MemStorage storage;
  const uint64_t base = (flags >> 2) & 7;
  const bool gap = (flags & 0x20) != 0;
  // Cut at each magic after the first byte: each piece is one segment file.
  std::vector<std::string_view> pieces;
  size_t start = 0;
  constexpr size_t kMaxSegments = 8;
  for (size_t at = rest.find(im::kSegmentMagic, 1); at != std::string_view::npos && pieces.size() + 1 < kMaxSegments;
       at = rest.find(im::kSegmentMagic, at + 1)) {
    pieces.push_back(rest.substr(start, at - start));
    start = at;
  }
  pieces.push_back(rest.substr(start));
  for (size_t k = 0; k < pieces.size(); ++k) {
    storage.put(im::segment_name(base + k + (gap && k > 0 ? 1 : 0)), std::string(pieces[k]));
  }
  const bool skip = (flags & 2) != 0;
  auto rec = im::Wal::recover(storage, config(), im::WalOptions{.skip_corruption = skip});
  const RefRecovery ref = ref_recover(files_of(storage), config(), skip);
  expect_same(rec, ref, "raw");
  if (rec.ok()) expect_restorable(rec->image);
}

// ---- written mode ----

std::string encode(const im::WalRecord& r) {
  std::string out;
  im::encode_record(r, out);
  return out;
}

class Script {
 public:
  Script() : core_(std::move(im::BrokerCore::create(config())).value()), reference_(config()) {
    auto wal = im::Wal::start(storage_, options(), core_.durable_image());
    FUZZ_EXPECT(wal.ok(), wal.status().to_string());
    wal_.emplace(std::move(wal).value());
    reference_.reset_to(core_.durable_image());
    note_write_ends();
  }

  static im::WalOptions options() {
    im::WalOptions o;
    o.segment_bytes = 200;  // segments roll every few records
    return o;
  }

  void step(uint8_t b) {
    im::Effects fx;
    const uint32_t who = (b >> 3) % 3;
    switch (b % 8) {
      case 0:
      case 1: {
        const bool again = ((b >> 5) & 1) != 0 && next_id_ > 1;
        im::MessageSpec spec{again ? next_id_ - 1 : next_id_++, "m", static_cast<im::Priority>((b >> 6) % 3), 0, 0, {}};
        if (b % 8 == 1) spec.ttl_ns = 3'000'000;
        if ((b >> 7) != 0) spec.delay_ns = 2'000'000;
        (void)core_.send(now_, 0, who, spec, fx);
        break;
      }
      case 2:
        (void)((b >> 5) & 1 ? core_.fetch(now_, who, fx) : core_.dispatch(now_, who % 2, fx));
        break;
      case 3:
      case 4: {
        const auto held = held_by(who);
        if (held.empty()) break;
        const im::MessageId id = held[(b >> 5) % held.size()];
        (void)(b % 8 == 3 ? core_.ack(now_, who, id, fx) : core_.nack(now_, who, id, (b >> 7) != 0, fx));
        break;
      }
      case 5:
        now_ += ((b >> 3) + 1) * 1'000'000;
        (void)core_.tick(now_, fx);
        break;
      case 6: commit(); break;
      case 7:
        commit();
        FUZZ_EXPECT(wal_->checkpoint(core_.durable_image()).ok(), "checkpoint failed");
        reference_.reset_to(core_.durable_image());
        note_write_ends();
        break;
    }
    log(fx);
  }

  void commit() {
    FUZZ_EXPECT(wal_->write(log_.take()).ok(), "commit failed");
    for (const auto& r : pending_) FUZZ_EXPECT(reference_.apply(r).ok(), "a written record does not fit");
    pending_.clear();
    note_write_ends();
  }

  // Where a write ended: every file's size after a commit or checkpoint, and the
  // magic of a new segment (written by an append of its own).
  void note_write_ends() {
    for (const auto& [name, data] : files_of(storage_)) {
      write_ends_.insert({name, data.size()});
      write_ends_.insert({name, im::kSegmentMagic.size()});
    }
  }
  bool write_ended_at(const std::string& file, uint64_t at) const { return write_ends_.contains({file, at}); }

  // The log before any damage is what was written.
  void expect_written(const std::map<std::string, std::string>& files, bool all_committed) {
    const RefRecovery ref = ref_recover(files, config(), false);
    FUZZ_EXPECT(ref.status.ok() && !ref.torn_tail && ref.skipped.empty(), "the undamaged log does not decode");
    FUZZ_EXPECT(image_text(ref.image) == image_text(reference_.image()),
                "the log is not what was written\nlog:\n" + image_text(ref.image) + "written:\n" +
                    image_text(reference_.image()));
    if (all_committed) {
      // Time aside: a tick that changed nothing wrote no record.
      const std::string records = image_text(reference_.image(), false);
      const std::string core = image_text(core_.durable_image(), false);
      FUZZ_EXPECT(records == core, "the records do not say what the core holds\nrecords:\n" + records + "core:\n" + core);
    }
  }

  im::MemStorage& storage() { return storage_; }
  bool all_committed() const { return pending_.empty(); }

 private:
  std::vector<im::MessageId> held_by(uint32_t consumer) const {
    std::vector<im::MessageId> ids;
    for (const auto& q : core_.durable_image().queues) {
      for (const auto& f : q.in_flight) {
        if (f.holder == consumer) ids.push_back(f.message.id);
      }
    }
    for (const auto& [c, id] : volatile_flight_) {
      if (c == consumer) ids.push_back(id);
    }
    return ids;
  }

  void log(const im::Effects& fx) {
    log_.add(fx);
    for (const auto& e : fx) {
      if (e.persist) pending_.push_back(im::record_of(e));
      if (e.kind == im::EffectKind::kDelivered && e.queue == 2) volatile_flight_.insert({e.consumer, e.message.id});
      if (e.queue == 2 && e.kind != im::EffectKind::kDelivered) volatile_flight_.erase({e.consumer, e.message.id});
    }
  }

  im::BrokerCore core_;
  im::MemStorage storage_;
  std::optional<im::Wal> wal_;
  im::LogBuffer log_;  // the records not yet written
  ReferenceImage reference_;
  std::vector<im::WalRecord> pending_;  // added, not yet committed
  std::set<std::pair<uint32_t, im::MessageId>> volatile_flight_;
  std::set<std::pair<std::string, uint64_t>> write_ends_;
  im::MessageId next_id_ = 1;
  im::TimeNs now_ = 0;
};

struct Damage {
  std::string file;
  uint64_t at = 0;  // the first byte changed (or cut)
  bool cut = false;  // the file was truncated at `at`
};

std::optional<Damage> damage(im::MemStorage& storage, const std::map<std::string, std::string>& files, uint8_t kind,
                             uint16_t pos, uint8_t pick, std::string_view garbage) {
  if (files.empty()) return std::nullopt;
  const auto last = std::prev(files.end());
  auto nth = files.begin();
  std::advance(nth, pick % files.size());
  switch (kind % 5) {
    case 0: return std::nullopt;
    case 1: {  // truncate the last segment
      const uint64_t at = pos % (last->second.size() + 1);
      storage.truncate(last->first, at);
      return Damage{last->first, at, true};
    }
    case 2: {  // flip a bit anywhere
      if (nth->second.empty()) return std::nullopt;
      const uint64_t at = pos % nth->second.size();
      storage.flip_bit(nth->first, at, static_cast<uint8_t>(pick % 8));
      return Damage{nth->first, at};
    }
    case 3: {  // zero the tail of the last segment
      std::string data = last->second;
      const uint64_t at = pos % (data.size() + 1);
      std::fill(data.begin() + static_cast<long>(at), data.end(), '\0');
      storage.put(last->first, data);
      return Damage{last->first, at};
    }
    default: {  // bytes appended to the last segment
      storage.put(last->first, last->second + std::string(garbage));
      return Damage{last->first, last->second.size()};
    }
  }
}

void written_mode(uint8_t flags, std::string_view rest) {
  constexpr size_t kHeader = 4;  // damage kind, position (2 bytes), pick
  if (rest.size() < kHeader) return;
  const uint8_t kind = static_cast<uint8_t>(rest[0]);
  const uint16_t pos = static_cast<uint16_t>(static_cast<uint8_t>(rest[1]) | static_cast<uint8_t>(rest[2]) << 8);
  const uint8_t pick = static_cast<uint8_t>(rest[3]);
  std::string_view script = rest.substr(kHeader);
  // Appended garbage comes after a 0xFF byte, if any; the rest is the script.
  std::string_view garbage;
  if (const size_t cut = script.find('\xff'); cut != std::string_view::npos) {
    garbage = script.substr(cut + 1);
    script = script.substr(0, cut);
  }
  constexpr size_t kMaxSteps = 400;
  Script s;
  for (size_t i = 0; i < script.size() && i < kMaxSteps; ++i) s.step(static_cast<uint8_t>(script[i]));
  const auto before = files_of(s.storage());
  s.expect_written(before, s.all_committed());
  const RefRecovery undamaged = ref_recover(before, config(), false);
  const auto hit = damage(s.storage(), before, kind, pos, pick, garbage);
  const bool skip = (flags & 2) != 0;
  auto rec = im::Wal::recover(s.storage(), config(), im::WalOptions{.skip_corruption = skip});
  const RefRecovery ref = ref_recover(files_of(s.storage()), config(), skip);
  expect_same(rec, ref, "written");
  if (!rec.ok()) return;
  // What was applied is what was written, in order (a subsequence with skipping).
  size_t j = 0;
  for (const RefFrame& f : ref.applied) {
    while (j < undamaged.applied.size() &&
           (undamaged.applied[j].segment != f.segment || undamaged.applied[j].offset != f.offset)) {
      FUZZ_EXPECT(skip, "a record was left out before " + f.segment + "@" + std::to_string(f.offset));
      ++j;
    }
    FUZZ_EXPECT(j < undamaged.applied.size(), "a record that was never written: " + f.segment + "@" +
                                                   std::to_string(f.offset));
    FUZZ_EXPECT(encode(undamaged.applied[j].record) == encode(f.record), "a record changed at " + f.segment);
    ++j;
  }
  const bool all_kept = ref.applied.size() == undamaged.applied.size();
  const bool cut_at_write_end = hit && hit->cut && s.write_ended_at(hit->file, hit->at);
  FUZZ_EXPECT(all_kept || rec->torn_tail || !rec->skipped.empty() || cut_at_write_end,
              "records were dropped without a report");
  if (!hit || skip) return;
  // Without skipping, every record of a write that ends before the damage is kept (a
  // write applies whole or not at all).
  for (size_t k = 0; k < undamaged.applied.size(); ++k) {
    const RefFrame& f = undamaged.applied[k];
    size_t last = k;  // the last frame of f's write
    while (last + 1 < undamaged.applied.size() && !undamaged.applied[last].ends_write) ++last;
    const RefFrame& w = undamaged.applied[last];
    const bool before_damage = w.segment < hit->file || (w.segment == hit->file && w.end() <= hit->at);
    if (!before_damage) break;
    const bool kept = std::any_of(ref.applied.begin(), ref.applied.end(), [&](const RefFrame& g) {
      return g.segment == f.segment && g.offset == f.offset;
    });
    FUZZ_EXPECT(kept, "an undamaged record was lost: " + f.segment + "@" + std::to_string(f.offset));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const std::string_view rest = text_of(data + 1, size - 1);
  if ((flags & 1) == 0) {
    raw_mode(flags, rest);
  } else {
    written_mode(flags, rest);
  }
  return 0;
}
