#pragma once
// HistoryRecorder: turns a run of the model (each Op with what Model::apply returned)
// into the history a broker run would produce, so that the checkers judge the model
// exactly as they judge the broker, and a checker that rejects a model history is a
// bug in the checker or in the model.
//
// Mapping (every event at the model's time after the op):
//   Send, Publish      invoke publish, then ok (accepted) or fail "full" (refused) per
//                      bound queue; a model error is a fail with the Status as error;
//                      both carry the message's max_retries (its own, else its queue's),
//                      and for a Publish the topic and its bound queues; a drop that
//                      made room for the message follows its completion
//   Fetch              invoke deliver, then ok with the message or fail "empty"
//   Ack, Nack, Attach, Detach   invoke, then ok or fail with the Status as error
//   Dispatch, Advance  no client events: their effects only
//   Crash, Recover     one nemesis event (ok)
//   every other effect one broker event of type ok: a dead-letter arrival is a
//                      broker publish, a push delivery a broker deliver, an auto-ack a
//                      broker ack, then requeue, release, expire, dead-letter,
//                      dead-letter-refused, lost.
// Ops that name a producer, consumer, queue or topic the topology lacks have no
// client to observe them and record nothing; neither do failed Dispatch, Advance,
// Crash and Recover (nothing happened, and no client asked).
//
// Thread-safety: none. The recorder owns its history.

#include <optional>
#include <string>

#include "base/status.h"
#include "model/effect.h"
#include "model/history.h"
#include "model/op.h"
#include "model/topology.h"

namespace mq {

class HistoryRecorder {
 public:
  // REQUIRES: topology.validate().ok(), and no producer or consumer is named
  // "broker" or "nemesis" (those names are reserved for the broker's own steps).
  explicit HistoryRecorder(Topology topology, std::string source = "model");

  // Records one op. REQUIRES: `result` is what Model::apply(op) returned on a model
  // of this topology, and `now_ns` is Model::now() afterwards (non-decreasing).
  void record(const Op& op, const Result<Effects>& result, TimeNs now_ns);
  // Records one nemesis fault event (REQUIRES: is_fault_f(f)); `node` names the
  // client it is about (required for partitions, clogs and consumer faults), `detail`
  // goes to the event's `error`. REQUIRES: now_ns non-decreasing, as for record().
  void record_fault(EventF f, const std::string& node, TimeNs now_ns, const std::string& detail = "");

  // Room for `events` events: the history then grows in place (what it holds is
  // never copied to a larger buffer, and its memory is touched once, in huge pages
  // where the kernel has them: base/huge_pages.h). A hint: more events still fit.
  void reserve(size_t events);

  const History& history() const { return history_; }
  History take() { return std::move(history_); }

 private:
  void record_send(ProducerId p, const std::vector<QueueId>& queues, const MessageSpec& spec,
                   const Result<Effects>& result, const TopicConfig* topic);
  void record_client(EventF f, ConsumerId c, const Op& op, const Result<Effects>& result);
  void broker_events(const Effects& effects, size_t first);
  HistoryEvent& push(EventType type, EventF f, std::string process, std::string queue);

  Topology topology_;
  History history_;
  TimeNs now_ns_ = 0;
};

// The consumer operation that a client's deliver, ack, nack, attach or detach
// invoke by consumer `c` stands for: the inverse of the mapping above for those ops.
// nullopt for every other f (a publish is a Send or a Publish depending on the
// events around it: sim/trace_replay.h).
std::optional<Op> consumer_op_of(const HistoryEvent& invoke, ConsumerId c);

}  // namespace mq
