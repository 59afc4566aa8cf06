#include "tests/cdp_browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace mq::test {
namespace {

int64_t now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Status write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unavailable(std::string("writing to chromium: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return Status();
}

// base64 (RFC 4648) of a screenshot.
std::string decode_base64(const std::string& in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (const char c : in) {
    const int v = value(c);
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> CdpBrowser::find_chromium() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    const size_t end = dirs.find(':', start);
    const std::string dir = dirs.substr(start, end == std::string::npos ? std::string::npos : end - start);
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return std::nullopt;
}

Result<std::unique_ptr<CdpBrowser>> CdpBrowser::start(const std::string& chromium,
                                                      const std::string& profile_dir, int width, int height) {
  // A browser that dies makes writes fail with EPIPE, reported, instead of killing the test.
  ::signal(SIGPIPE, SIG_IGN);
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0) {
    return unavailable(std::string("pipe: ") + std::strerror(errno));
  }
  const std::string size = "--window-size=" + std::to_string(width) + "," + std::to_string(height);
  const std::string profile = "--user-data-dir=" + profile_dir;
  // Root in a container needs --no-sandbox; the rest keeps Chromium from reaching out
  // (there is no network) and from writing outside the fresh profile.
  std::vector<std::string> args = {chromium,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-dev-shm-usage",
                                   "--hide-scrollbars",
                                   "--remote-debugging-pipe",
                                   size,
                                   profile,
                                   "about:blank"};
  const pid_t pid = ::fork();
  if (pid < 0) return unavailable(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The child: fd 3 reads commands, fd 4 writes replies; stderr to /dev/null (its
    // D-Bus complaints are noise here).
    // Moved out of the way first: a pipe end may already be fd 3 or 4, and dup2 onto
    // itself would keep its close-on-exec flag.
    const int r = ::fcntl(to_child[0], F_DUPFD, 10);
    const int w = ::fcntl(from_child[1], F_DUPFD, 10);
    ::dup2(r, 3);
    ::dup2(w, 4);
    ::close(r);
    ::close(w);
    const int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(chromium.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(to_child[0]);
  ::close(from_child[1]);
  std::unique_ptr<CdpBrowser> b(new CdpBrowser(pid, to_child[1], from_child[0]));
  auto version = b->call("Browser.getVersion", nlohmann::json::object(), false, 30);
  if (!version.ok()) return version.status();
  return b;
}

CdpBrowser::~CdpBrowser() {
  const std::string close_msg = nlohmann::json({{"id", next_id_++}, {"method", "Browser.close"}}).dump();
  (void)write_all(to_, close_msg + std::string(1, '\0'));
  ::close(to_);
  ::close(from_);
  // Give it a moment to close by itself, then kill it by its pid.
  constexpr int kCloseWaitMs = 3000, kPollMs = 20;
  for (int waited = 0; waited < kCloseWaitMs; waited += kPollMs) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(kPollMs * 1000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

Result<nlohmann::json> CdpBrowser::read_message(int64_t deadline_ms) {
  constexpr size_t kMaxMessageBytes = size_t{256} << 20;  // a screenshot is a few MB
  for (;;) {
    const size_t end = buffer_.find('\0');
    if (end != std::string::npos) {
      auto j = nlohmann::json::parse(buffer_.substr(0, end), nullptr, false);
      buffer_.erase(0, end + 1);
      if (j.is_discarded()) return unavailable("chromium sent a message that is not JSON");
      return j;
    }
    if (buffer_.size() > kMaxMessageBytes) return unavailable("chromium sent a message over 256 MiB");
    const int64_t left = deadline_ms - now_ms();
    if (left <= 0) return unavailable("chromium did not answer in time");
    pollfd p{from_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::read(from_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unavailable("chromium closed the pipe (did it start? is it installed?)");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

void CdpBrowser::note_event(const nlohmann::json& m) {
  const std::string method = m.value("method", "");
  const nlohmann::json& p = m.contains("params") ? m["params"] : nlohmann::json::object();
  if (method == "Page.loadEventFired") loaded_ = true;
  if (method == "Network.requestWillBeSent") {
    const std::string url = p["request"].value("url", "");
    record_.requested.push_back(url);
    request_urls_.emplace_back(p.value("requestId", ""), url);
  }
  if (method == "Network.loadingFailed") {
    std::string url = "?";
    for (const auto& [id, u] : request_urls_) {
      if (id == p.value("requestId", "")) url = u;
    }
    record_.failed.push_back(url + ": " + p.value("errorText", ""));
  }
  if (method == "Runtime.exceptionThrown") {
    const auto& d = p["exceptionDetails"];
    record_.errors.push_back("exception: " + d.value("text", "") + " " +
                             (d.contains("exception") ? d["exception"].value("description", "") : ""));
  }
  if (method == "Runtime.consoleAPICalled" && p.value("type", "") == "error") {
    record_.errors.push_back("console.error: " + p["args"].dump());
  }
  if (method == "Log.entryAdded" && p["entry"].value("level", "") == "error") {
    record_.errors.push_back("log: " + p["entry"].value("text", "") + " " + p["entry"].value("url", ""));
  }
}

Result<nlohmann::json> CdpBrowser::call(const std::string& method, nlohmann::json params, bool in_session,
                                        int timeout_s) {
  const int64_t id = next_id_++;
  nlohmann::json msg = {{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (in_session) msg["sessionId"] = session_;
  MQ_RETURN_IF_ERROR(write_all(to_, msg.dump() + std::string(1, '\0')));
  const int64_t deadline = now_ms() + int64_t{timeout_s} * 1000;
  constexpr int kMaxMessages = 1'000'000;  // events between a call and its reply
  for (int i = 0; i < kMaxMessages; ++i) {
    auto m = read_message(deadline);
    if (!m.ok()) return Status(m.status().code(), method + ": " + m.status().message());
    if (!m->contains("id")) {
      note_event(*m);
      continue;
    }
    if ((*m)["id"] != id) continue;
    if (m->contains("error")) return unavailable(method + ": " + (*m)["error"].dump());
    return (*m)["result"];
  }
  return unavailable(method + ": no reply among " + std::to_string(kMaxMessages) + " messages");
}

Status CdpBrowser::open(const std::string& url) {
  auto target = call("Target.createTarget", {{"url", "about:blank"}}, false);
  if (!target.ok()) return target.status();
  auto attached =
      call("Target.attachToTarget", {{"targetId", (*target)["targetId"]}, {"flatten", true}}, false);
  if (!attached.ok()) return attached.status();
  session_ = (*attached)["sessionId"].get<std::string>();
  for (const char* domain : {"Page.enable", "Network.enable", "Runtime.enable", "Log.enable"}) {
    auto r = call(domain, nlohmann::json::object(), true);
    if (!r.ok()) return r.status();
  }
  loaded_ = false;
  auto nav = call("Page.navigate", {{"url", url}}, true);
  if (!nav.ok()) return nav.status();
  if (nav->contains("errorText"))
    return unavailable("navigating to " + url + ": " + (*nav)["errorText"].dump());
  const int64_t deadline = now_ms() + int64_t{kDefaultTimeoutS} * 1000;
  while (!loaded_) {
    auto m = read_message(deadline);
    if (!m.ok())
      return Status(m.status().code(), "waiting for the load of " + url + ": " + m.status().message());
    if (!m->contains("id")) note_event(*m);
  }
  return Status();
}

Result<nlohmann::json> CdpBrowser::eval(const std::string& expression) {
  auto r = call("Runtime.evaluate",
                {{"expression", expression}, {"returnByValue", true}, {"awaitPromise", true}}, true);
  if (!r.ok()) return r.status();
  if (r->contains("exceptionDetails")) {
    return invalid_argument("evaluating " + expression + ": " + (*r)["exceptionDetails"].dump());
  }
  const nlohmann::json& v = (*r)["result"];
  return v.contains("value") ? v["value"] : nlohmann::json();
}

Status CdpBrowser::wait_for(const std::string& expression, int timeout_s) {
  const int64_t deadline = now_ms() + int64_t{timeout_s} * 1000;
  constexpr int kPollMs = 50;
  while (now_ms() < deadline) {
    auto v = eval(expression);
    if (!v.ok()) return v.status();
    if (v->is_boolean() && v->get<bool>()) return Status();
    ::usleep(kPollMs * 1000);
  }
  return unavailable("timed out after " + std::to_string(timeout_s) + " s waiting for " + expression);
}

Status CdpBrowser::screenshot(const std::string& path) {
  auto r = call("Page.captureScreenshot", {{"format", "png"}}, true);
  if (!r.ok()) return r.status();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << decode_base64((*r)["data"].get<std::string>());
  out.close();
  if (!out) return io_error(path + ": cannot write the screenshot");
  return Status();
}

}  // namespace mq::test
