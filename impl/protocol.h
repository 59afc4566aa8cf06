#pragma once
// The words of mqd's protocol (docs/protocol.md is the user's statement), stated once
// for both of its halves: the server's command set (impl/resp_commands.h) reads
// commands and writes answers with them, and the client's (impl/client_protocol.h)
// writes commands and reads answers with them. A command's name, an option, an answer
// word, an error's first word, a delivery's fields and the bounds on numbers are
// spelled here and nowhere else, so the two halves cannot drift apart. Each
// enumeration has one switch naming every case (no default; -Werror=switch), and its
// count is derived from it (base/enum_count.h): a new command or error word fails to
// build until it has its name, and each half's own switch over it (the server's
// parse, the client's reading of errors) fails until that half handles it.
//
// Thread-safety: constants and pure functions.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "base/enum_count.h"
#include "base/status.h"

namespace mq::impl::protocol {

// Names compare without regard to case (commands, options, NACK's disposition), in
// ASCII whatever the process's locale.
constexpr char upper_ascii(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
constexpr bool same_word(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k) {
    if (upper_ascii(a[k]) != upper_ascii(b[k])) return false;
  }
  return true;
}

// The enumerator of E whose name is `word` (any case); nullopt: none.
template <typename E, typename NameFn>
constexpr std::optional<E> enum_of(std::string_view word, NameFn name_of) {
  for (int k = 0; k < enum_count<E>(name_of); ++k) {
    if (same_word(word, name_of(static_cast<E>(k)))) return static_cast<E>(k);
  }
  return std::nullopt;
}

// ---- commands ----

enum class Verb : uint8_t {
  kSend,     // SEND queue id payload [send options]
  kPublish,  // PUBLISH topic id payload [send options]
  kFetch,    // FETCH consumer [COUNT n] [BLOCK ms]
  kAck,      // ACK consumer id
  kNack,     // NACK consumer id [REQUEUE|DROP]
  kAttach,   // ATTACH consumer
  kQstats,   // QSTATS queue
  kInfo,     // INFO
  kPing,     // PING [msg]
  kEcho,     // ECHO msg
  kQuit,     // QUIT
  // What redis-cli and redis-benchmark send on connecting: harmless answers.
  kCommand,
  kConfig,
  kClient,
  kSelect,
};
constexpr const char* verb_name(Verb v) {
  switch (v) {
    case Verb::kSend: return "SEND";
    case Verb::kPublish: return "PUBLISH";
    case Verb::kFetch: return "FETCH";
    case Verb::kAck: return "ACK";
    case Verb::kNack: return "NACK";
    case Verb::kAttach: return "ATTACH";
    case Verb::kQstats: return "QSTATS";
    case Verb::kInfo: return "INFO";
    case Verb::kPing: return "PING";
    case Verb::kEcho: return "ECHO";
    case Verb::kQuit: return "QUIT";
    case Verb::kCommand: return "COMMAND";
    case Verb::kConfig: return "CONFIG";
    case Verb::kClient: return "CLIENT";
    case Verb::kSelect: return "SELECT";
  }
  return nullptr;  // not an enumerator
}
constexpr std::optional<Verb> verb_of(std::string_view name) { return enum_of<Verb>(name, verb_name); }

// SEND's and PUBLISH's options, each followed by its value.
enum class SendOption : uint8_t { kPriority, kTtl, kDelay, kRetries, kProducer };
constexpr const char* send_option_name(SendOption o) {
  switch (o) {
    case SendOption::kPriority: return "PRIORITY";
    case SendOption::kTtl: return "TTL";
    case SendOption::kDelay: return "DELAY";
    case SendOption::kRetries: return "RETRIES";
    case SendOption::kProducer: return "PRODUCER";
  }
  return nullptr;
}
constexpr std::optional<SendOption> send_option_of(std::string_view name) {
  return enum_of<SendOption>(name, send_option_name);
}
// Times travel in milliseconds (TTL, DELAY, BLOCK); the broker counts nanoseconds.
inline constexpr int64_t kNsPerMs = 1'000'000;
// Milliseconds that still fit a nanosecond count (TTL, DELAY).
inline constexpr uint64_t kMaxMs = uint64_t{std::numeric_limits<int64_t>::max() / kNsPerMs};
// The largest value a numeric option takes; nullopt for PRODUCER, whose value is a name.
constexpr std::optional<uint64_t> send_option_max(SendOption o) {
  switch (o) {
    case SendOption::kPriority: return 255;
    case SendOption::kTtl:
    case SendOption::kDelay: return kMaxMs;
    case SendOption::kRetries: return std::numeric_limits<uint32_t>::max();
    case SendOption::kProducer: break;
  }
  return std::nullopt;  // PRODUCER
}

// FETCH's options, each followed by its value.
enum class FetchOption : uint8_t { kCount, kBlock };
constexpr const char* fetch_option_name(FetchOption o) {
  switch (o) {
    case FetchOption::kCount: return "COUNT";
    case FetchOption::kBlock: return "BLOCK";
  }
  return nullptr;
}
constexpr std::optional<FetchOption> fetch_option_of(std::string_view name) {
  return enum_of<FetchOption>(name, fetch_option_name);
}
// The most deliveries one FETCH asks for (COUNT 1..this).
inline constexpr uint64_t kMaxFetchCount = 65536;
// The longest a FETCH waits (BLOCK 0 means this long).
inline constexpr int64_t kMaxBlockMs = int64_t{24} * 3600 * 1000;

// NACK's last argument.
inline constexpr std::string_view kRequeue = "REQUEUE";  // try again (the default)
inline constexpr std::string_view kDrop = "DROP";        // dead-letter now

// ---- answers ----

// Status answers ("+WORD").
inline constexpr std::string_view kOk = "OK";                // ACK, NACK, ATTACH, QUIT, CLIENT, SELECT
inline constexpr std::string_view kPong = "PONG";            // PING without a message
inline constexpr std::string_view kStored = "STORED";        // SEND: accepted
inline constexpr std::string_view kDuplicate = "DUPLICATE";  // SEND: the id was accepted before

// An error answer's first word says what happened ("-WORD text").
enum class ErrorWord : uint8_t {
  kErr,          // the command is wrong, or invalid for the broker
  kFull,         // not stored: the queue (a topic's every queue) is full
  kNoSpace,      // not stored: the broker stopped on a failed write
  kNotHeld,      // the message is not in flight at that consumer
  kSession,      // a newer connection holds the consumer
  kUnavailable,  // the broker is starting, or stopped on a failed write
};
constexpr const char* error_word_name(ErrorWord w) {
  switch (w) {
    case ErrorWord::kErr: return "ERR";
    case ErrorWord::kFull: return "FULL";
    case ErrorWord::kNoSpace: return "NOSPACE";
    case ErrorWord::kNotHeld: return "NOTHELD";
    case ErrorWord::kSession: return "SESSION";
    case ErrorWord::kUnavailable: return "UNAVAILABLE";
  }
  return nullptr;
}
// How the client tells them apart (impl/client_protocol.h): "no, and nothing changed",
// "not now", or "wrong".
constexpr Code error_word_code(ErrorWord w) {
  switch (w) {
    case ErrorWord::kFull:
    case ErrorWord::kNotHeld:
    case ErrorWord::kSession: return Code::kFailedPrecondition;
    case ErrorWord::kNoSpace:
    case ErrorWord::kUnavailable: return Code::kUnavailable;
    case ErrorWord::kErr: return Code::kInvalidArgument;
  }
  return Code::kInvalidArgument;
}
// The word an error answer's text starts with; nullopt: none of mqd's.
constexpr std::optional<ErrorWord> error_word_of(std::string_view text) {
  return enum_of<ErrorWord>(text.substr(0, text.find(' ')), error_word_name);
}
// "WORD text": an error answer's text (without RESP's '-').
inline std::string error_text(ErrorWord w, std::string_view text) {
  return std::string(error_word_name(w)) + " " + std::string(text);
}

// A delivery is an array of these, in this order: the queue and the payload are bulk
// strings, the rest integers.
enum class DeliveryField : uint8_t {
  kQueue,
  kId,
  kPayload,
  kAttempts,  // >= 2: a redelivery
  kPriority,
  kTimestampNs,
  kTtlNs,
  kNotBeforeNs,
  kMaxRetries,
};
constexpr const char* delivery_field_name(DeliveryField f) {
  switch (f) {
    case DeliveryField::kQueue: return "queue";
    case DeliveryField::kId: return "id";
    case DeliveryField::kPayload: return "payload";
    case DeliveryField::kAttempts: return "attempts";
    case DeliveryField::kPriority: return "priority";
    case DeliveryField::kTimestampNs: return "timestamp";
    case DeliveryField::kTtlNs: return "ttl";
    case DeliveryField::kNotBeforeNs: return "not_before";
    case DeliveryField::kMaxRetries: return "max_retries";
  }
  return nullptr;
}
inline constexpr int kDeliveryFields = enum_count<DeliveryField>(delivery_field_name);
// The largest value of a numeric field; nullopt for a string (queue, payload).
constexpr std::optional<uint64_t> delivery_field_max(DeliveryField f) {
  constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
  constexpr uint64_t kI64 = std::numeric_limits<int64_t>::max();
  switch (f) {
    case DeliveryField::kId: return std::numeric_limits<uint64_t>::max();
    case DeliveryField::kAttempts:
    case DeliveryField::kPriority:
    case DeliveryField::kMaxRetries: return kU32;
    case DeliveryField::kTimestampNs:
    case DeliveryField::kTtlNs:
    case DeliveryField::kNotBeforeNs: return kI64;
    case DeliveryField::kQueue:
    case DeliveryField::kPayload: break;
  }
  return std::nullopt;  // a string
}

}  // namespace mq::impl::protocol
