#include "sim/simulator.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdio>
#include <variant>

#include "base/fnv.h"
#include "formats/history_io.h"
#include "impl/wal_record.h"
#include "model/history_recorder.h"
#include "sim/swarm.h"

namespace mq::sim {
namespace {

enum WorldWakes : uint32_t { kEndFaulty };

// The history's room, reserved before the run (HistoryRecorder::reserve): a default
// seed writes 6-11 events per message, so most runs never move their history. Only
// address space until written; the cap keeps a run of millions of messages from
// reserving gigabytes it may never use (it grows past it as any vector does).
constexpr uint64_t kReservedEventsPerMessage = 12;
constexpr uint64_t kMaxReservedEvents = uint64_t{1} << 19;

#if defined(MQ_MUTANTS)
std::atomic<uint64_t> test_abort_seed{0};
#endif

void add(ProducerStats& a, const ProducerStats& b) {
  a.generated += b.generated; a.attempts += b.attempts; a.resends += b.resends;
  a.full_backoffs += b.full_backoffs; a.confirmed += b.confirmed; a.duplicates += b.duplicates;
  a.given_up += b.given_up; a.no_space += b.no_space; a.skipped += b.skipped; a.malformed += b.malformed;
}

void add(ConsumerStats& a, const ConsumerStats& b) {
  a.received += b.received; a.stale_pushes += b.stale_pushes; a.processed += b.processed; a.acks += b.acks;
  a.nacks += b.nacks; a.ack_resends += b.ack_resends; a.ack_give_ups += b.ack_give_ups;
  a.crashes += b.crashes; a.inbox_overflow += b.inbox_overflow; a.fetches += b.fetches;
  a.fetch_replies += b.fetch_replies; a.fetch_give_ups += b.fetch_give_ups; a.stats_requests += b.stats_requests;
}

// The world of one run. Members are declared in construction order: the agenda and
// network first, the actors that send through them after.
class World {
 public:
  World(const Scenario& scenario, uint64_t seed, const SimOptions& options)
      : scenario_(scenario),
        params_(derive_params(scenario, seed, options.overrides)),
        choices_(options.overrides.skipped_choices, options.record_choices),
        network_(scenario.network, params_.network(), derive_seed(seed, "network"), queue_, clients(),
                 choices_),
        recorder_(scenario.topology, scenario.name + " seed " + std::to_string(seed)),
        broker_(scenario, BrokerNodeOptions{options.shadow, options.corrupt_step, options.inconsistent_log},
                derive_seed(seed, "disk"), queue_, network_, recorder_) {
    recorder_.reserve(std::min(kMaxReservedEvents, params_.messages * kReservedEventsPerMessage + 1024));
    const auto& t = scenario.topology;
    for (ProducerId p = 0; p < t.producers.size(); ++p) {
      // Round-robin shares: the first producers take one more when it does not divide.
      const uint64_t share = params_.messages / t.producers.size() + (p < params_.messages % t.producers.size());
      producers_.emplace_back(p, scenario, share, seed, queue_, network_, choices_);
    }
    for (ConsumerId c = 0; c < t.consumers.size(); ++c) {
      const ConsumerParams cp{params_.slow_factor[c], params_.rate(FaultKind::kNack, 0),
                              params_.rate(FaultKind::kNack, 1)};
      consumers_.emplace_back(c, scenario, cp, seed, queue_, network_, choices_);
    }
    nemesis_.emplace(scenario, params_, queue_, network_, broker_, consumers_, static_cast<uint32_t>(t.producers.size()),
                     choices_);
  }

  SimResult run(const SimOptions& options);

 private:
  uint32_t clients() const {
    return client_endpoints(scenario_.topology.producers.size(), scenario_.topology.consumers.size());
  }
  void handle(const SimEvent& event);
  void deliver(const Arrival& a);
  void end_faulty_phase();
  bool quiet() const;
  void report_liveness(SimResult& r) const;

  const Scenario& scenario_;
  SimParams params_;
  ChoiceSet choices_;
  SimQueue queue_;
  Network network_;
  HistoryRecorder recorder_;
  BrokerNode broker_;
  std::vector<Producer> producers_;
  std::vector<Consumer> consumers_;
  std::optional<Nemesis> nemesis_;
  bool healing_ = false;
};

void World::deliver(const Arrival& a) {
  if (a.to == kBrokerEndpoint) return broker_.receive(a.packet);
  const ClientAt c = client_at(producers_.size(), a.to);
  if (c.producer) {
    producers_.at(c.index).receive(a.packet);
  } else {
    consumers_.at(c.index).receive(a.packet);
  }
}

void World::handle(const SimEvent& event) {
  if (const auto* a = std::get_if<Arrival>(&event)) return deliver(*a);
  const Wake& w = std::get<Wake>(event);
  if (w.who == kWorldEndpoint) {
    MQ_CHECK(w.what == kEndFaulty);
    end_faulty_phase();
  } else if (w.who == kNemesisEndpoint) {
    nemesis_->wake(w.what, w.token);
  } else if (w.who == kBrokerEndpoint) {
    broker_.wake(w.what, w.token);
  } else if (const ClientAt c = client_at(producers_.size(), w.who); c.producer) {
    producers_.at(c.index).wake(w.what, w.token);
  } else {
    consumers_.at(c.index).wake(w.what, w.token);
  }
}

void World::end_faulty_phase() {
  healing_ = true;
  if (!params_.heal) {
    nemesis_->freeze();
    nemesis_->heal_all();  // only stops new faults: frozen
    return;
  }
  network_.set_lossy(false);
  nemesis_->heal_all();
}

bool World::quiet() const {
  if (!healing_ || !broker_.up() || broker_.live_messages() > 0 || !broker_.settled()) return false;
  for (const auto& p : producers_) {
    if (!p.done()) return false;
  }
  return true;
}

void World::report_liveness(SimResult& r) const {
  if (r.quiescent) return;
  const TimeNs bound = params_.faulty_ns + params_.healing_ns;
  const std::string by = " by " + std::to_string(bound) + " ns (faulty " + std::to_string(params_.faulty_ns) +
                         " ns + healing " + std::to_string(params_.healing_ns) + " ns)";
  if (!broker_.up()) r.liveness.push_back("the broker is still down" + by);
  for (size_t p = 0; p < producers_.size(); ++p) {
    if (producers_[p].done()) continue;
    r.liveness.push_back("producer '" + scenario_.topology.producers[p].name + "' has " +
                         std::to_string(producers_[p].unfinished()) + " messages not confirmed" + by);
  }
  constexpr size_t kListed = 10;
  if (broker_.live_messages() > 0) {
    r.liveness.push_back(std::to_string(broker_.live_messages()) + " accepted messages not finished" + by + ":");
    for (const auto& s : broker_.describe_live(kListed)) r.liveness.push_back("  " + s);
  }
  if (r.liveness.empty()) r.liveness.push_back("not quiet" + by);
}

SimResult World::run(const SimOptions& options) {
  network_.set_lossy(params_.faulty_ns > 0);
  queue_.push(params_.faulty_ns, Wake{kWorldEndpoint, kEndFaulty, 0});
  for (auto& p : producers_) p.start();
  for (auto& c : consumers_) c.start();
  nemesis_->start();
  SimResult r;
  const TimeNs bound = params_.faulty_ns + params_.healing_ns;
  while (!queue_.empty() && queue_.next_time() <= bound) {
    MQ_CHECK_MSG(++r.events <= kMaxEventsPerRun, "a run over its event bound");
    const auto entry = queue_.pop();
    handle(entry.body);
#if defined(MQ_MUTANTS)
    MQ_CHECK_MSG(params_.seed != test_abort_seed.load() || recorder_.history().events.size() < kTestAbortEvents,
                 "the test hook's seed trips an always-on assertion");
#endif
    if (broker_.out_of_service()) break;  // the run ends with the failed recovery
    if (options.stop_after_events != 0 && recorder_.history().events.size() >= options.stop_after_events) {
      r.cut = true;
      break;
    }
    if (quiet()) {
      r.quiescent = true;
      break;
    }
  }
  r.end_ns = queue_.now();
  r.corruption = broker_.corruption();
  r.recovery_failure = broker_.recovery_failure();
  if (!broker_.out_of_service() && !r.cut) report_liveness(r);
  r.disk = broker_.disk_stats();
  r.resp = broker_.resp_stats();
  r.params = params_;
  r.scenario = scenario_;
  if (const ShadowModel* s = broker_.shadow()) {
    r.divergence = s->divergence();
    r.shadow_steps = s->steps();
  }
  r.faults = nemesis_->stats();
  r.fault_log = nemesis_->log();
  r.network = network_.stats();
  r.broker = broker_.stats();
  for (const auto& p : producers_) add(r.producers, p.stats());
  for (const auto& c : consumers_) add(r.consumers, c.stats());
  r.choices = choices_.made();
  r.choices_complete = choices_.complete();
  History h = recorder_.take();
  r.history_events = h.events.size();
  r.history_hash = history_hash(h);
  if (options.keep_history) r.history = std::move(h);
  return r;
}

}  // namespace

namespace {

// Strings JSON writes as they are: printable ASCII without quote or backslash.
bool plain(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7E || c == '"' || c == '\\') return false;
  }
  return true;
}

// Hashes a JSON line as it is written: FNV-1a taken piece by piece in order is the
// FNV-1a of the whole line, so no line is built (a default seed hashes ~60k lines).
class LineHasher {
 public:
  explicit LineHasher(uint64_t h) : h_(h) {}
  uint64_t hash() const { return h_; }

  void raw(std::string_view s) { h_ = fnv1a(h_, s); }
  void key(std::string_view k) {
    raw(",\"");
    raw(k);
    raw("\":");
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    raw("\"");
    raw(v);
    raw("\"");
  }
  // Decimal as std::to_string writes it.
  template <typename Int>
  void num(std::string_view k, Int v) {
    key(k);
    number(v);
  }
  template <typename Int>
  void number(Int v) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, v).ptr;
    raw(std::string_view(buf, static_cast<size_t>(end - buf)));
  }

 private:
  uint64_t h_;
};

// Whether the event's strings all need no escaping (then fast_json_line writes it).
bool fast_json_ok(const HistoryEvent& e) {
  if (!plain(e.process) || !plain(e.queue) || !plain(e.consumer) || !plain(e.error) || !plain(e.node) ||
      !plain(e.topic) || (e.payload && !plain(*e.payload))) {
    return false;
  }
  for (const auto& q : e.bound) {
    if (!plain(q)) return false;
  }
  return true;
}

// The event's JSON line exactly as to_json() writes it (same keys, same order, no
// spaces), hashed without building a JSON document or a string. REQUIRES:
// fast_json_ok(e) (the caller else hashes to_json's line). sim_determinism_test
// checks the two agree.
void fast_json_line(const HistoryEvent& e, LineHasher& out) {
  out.raw("{\"v\":");
  out.number(kHistoryFormatVersion);
  out.num("index", e.index);
  out.num("time", e.time_ns);
  out.str("process", e.process);
  out.str("type", event_type_name(e.type));
  out.str("f", event_f_name(e.f));
  if (!e.queue.empty()) out.str("queue", e.queue);
  if (!e.topic.empty()) out.str("topic", e.topic);
  if (!e.bound.empty()) {
    out.key("bound");
    for (size_t k = 0; k < e.bound.size(); ++k) {
      out.raw(k ? ",\"" : "[\"");
      out.raw(e.bound[k]);
      out.raw("\"");
    }
    out.raw("]");
  }
  if (!e.consumer.empty()) out.str("consumer", e.consumer);
  if (e.id) out.num("id", *e.id);
  if (e.payload) out.str("payload", *e.payload);
  if (e.priority) out.num("priority", static_cast<uint64_t>(*e.priority));
  if (e.ttl_ns) out.num("ttl_ns", *e.ttl_ns);
  if (e.delay_ns) out.num("delay_ns", *e.delay_ns);
  if (e.max_retries) out.num("max_retries", *e.max_retries);
  if (e.timestamp_ns) out.num("timestamp_ns", *e.timestamp_ns);
  if (e.not_before_ns) out.num("not_before_ns", *e.not_before_ns);
  if (e.attempts) out.num("attempts", *e.attempts);
  if (e.requeue) {
    out.key("requeue");
    out.raw(*e.requeue ? "true" : "false");
  }
  if (!e.error.empty()) out.str("error", e.error);
  if (!e.node.empty()) out.str("node", e.node);
  out.raw("}");
}

}  // namespace

#if defined(MQ_MUTANTS)
void set_test_abort_seed(uint64_t seed) { test_abort_seed.store(seed); }
#endif

uint64_t history_hash(const History& history) {
  LineHasher out(kFnv1aOffset);
  for (const auto& e : history.events) {
    if (fast_json_ok(e)) {
      fast_json_line(e, out);
    } else {
      auto json = to_json(e);
      MQ_CHECK_MSG(json.ok(), "the simulator writes only UTF-8 payloads and names");
      out.raw(json.value());
    }
    out.raw("\n");
  }
  return out.hash();
}

SimResult simulate(const Scenario& scenario, uint64_t seed, const SimOptions& options) {
  std::vector<std::string> drawn;
  const auto s = draw_scenario(scenario, seed, &drawn);
  if (!s.ok()) std::fprintf(stderr, "simulate: %s\n", s.status().to_string().c_str());
  MQ_CHECK_MSG(s.ok(), "REQUIRES: the seed's scenario draws a valid one (the commands check draw_scenario first)");
  // The machine's way of computing CRC-32C, for this run on this thread.
  const impl::Crc32cWay before =
      impl::use_crc32c(s->disk.crc32c_table ? impl::Crc32cWay::kTable : impl::Crc32cWay::kInstruction);
  World world(*s, seed, options);
  SimResult r = world.run(options);
  impl::use_crc32c(before);
  r.params.swarm = std::move(drawn);
  return r;
}

}  // namespace mq::sim
