// Unit tests for the write-ahead log: the record format, recovery of every kind of
// state, checkpoints, and every error branch of recovery and writing (torn tail,
// zero-filled tail, flipped bit, wrong length, bad magic, missing segment, a record
// that does not fit the state, ENOSPC, a failing sync), plus BrokerCore::restore's
// refusals. The comparison with the model's crash semantics is wal_model_test.cc.

#include "impl/wal.h"

#include <gtest/gtest.h>

#include "impl/broker_core.h"
#include "impl/mem_storage.h"

namespace mq::impl {
namespace {

BrokerConfig config(Redelivery redelivery = Redelivery::kBack) {
  BrokerConfig c;
  c.producers.push_back({"p"});
  QueueOptions q;
  q.name = "q";
  q.capacity = 64;
  q.priority_levels = 2;
  q.durable = true;
  q.visibility_timeout_ns = 100;
  q.redelivery = redelivery;
  c.queues.push_back(q);
  QueueOptions t = q;
  t.name = "transient";
  t.durable = false;
  c.queues.push_back(t);
  c.consumers.push_back({"c", "q", 0, AckMode::kManual});
  return c;
}

MessageSpec msg(MessageId id, Priority p = 0, TimeNs delay = 0) {
  return MessageSpec{id, "m" + std::to_string(id), p, 0, delay, std::nullopt};
}

// A core whose records go through a LogBuffer to a Wal on a MemStorage, written and
// synced after every command.
struct Node {
  explicit Node(BrokerConfig c = config(), WalOptions o = {}) : cfg(std::move(c)), options(o) {
    core.emplace(std::move(BrokerCore::create(cfg)).value());
    wal.emplace(std::move(Wal::start(disk, options, core->durable_image())).value());
  }
  Status run(Status s) {
    log.add(effects);
    effects.clear();
    MQ_RETURN_IF_ERROR(s);
    return wal->write(log.take());
  }
  Status send(MessageSpec m, QueueId q = 0) { return run(core->send(core->now(), 0, q, std::move(m), effects)); }
  Status fetch() { return run(core->fetch(core->now(), 0, effects)); }
  Status ack(MessageId id) { return run(core->ack(core->now(), 0, id, effects)); }
  Status nack(MessageId id) { return run(core->nack(core->now(), 0, id, true, effects)); }
  Status tick(TimeNs t) { return run(core->tick(t, effects)); }
  Result<Recovery> recover(WalOptions o = {}) { return Wal::recover(disk, cfg, o); }
  std::vector<std::string> segments() { return *disk.list(); }

  BrokerConfig cfg;
  WalOptions options;
  MemStorage disk;
  std::optional<BrokerCore> core;
  std::optional<Wal> wal;
  LogBuffer log;  // the records not yet written
  Effects effects;
};

// The image's contents. Not its time: a recovered image has the time of the last
// record, which is at or before the time the core had when it synced.
std::string show(const DurableImage& image) {
  std::string s;
  for (size_t q = 0; q < image.queues.size(); ++q) {
    const QueueImage& qi = image.queues[q];
    s += "\nq" + std::to_string(q) + ":";
    for (size_t p = 0; p < qi.ready.size(); ++p) {
      for (const auto& m : qi.ready[p]) {
        s += " r" + std::to_string(p) + "#" + std::to_string(m.id) + "a" + std::to_string(m.attempts) + "'" +
             std::string(m.payload_view()) + "'";
      }
    }
    for (const auto& m : qi.delayed) s += " d#" + std::to_string(m.id) + "@" + std::to_string(m.not_before_ns);
    for (const auto& f : qi.in_flight) {
      s += " f#" + std::to_string(f.message.id) + "c" + std::to_string(f.holder) + "@" + std::to_string(f.delivered_ns);
    }
    s += " w" + std::to_string(qi.window.size());
  }
  return s;
}

// Some history: ready at two levels, a delayed one, one in flight, one requeued, one acked.
void make_history(Node& n) {
  ASSERT_TRUE(n.send(msg(1)).ok());
  ASSERT_TRUE(n.send(msg(2, 1)).ok());
  ASSERT_TRUE(n.send(msg(3, 0, 50)).ok());
  ASSERT_TRUE(n.send(msg(4)).ok());
  ASSERT_TRUE(n.send(msg(99), 1).ok());  // non-durable: never logged
  ASSERT_TRUE(n.fetch().ok());           // 2 (priority 1)
  ASSERT_TRUE(n.fetch().ok());           // 1
  ASSERT_TRUE(n.nack(1).ok());           // 1 back, behind 4
  ASSERT_TRUE(n.fetch().ok());           // 4
  ASSERT_TRUE(n.ack(4).ok());
  ASSERT_TRUE(n.tick(20).ok());
}

// The byte offset of the k-th frame (0-based) of a segment.
uint64_t frame_offset(const std::string& data, size_t k) {
  uint64_t off = kSegmentMagic.size();
  for (size_t i = 0; i < k; ++i) {
    uint32_t len = 0;
    for (size_t b = 4; b-- > 0;) len = (len << 8) | static_cast<uint8_t>(data[off + b]);
    off += kFrameHeaderBytes + len;
  }
  return off;
}

// The processor's CRC (SSE4.2, where there is one) agrees with the table on every
// length and start offset (the 8-byte steps and the byte tail), and when continued.
TEST(WalRecord, TheFastCrcAgreesWithTheTable) {
  std::string data;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int k = 0; k < 300; ++k, x = x * 6364136223846793005ull + 1442695040888963407ull) {
    data.push_back(static_cast<char>(x >> 56));
  }
  for (size_t from = 0; from < 9; ++from) {
    for (size_t n = 0; from + n <= data.size(); n += (n < 40 ? 1 : 37)) {
      const std::string_view part = std::string_view(data).substr(from, n);
      ASSERT_EQ(crc32c(part), crc32c_table(part)) << from << "+" << n;
      ASSERT_EQ(crc32c(part, 0x12345678u), crc32c_table(part, 0x12345678u)) << from << "+" << n;
    }
  }
  const std::string_view all(data);
  EXPECT_EQ(crc32c(all.substr(13), crc32c(all.substr(0, 13))), crc32c(all));
}

// A log written on a machine that computes CRC-32C one way is read on a machine that
// computes it the other way (a disk moved from an ARM server to an x86 one): the
// log's bytes do not depend on the way.
TEST(Wal, ALogWrittenWithOneCrcWayIsReadWithTheOther) {
  for (const Crc32cWay writer : {Crc32cWay::kTable, Crc32cWay::kInstruction}) {
    const Crc32cWay reader = writer == Crc32cWay::kTable ? Crc32cWay::kInstruction : Crc32cWay::kTable;
    const Crc32cWay before = use_crc32c(writer);
    Node n;
    make_history(n);
    const std::string want = show(n.core->durable_image());
    EXPECT_EQ(use_crc32c(reader), writer);
    auto rec = n.recover();
    use_crc32c(before);
    ASSERT_TRUE(rec.ok()) << rec.status().to_string();
    EXPECT_FALSE(rec->torn_tail);
    EXPECT_EQ(show(rec->image), want);
  }
}

TEST(WalRecord, EveryTypeRoundTripsAndCrcIsCastagnoli) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  EXPECT_EQ(crc32c_table("123456789"), 0xE3069283u);
  for (uint8_t t = 1; t <= static_cast<uint8_t>(RecordType::kSnapshotEnd); ++t) {
    WalRecord r;
    r.type = static_cast<RecordType>(t);
    r.queue = 3;
    r.time_ns = 77;
    r.id = 5;
    r.message = Message{5, std::make_shared<const std::string>("xyz"), 1, 2, 3, 4, 5, 6};
    if (r.type == RecordType::kDeliver || r.type == RecordType::kSnapInFlight) r.consumer = 9;
    std::string bytes;
    encode_record(r, bytes);  // asserts the round trip itself
    auto back = decode_body(std::string_view(bytes).substr(kFrameHeaderBytes));
    ASSERT_TRUE(back.ok()) << record_type_name(r.type);
    EXPECT_EQ(back->type, r.type);
  }
  EXPECT_EQ(decode_body(std::string(1, '\x7f')).status().code(), Code::kCorruption);
  EXPECT_EQ(decode_body(std::string(3, '\x01')).status().code(), Code::kCorruption);  // short
  std::string put;
  WalRecord r;
  r.type = RecordType::kRemove;
  encode_record(r, put);
  EXPECT_NE(decode_body(put.substr(kFrameHeaderBytes) + "x").status().message().find("too many"), std::string::npos);
}

TEST(Wal, RecoveryRebuildsWhatTheDurableQueuesHold) {
  Node n;
  make_history(n);
  auto rec = n.recover();
  ASSERT_TRUE(rec.ok()) << rec.status().to_string();
  EXPECT_FALSE(rec->torn_tail);
  EXPECT_EQ(show(rec->image), show(n.core->durable_image()));
  EXPECT_TRUE(rec->image.queues[1].ready.empty());  // non-durable: nothing
}

TEST(Wal, RestoreReturnsInFlightAsFailedDeliveriesAndKeepsTheWindow) {
  Node n;
  make_history(n);
  auto rec = n.recover();
  ASSERT_TRUE(rec.ok());
  BrokerCore fresh = std::move(BrokerCore::create(n.cfg)).value();
  Effects out;
  ASSERT_TRUE(fresh.restore(rec->image.time_ns, rec->image, out).ok());
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out[0].kind, EffectKind::kRequeued);  // #2 was in flight
  EXPECT_EQ(out[0].consumer, 0u);
  EXPECT_TRUE(out[0].persist);
  EXPECT_FALSE(fresh.attached(0));
  EXPECT_EQ(fresh.stats(0).size, 3u);
  // The idempotency window came back: a producer's retry of #1 is a duplicate.
  ASSERT_TRUE(fresh.attach(fresh.now(), 0, out).ok());
  out.clear();
  ASSERT_TRUE(fresh.send(fresh.now(), 0, 0, msg(4), out).ok());  // acked before the crash
  EXPECT_EQ(out[0].kind, EffectKind::kDuplicate);
}

TEST(Wal, RestoreRefusesWhatDoesNotFit) {
  Node n;
  make_history(n);
  auto image = n.core->durable_image();
  Effects out;
  EXPECT_EQ(n.core->restore(image.time_ns, image, out).code(), Code::kFailedPrecondition);  // not fresh
  auto fresh = [&] { return std::move(BrokerCore::create(n.cfg)).value(); };
  BrokerCore a = fresh();
  EXPECT_EQ(a.restore(image.time_ns - 1, image, out).code(), Code::kInvalidArgument);
  DurableImage wrong = image;
  wrong.queues[1].ready = {{Message{7, std::make_shared<const std::string>("x")}}};
  BrokerCore b = fresh();
  EXPECT_EQ(b.restore(image.time_ns, wrong, out).code(), Code::kFailedPrecondition);  // not durable
  wrong = image;
  wrong.queues[0].delayed.push_back(wrong.queues[0].delayed.front());
  BrokerCore c = fresh();
  EXPECT_EQ(c.restore(image.time_ns, wrong, out).code(), Code::kFailedPrecondition);  // duplicate id
  wrong = image;
  wrong.queues[0].in_flight[0].holder = 5;
  BrokerCore d = fresh();
  EXPECT_EQ(d.restore(image.time_ns, wrong, out).code(), Code::kFailedPrecondition);  // no such holder
  wrong = image;
  wrong.queues.pop_back();
  BrokerCore e = fresh();
  EXPECT_EQ(e.restore(image.time_ns, wrong, out).code(), Code::kFailedPrecondition);
}

TEST(Wal, SegmentsRollAndACheckpointRemovesTheOldOnes) {
  WalOptions o;
  o.segment_bytes = 200;
  Node n(config(), o);
  for (MessageId id = 1; id <= 30; ++id) {
    ASSERT_TRUE(n.send(msg(id)).ok());
    ASSERT_TRUE(n.fetch().ok());
    if (id % 2 == 0) {
      ASSERT_TRUE(n.ack(id).ok());
    }
  }
  EXPECT_GT(n.segments().size(), 3u);
  auto before = n.recover();
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_EQ(show(before->image), show(n.core->durable_image()));
  (void)n.log.take();
  ASSERT_TRUE(n.wal->checkpoint(n.core->durable_image()).ok());
  EXPECT_EQ(n.segments().size(), 1u);
  ASSERT_TRUE(n.send(msg(100)).ok());
  auto after = n.recover();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(show(after->image), show(n.core->durable_image()));
}

// A data directory may hold files that are not the log's, even with names one
// character off a segment's: recovery does not read them, a checkpoint does not
// remove them (the simulator starts every run with such files and checks them at
// each recovery).
TEST(Wal, FilesThatAreNotSegmentsAreLeftAlone) {
  EXPECT_EQ(segment_number(segment_name(42)), 42u);
  EXPECT_EQ(segment_number(segment_name(9'999'999'999'999'999)), 9'999'999'999'999'999u);  // 16 digits
  const std::vector<std::string> strays = {"wal-0000000000000001.log.bak", "xal-0000000000000001.log",
                                           "wal-0000000000000001.lag",     "wal-000000000000000x.log",
                                           "wal-00000000000000-1.log",     "wal-1.log"};
  for (const auto& name : strays) EXPECT_FALSE(segment_number(name).has_value()) << name;
  WalOptions o;
  o.segment_bytes = 200;
  Node n(config(), o);
  for (const auto& name : strays) n.disk.put(name, "not the log's: " + name);
  for (MessageId id = 1; id <= 20; ++id) ASSERT_TRUE(n.send(msg(id)).ok());
  auto before = n.recover();
  ASSERT_TRUE(before.ok()) << before.status().to_string();
  EXPECT_EQ(show(before->image), show(n.core->durable_image()));
  (void)n.log.take();
  ASSERT_TRUE(n.wal->checkpoint(n.core->durable_image()).ok());
  EXPECT_EQ(n.segments().size(), 1 + strays.size());
  for (const auto& name : strays) {
    auto kept = n.disk.read(name);
    ASSERT_TRUE(kept.ok()) << name;
    EXPECT_EQ(*kept, "not the log's: " + name);
  }
  auto after = n.recover();
  ASSERT_TRUE(after.ok()) << after.status().to_string();
  EXPECT_EQ(show(after->image), show(n.core->durable_image()));
}

// A write of several records cut exactly between two of its frames leaves whole
// frames only; the last one does not end the write, so the cut is a torn tail (fuzz
// finding wal-crash-e2507b4b: MQWAL001 recovered such a log as clean, dropping the
// rest of a synced write without a word). A cut at the end of a write cannot be
// seen: it is the log a crash before the later writes leaves.
TEST(Wal, AWriteCutBetweenTwoOfItsFramesIsATornTail) {
  Node n;
  make_history(n);
  const std::string seg = n.segments().back();
  const uint64_t before = n.disk.read(seg)->size();
  Effects e;
  for (MessageId id = 50; id < 53; ++id) ASSERT_TRUE(n.core->send(n.core->now(), 0, 0, msg(id), e).ok());
  n.log.add(e);
  ASSERT_TRUE(n.wal->write(n.log.take()).ok());  // one write of three put records, synced
  const std::string data = *n.disk.read(seg);
  const size_t first = [&] {  // the index of the write's first frame
    size_t k = 0;
    while (frame_offset(data, k) < before) ++k;
    return k;
  }();
  ASSERT_EQ(frame_offset(data, first), before);
  ASSERT_EQ(frame_offset(data, first + 3), data.size());
  for (size_t k = 1; k < 3; ++k) {
    const uint64_t cut = frame_offset(data, first + k);
    n.disk.put(seg, data.substr(0, cut));
    auto rec = n.recover();
    ASSERT_TRUE(rec.ok()) << rec.status().to_string();
    ASSERT_TRUE(rec->torn_tail) << "a cut after " << k << " of 3 records of one write went unreported";
    EXPECT_EQ(rec->torn_tail->file, seg);
    EXPECT_EQ(rec->torn_tail->offset, cut);
    EXPECT_NE(rec->torn_tail->what.find("inside a write"), std::string::npos) << rec->torn_tail->what;
    // The write applies whole or not at all: its records before the cut do not.
    for (const auto& m : rec->image.queues[0].ready[0])
      EXPECT_LT(m.id, 50u) << "after " << k << " of 3 records";
  }
  // At the end of the previous write: clean, and the write is gone.
  n.disk.put(seg, data.substr(0, before));
  auto rec = n.recover();
  ASSERT_TRUE(rec.ok() && !rec->torn_tail);
  // The same cut in a segment that is not the last is corruption, not a tail.
  n.disk.put(seg, data.substr(0, frame_offset(data, first + 1)));
  n.disk.put(segment_name(std::stoull(seg.substr(4, 16)) + 1), std::string(kSegmentMagic));
  rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("inside a write"), std::string::npos) << rec.status().to_string();
  rec = n.recover(WalOptions{.skip_corruption = true});
  ASSERT_TRUE(rec.ok()) << rec.status().to_string();
  ASSERT_EQ(rec->skipped.size(), 1u);
  EXPECT_EQ(rec->skipped[0].offset, frame_offset(data, first + 1));
}

TEST(WalRecord, TheEndOfAWriteIsMarkedInTheTypeByteUnderTheCrc) {
  WalRecord r;
  r.type = RecordType::kRemove;
  r.id = 7;
  std::string frames;
  encode_record(r, frames);
  const size_t second = frames.size();
  encode_record(r, frames);
  const std::string plain = frames;
  mark_ends_write(frames, second);
  EXPECT_EQ(frames.substr(0, second), plain.substr(0, second));  // the first frame is untouched
  EXPECT_EQ(static_cast<uint8_t>(frames[second + kFrameHeaderBytes]), 0x85);  // kRemove | kEndsWriteBit
  auto back = decode_body(std::string_view(frames).substr(second + kFrameHeaderBytes));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->ends_write);
  EXPECT_EQ(back->type, RecordType::kRemove);
  EXPECT_FALSE(decode_body(std::string_view(plain).substr(second + kFrameHeaderBytes))->ends_write);
  // The CRC was recomputed: it covers the length and the marked body.
  std::string lengthless = frames.substr(second, 4);
  uint32_t crc = 0;
  for (size_t b = 4; b-- > 0;) crc = (crc << 8) | static_cast<uint8_t>(frames[second + 4 + b]);
  EXPECT_EQ(crc, crc32c(std::string_view(frames).substr(second + kFrameHeaderBytes), crc32c(lengthless)));
}

TEST(Wal, UnsyncedRecordsAreLostAndATornTailEndsTheLog) {
  Node n;
  make_history(n);
  const std::string synced = show(n.core->durable_image());
  const std::string seg = n.segments().back();
  // A batch appended but not synced, then a crash that keeps a torn prefix of it.
  n.log.add([&] {
    Effects e;
    (void)n.core->send(n.core->now(), 0, 0, msg(50), e);
    return e;
  }());
  const auto batch = n.log.take();
  ASSERT_TRUE(n.disk.append(seg, batch.bytes).ok());
  n.disk.crash(batch.bytes.size() - 3);
  auto rec = n.recover();
  ASSERT_TRUE(rec.ok()) << rec.status().to_string();
  ASSERT_TRUE(rec->torn_tail);
  EXPECT_EQ(rec->torn_tail->file, seg);
  EXPECT_NE(rec->torn_tail->what.find("cut short"), std::string::npos);
  EXPECT_EQ(show(rec->image), synced);
  // Zero-filled tail (a file extended but not written) and a header cut short.
  n.disk.truncate(seg, rec->torn_tail->offset);
  ASSERT_TRUE(n.disk.append(seg, std::string(20, '\0')).ok());
  rec = n.recover();
  ASSERT_TRUE(rec.ok() && rec->torn_tail);
  EXPECT_NE(rec->torn_tail->what.find("zero-filled"), std::string::npos);
  n.disk.truncate(seg, rec->torn_tail->offset);
  ASSERT_TRUE(n.disk.append(seg, "\x05\x00").ok());
  rec = n.recover();
  ASSERT_TRUE(rec.ok() && rec->torn_tail);
  EXPECT_NE(rec->torn_tail->what.find("header cut short"), std::string::npos);
  // A last record with a bad checksum and nothing after it is torn too.
  n.disk.truncate(seg, rec->torn_tail->offset);
  const std::string data = *n.disk.read(seg);
  n.disk.flip_bit(seg, data.size() - 1);
  rec = n.recover();
  ASSERT_TRUE(rec.ok() && rec->torn_tail);
  EXPECT_NE(rec->torn_tail->what.find("checksum"), std::string::npos);
}

TEST(Wal, AFlippedBitInTheMiddleStopsRecoveryWithFileAndOffset) {
  Node n;
  make_history(n);
  const std::string seg = n.segments().back();
  const uint64_t at = frame_offset(*n.disk.read(seg), 3);
  n.disk.flip_bit(seg, at + kFrameHeaderBytes + 2, 3);
  auto rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_EQ(rec.status().code(), Code::kCorruption);
  EXPECT_NE(rec.status().message().find(seg + " at byte " + std::to_string(at)), std::string::npos)
      << rec.status().to_string();
  EXPECT_NE(rec.status().message().find("checksum"), std::string::npos);
  // With skip_corruption: reported, the rest of the segment skipped, never silent.
  WalOptions skip;
  skip.skip_corruption = true;
  auto skipped = n.recover(skip);
  ASSERT_TRUE(skipped.ok());
  ASSERT_EQ(skipped->skipped.size(), 1u);
  EXPECT_EQ(skipped->skipped[0].file, seg);
  EXPECT_EQ(skipped->skipped[0].offset, at);
}

TEST(Wal, AWrongLengthIsCorruption) {
  Node n;
  make_history(n);
  const std::string seg = n.segments().back();
  const std::string data = *n.disk.read(seg);
  const uint64_t at = frame_offset(data, 2);
  std::string bad = data;
  bad[at + 3] = '\x7f';  // length > kMaxRecordBytes
  n.disk.put(seg, bad);
  auto rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("wrong length"), std::string::npos) << rec.status().to_string();
  bad = data;
  bad[at] = static_cast<char>(bad[at] - 1);  // one byte shorter: the CRC covers the length
  n.disk.put(seg, bad);
  rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("checksum"), std::string::npos) << rec.status().to_string();
}

TEST(Wal, ProblemsInASegmentThatIsNotTheLastAreCorruption) {
  WalOptions o;
  o.segment_bytes = 150;
  Node n(config(), o);
  for (MessageId id = 1; id <= 12; ++id) ASSERT_TRUE(n.send(msg(id)).ok());
  auto segs = n.segments();
  ASSERT_GE(segs.size(), 4u);
  // A short frame in the middle of the log is not a torn tail.
  const std::string mid = *n.disk.read(segs[1]);
  n.disk.truncate(segs[1], mid.size() - 2);
  auto rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find(segs[1]), std::string::npos) << rec.status().to_string();
  n.disk.put(segs[1], mid);
  // A missing segment.
  const std::string gone = *n.disk.read(segs[2]);
  ASSERT_TRUE(n.disk.remove(segs[2]).ok());
  rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("missing segment " + segs[2]), std::string::npos) << rec.status().to_string();
  n.disk.put(segs[2], gone);
  // The checkpoint segment missing: the log's start is gone.
  ASSERT_TRUE(n.disk.remove(segs[0]).ok());
  rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("complete checkpoint"), std::string::npos) << rec.status().to_string();
}

TEST(Wal, ABadMagicAndARecordThatDoesNotFitAreCorruption) {
  Node n;
  make_history(n);
  const std::string seg = n.segments().back();
  std::string data = *n.disk.read(seg);
  const std::string next = segment_name(std::stoull(seg.substr(4, 16)) + 1);
  n.disk.put(next, "NOTAWAL!");
  auto rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("magic"), std::string::npos) << rec.status().to_string();
  ASSERT_TRUE(n.disk.remove(next).ok());
  // A well-formed delivery of a message the queue does not hold, each a whole write.
  WalRecord r;
  r.ends_write = true;
  r.type = RecordType::kDeliver;
  r.id = 12345;
  r.consumer = 0;
  std::string frame;
  encode_record(r, frame);
  ASSERT_TRUE(n.disk.append(seg, frame).ok());
  ASSERT_TRUE(n.disk.append(seg, frame).ok());
  rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find("does not hold"), std::string::npos) << rec.status().to_string();
  EXPECT_NE(rec.status().message().find("at byte " + std::to_string(data.size())), std::string::npos);
  // A record for a non-durable or unknown queue.
  n.disk.put(seg, data);
  r.queue = 1;
  frame.clear();
  encode_record(r, frame);
  ASSERT_TRUE(n.disk.append(seg, frame).ok());
  EXPECT_NE(n.recover().status().message().find("non-durable"), std::string::npos);
  n.disk.put(seg, data);
  r.queue = 7;
  frame.clear();
  encode_record(r, frame);
  ASSERT_TRUE(n.disk.append(seg, frame).ok());
  EXPECT_NE(n.recover().status().message().find("unknown queue"), std::string::npos);
}

TEST(Wal, ATornCheckpointFallsBackToThePreviousGeneration) {
  Node n;
  make_history(n);
  const std::string want = show(n.core->durable_image());
  const auto segs = n.segments();
  // A crash in the middle of writing the next checkpoint: a prefix of it survives.
  Node other;
  make_history(other);
  (void)other.log.take();
  ASSERT_TRUE(other.wal->checkpoint(other.core->durable_image()).ok());
  const std::string ckpt = *other.disk.read(other.segments().back());
  const uint64_t next = std::stoull(segs.back().substr(4, 16)) + 1;
  n.disk.put(segment_name(next), ckpt.substr(0, ckpt.size() - 5));
  auto rec = n.recover();
  ASSERT_TRUE(rec.ok()) << rec.status().to_string();
  EXPECT_TRUE(rec->torn_tail);
  EXPECT_EQ(show(rec->image), want);
}

TEST(Wal, NoSpaceOrAFailingSyncBreaksTheLogAndLosesNothingConfirmed) {
  Node n;
  make_history(n);
  const std::string confirmed = show(n.core->durable_image());
  n.disk.set_space_limit(n.disk.used_bytes() + 10);
  Status s = n.send(msg(60));
  EXPECT_EQ(s.code(), Code::kIoError);
  EXPECT_NE(s.message().find("ENOSPC"), std::string::npos);
  n.disk.set_space_limit(std::nullopt);
  EXPECT_EQ(n.send(msg(61)).code(), Code::kIoError);  // broken: nothing after a partial append
  EXPECT_EQ(n.wal->checkpoint(n.core->durable_image()).code(), Code::kIoError);
  n.disk.crash(1000);  // the partial append survives: a torn tail
  auto rec = n.recover();
  ASSERT_TRUE(rec.ok()) << rec.status().to_string();
  EXPECT_TRUE(rec->torn_tail);
  EXPECT_EQ(show(rec->image), confirmed);

  Node m;
  make_history(m);
  m.disk.fail_syncs(1);
  EXPECT_EQ(m.send(msg(70)).code(), Code::kIoError);
  EXPECT_EQ(m.wal->write(LogBatch{}).code(), Code::kIoError);  // broken, even for nothing
  MemStorage empty;
  empty.fail_syncs(1);
  EXPECT_EQ(Wal::start(empty, {}, m.core->durable_image()).status().code(), Code::kIoError);
}

TEST(Wal, AnEmptyStorageRecoversAnEmptyImage) {
  MemStorage disk;
  auto rec = Wal::recover(disk, config(), {});
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->image.queues.size(), 2u);
  EXPECT_TRUE(rec->segments.empty());
}

// One bit of a synced frame's length flips at rest, any of its 32: recovery reports
// corruption at that frame. A longer length claims bytes past the segment's end, which
// reads like a torn write at the log's tail; taken for one, every synced record after
// the frame would be dropped without a word.
// A bad first frame of the only segment (its checkpoint's beginning): recovery names
// that frame, not "the log's start is missing".
TEST(Wal, ABadFirstFrameIsReportedWhereItIs) {
  Node n;
  make_history(n);
  const std::string seg = n.segments().front();
  n.disk.flip_bit(seg, kSegmentMagic.size() + kFrameHeaderBytes + 1, 0);
  auto rec = n.recover();
  ASSERT_FALSE(rec.ok());
  EXPECT_NE(rec.status().message().find(seg + " at byte " + std::to_string(kSegmentMagic.size())),
            std::string::npos)
      << rec.status().to_string();
  EXPECT_NE(rec.status().message().find("checksum"), std::string::npos) << rec.status().to_string();
}

TEST(Wal, AFlippedBitOfALengthIsCorruptionNotATornTail) {
  Node n;
  make_history(n);
  const std::string seg = n.segments().back();
  const std::string data = *n.disk.read(seg);
  const uint64_t at = frame_offset(data, 2);
  ASSERT_LT(at + 200, data.size());  // frames follow it
  for (int bit = 0; bit < 32; ++bit) {
    SCOPED_TRACE("bit " + std::to_string(bit));
    n.disk.put(seg, data);
    n.disk.flip_bit(seg, at + bit / 8, bit % 8);
    auto rec = n.recover();
    ASSERT_FALSE(rec.ok()) << (rec->torn_tail ? "taken for a torn tail: " + rec->torn_tail->what : "");
    EXPECT_EQ(rec.status().code(), Code::kCorruption);
    EXPECT_NE(rec.status().message().find(seg + " at byte " + std::to_string(at)), std::string::npos)
        << rec.status().to_string();
    EXPECT_NE(rec.status().message().find("checksum"), std::string::npos) << rec.status().to_string();
  }
}

}  // namespace
}  // namespace mq::impl
