#pragma once
// CdpBrowser: headless Chromium driven over the DevTools protocol through a pipe
// (--remote-debugging-pipe: commands on the child's fd 3, replies and events on its
// fd 4, each message a JSON text ended by '\0'). No port is opened and nothing but
// the pages the test names is loaded; the network is not needed.
//
// What the report tests need and no more: open a URL, wait for a condition, evaluate
// an expression, take a screenshot, and the record of every request, failed request,
// exception and console error the page produced.
//
// Every wait is bounded (kDefaultTimeoutS); the browser is killed by its pid when the
// object goes, also when a test fails. Thread-safety: none; one browser per test.

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace mq::test {

inline constexpr int kDefaultTimeoutS = 60;

struct PageRecord {
  std::vector<std::string> requested;  // every URL the page asked for
  std::vector<std::string> failed;     // "URL: error" of every failed request
  std::vector<std::string> errors;     // exceptions and console/log errors
};

class CdpBrowser {
 public:
  // The browser found on PATH ("chromium"), or nullopt: the test then skips with why.
  static std::optional<std::string> find_chromium();

  // Starts Chromium headless with a fresh profile in `profile_dir`.
  // Errors: kUnavailable when it cannot be started or does not answer.
  static Result<std::unique_ptr<CdpBrowser>> start(const std::string& chromium,
                                                   const std::string& profile_dir, int width, int height);
  ~CdpBrowser();
  CdpBrowser(const CdpBrowser&) = delete;
  CdpBrowser& operator=(const CdpBrowser&) = delete;

  // Opens `url` in a fresh tab and waits for its load event.
  Status open(const std::string& url);
  // Evaluates `expression` in the page (awaiting a promise); its value as JSON.
  Result<nlohmann::json> eval(const std::string& expression);
  // Polls `expression` until it is true (or the timeout).
  Status wait_for(const std::string& expression, int timeout_s = kDefaultTimeoutS);
  // A PNG of the viewport, written to `path`.
  Status screenshot(const std::string& path);
  const PageRecord& record() const { return record_; }

 private:
  CdpBrowser(pid_t pid, int to_browser, int from_browser) : pid_(pid), to_(to_browser), from_(from_browser) {}
  Result<nlohmann::json> call(const std::string& method, nlohmann::json params, bool in_session,
                              int timeout_s = kDefaultTimeoutS);
  // Reads one message (waiting at most until `deadline_ms` of CLOCK_MONOTONIC).
  Result<nlohmann::json> read_message(int64_t deadline_ms);
  void note_event(const nlohmann::json& message);

  pid_t pid_;
  int to_, from_;
  std::string buffer_;
  int64_t next_id_ = 1;
  std::string session_;
  bool loaded_ = false;
  PageRecord record_;
  std::vector<std::pair<std::string, std::string>> request_urls_;  // requestId -> url
};

}  // namespace mq::test
