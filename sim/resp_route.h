#pragma once
// RespRoute: with clients.resp, the simulated clients' requests and the broker's
// answers go through the code mqd and the project's client library run, as bytes:
//  - a client's request (an impl::Request, as the simulated clients send them)
//    becomes the arguments the client library writes for it
//    (impl::CommandSet::args_of), RESP bytes as hiredis formats them
//    (redisFormatCommandArgv), and a request again as mqd reads it off a connection
//    (impl::RespIntake: impl::RespReader, then impl::RespCommands::parse, which
//    resolves the names);
//  - an answer becomes the bytes mqd writes (RespCommands::encode), a reply as the
//    client reads it (hiredis's redisReader), the client library's reading of that
//    (client_protocol::read_*), and from it the packet the simulated client speaks.
// So a simulated run with clients.resp checks RESP's faithfulness both ways: a field
// the protocol loses or alters is a history that differs (tests/sim_resp_test.cc).
//
// Which requests: every producer's, and a pull consumer's (clients.pull_consumers).
// A push session has no RESP form (mqd's sessions all pull), so push consumers stay on
// typed requests; so does a connection's close (no bytes: the socket closes).
//
// Answers come in request order per connection (ServerShell's contract), so the route
// keeps, per connection, what each unanswered request waits for, as a pipelining
// client does, and reads each answer as that request's. A broker crash drops every
// unanswered request (ServerShell::crash answers none of them): crashed() forgets them.
// A closed connection is closed for good, as a socket is: what the simulated network
// still carries for it afterwards (a late request, the broker's answers) is not read.
//
// A RESP session is its connection (RespCommands: session = connection id), so a RESP
// pull consumer's session number at the shell is its connection's id; the node starts
// those consumers' first sessions under that number (BrokerNode::shell_options).
//
// RESP's TTL, DELAY and BLOCK are whole milliseconds: the producers round their TTL and
// delay draws up to one (whole_ms, sim/scenario.h), and a scenario with clients.resp needs
// clients.fetch_block_ns in whole milliseconds (the scenario reader checks).
//
// Noise (clients.resp_noise_ppm): before a request, with that probability (drawn from
// the route's own seed), the client sends one command from a fixed list that mqd
// answers without touching a queue: malformed or unknown commands (errors: a wrong
// argument count, a number that is not one or does not fit 64 bits, an unknown name,
// option or command, an argument with a line break that the error text must not
// carry) and PING, ECHO, COMMAND, CONFIG, CLIENT, SELECT. Its answer must be the one
// the list expects (an error, or the exact status or string), read with the client
// library's raw reading. It touches no queue; it does take its turn among its
// connection's requests (behind a blocking fetch it waits in the backlog too), so
// commands of different connections at the same instant may run in another order
// than without it. It reaches the error paths of mqd's command layer and the shell's
// in-order inline answers.
//
// Hostile clients (clients.resp_hostile_ppm): before a request, with that probability
// (drawn from a seed of their own, so the noise draws stay as they were), a client
// that is none of the scenario's connects anew and writes one of a fixed list of byte
// streams, each of which ends its connection: bytes that are not RESP (an inline
// command, a simple string, an integer, nested or empty arrays, a nil argument, a bad
// length), a bound exceeded (too many arguments, a request over the bytes allowed), a
// request left incomplete that mqd gives up on (its timeout is not simulated: the
// route gives up at once), QUIT; some after well-formed requests on the same
// connection, one with bytes after its protocol error (never read). The bytes are
// written in parts, read as mqd reads a connection (impl::RespIntake, with bounds
// small enough to exceed in a few kilobytes), every request goes to the shell, and
// each answer must be the one the list expects (an error, or the exact text). Once its
// last answer is read, mqd closes the connection: the node tells the shell
// (ServerShell::closed), as mqd does. Nothing they send touches a queue, so the
// scenario's clients see the same history with and without them
// (tests/sim_resp_test.cc). Their connection ids are above kHostileConn, which no
// scenario client's reaches.
//
// Anything the route cannot carry (bytes that do not parse back, an answer the client
// library cannot read) is a broker bug: an assertion, which the run reports as that
// seed's violation.
//
// Thread-safety: none; one per broker node.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "base/prng.h"
#include "impl/request.h"
#include "impl/resp_commands.h"
#include "model/message.h"
#include "sim/packet.h"
#include "sim/scenario.h"

struct redisReply;

namespace mq::sim {

class RespRoute {
 public:
  // `noise_ppm`: see "Noise"; `seed` (the node's, derived) draws it.
  // `hostile_ppm`: see "Hostile clients"; `hostile_seed` draws them.
  RespRoute(const impl::BrokerConfig& config, uint32_t noise_ppm, uint64_t seed, uint32_t hostile_ppm = 0,
            uint64_t hostile_seed = 0);

  // The client's request `typed` as mqd reads it off connection `conn`, sent as the
  // client library writes it (impl/client_protocol.h); what it waits for is
  // remembered. The node asserts that it means what `typed` means
  // (same_meaning, below), so that a field the client library or mqd's
  // command layer loses or alters is an assertion in the very seed, with or without
  // the shadow. REQUIRES: typed is a command (not an Inline), the broker reads it (it
  // is not down), and conn is not closed.
  impl::Request request(impl::ConnId conn, const impl::Request& typed);
  // Whether `read` (what mqd read off a connection) asks what `written` asks:
  // CommandSet::args_of's promise. The same producer, target and message spec
  // (every field), the same consumer, message and options; sessions are not compared
  // (a RESP session is its connection). An Inline asks nothing: it means nothing
  // another request does.
  static bool same_meaning(const impl::Request& read, const impl::Request& written);
  // With noise_ppm: maybe a noise command to send on `conn` before `p`'s request (as
  // mqd reads it), its answer remembered. REQUIRES: as request().
  std::optional<impl::Request> noise(impl::ConnId conn);
  uint64_t noise_sent() const { return noise_sent_; }

  // Hostile connections' ids are above this.
  static constexpr impl::ConnId kHostileConn = impl::ConnId{1} << 63;
  static bool is_hostile(impl::ConnId conn) { return conn > kHostileConn; }
  struct Hostile {
    impl::ConnId conn = 0;
    std::vector<impl::Request> requests;  // as mqd reads them off the connection, in order
  };
  // With hostile_ppm: maybe a hostile client's connection, its answers remembered.
  // REQUIRES: the broker reads (it is not down).
  std::optional<Hostile> hostile();
  uint64_t hostile_sent() const { return hostile_sent_; }
  // The answer `r` to the oldest unanswered request of hostile connection `conn`,
  // checked against what its stream expects; true when it was the last, so that the
  // connection now closes. REQUIRES: is_hostile(conn), one of its requests unanswered.
  bool answer_hostile(impl::ConnId conn, const impl::Response& r);
  // Whether `conn`'s closing is still due: its last answer was read since the last
  // crash, and this is asked for the first time (it is then counted as closed).
  bool take_closing(impl::ConnId conn) {
    const bool due = closing_.erase(conn) > 0;
    hostile_closed_ += due ? 1 : 0;
    return due;
  }
  uint64_t hostile_closed() const { return hostile_closed_; }
  // The answer `r` to the oldest unanswered request of `conn`, as its client reads it:
  // the packet it acts on, or nothing (answers the simulated clients do not speak,
  // such as attach confirmations, errors and statistics; and anything to a closed
  // connection). REQUIRES: conn is closed, or one of its requests is unanswered.
  std::optional<Packet> answer(impl::ConnId conn, const impl::Response& r);
  // The broker crashed: no request before now will be answered.
  void crashed() {
    waiting_.clear();
    closing_.clear();
  }
  // The client closed the connection: nothing more is read from it (a packet of it
  // that arrives later is not read) and nothing written to it is read.
  void closed(impl::ConnId conn);
  bool is_closed(impl::ConnId conn) const { return closed_.contains(conn); }

 private:
  enum class Kind : uint8_t { kSend, kPublish, kSettle, kAttach, kFetch, kStats, kNoise };
  struct Waiting {
    Kind kind = Kind::kSend;
    MessageId id = 0;      // kSend, kPublish, kSettle
    uint64_t session = 0;  // kFetch: the session the packet named
    const char* expect = nullptr;  // kNoise: the answer, flattened ("-" alone: any error)
    bool last = false;             // a hostile connection's last request
  };

  // What the client waits for after sending `r`.
  static Waiting waiting_for(const impl::Request& r);
  static std::optional<Packet> packet_of(const Waiting& w, const redisReply* r);
  // The oldest unanswered request of `conn` (into `w`), answered by `r`, as read.
  std::optional<Packet> read_answer(impl::ConnId conn, const impl::Response& r, Waiting& w);
  // `args` as mqd reads them off `conn`, `waiting` remembered.
  impl::Request read_request(impl::ConnId conn, const std::vector<std::string>& args, const Waiting& waiting);

  impl::RespCommands commands_;
  uint32_t noise_ppm_ = 0;
  Prng noise_prng_;
  uint64_t noise_sent_ = 0;
  std::map<impl::ConnId, std::deque<Waiting>> waiting_;
  std::set<impl::ConnId> closed_;  // connection ids are never reused (a session each)
  uint32_t hostile_ppm_ = 0;
  Prng hostile_prng_;
  uint64_t hostile_sent_ = 0, hostile_closed_ = 0;
  std::set<impl::ConnId> closing_;  // hostile connections whose last answer was read
};

}  // namespace mq::sim
