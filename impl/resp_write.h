#pragma once
// RESP building blocks: each appends one RESP value to `out`. The server's answers
// (impl/resp_commands.h) and the command set's own answers (impl/command_set.h: PING,
// a syntax error, ...) are written with them.
//
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"

namespace mq::impl {

// "+s\r\n". REQUIRES: s holds no CR or LF (a status cannot carry them).
inline void resp_simple(std::string& out, std::string_view s) {
  MQ_CHECK(s.find_first_of("\r\n") == std::string_view::npos);
  out += '+';
  out += s;
  out += "\r\n";
}

// "-s\r\n"; CR and LF in s become spaces, so an error's text stays one line.
inline void resp_error(std::string& out, std::string_view s) {
  out += '-';
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  out += "\r\n";
}

inline void resp_integer(std::string& out, int64_t v) {
  out += ':';
  out += std::to_string(v);
  out += "\r\n";
}

inline void resp_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

inline void resp_array(std::string& out, size_t n) {
  out += '*';
  out += std::to_string(n);
  out += "\r\n";
}

}  // namespace mq::impl
