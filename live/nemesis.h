#pragma once
// Nemesis: the faults of a live run, on a schedule drawn from the run's seed. The
// schedule alternates quiet gaps and fault windows; each window injects one fault
// kind and heals it when the window ends:
//   kill       SIGKILL the server; restart it when the window ends
//   pause      SIGSTOP; SIGCONT when the window ends
//   partition  the host end of the namespace's veth link down; up when it ends
//   disk       libfiu failure points on (failed fsyncs, failed positional writes); off
//   power      SIGKILL and forget every un-synced write (mq-powerfs); restart
// A server that died by itself (a fail-stop on a disk error) is restarted at the end
// of the window. Every fault is written to the history (process "nemesis"). The last
// window ends kEndMargin before the run's duration; stop() heals whatever is in
// effect, so the server is up, reachable and unpaused when the run drains.
//
// Thread-safety: start/stop from the controlling thread; the nemesis acts on the
// LiveServer from its own thread only, until stop() returns.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "live/history_writer.h"
#include "live/live_server.h"
#include "live/target.h"

namespace mq::live {

struct FaultWindow {
  FaultKind kind = FaultKind::kKill;
  int64_t start_ms = 0;   // since the run started
  int64_t length_ms = 0;  // how long the fault lasts (kill, power: the restart delay)
};

inline constexpr int64_t kEndMarginMs = 2000;
inline constexpr int64_t kMinGapMs = 1000, kMaxGapMs = 4000;
inline constexpr int64_t kMinFaultMs = 300, kMaxFaultMs = 3000;
inline constexpr size_t kMaxWindows = 10'000;

// The schedule for `kinds` over `duration_ms`, a pure function of the seed.
// REQUIRES: kinds is not empty.
std::vector<FaultWindow> draw_schedule(uint64_t seed, const std::vector<FaultKind>& kinds,
                                       int64_t duration_ms);
// "kill@2.3s+1.2s, pause@5.1s+0.4s, ..."
std::string to_string(const std::vector<FaultWindow>& schedule);

struct NemesisStats {
  int injected[kFaultKindCount] = {};
  int restarts = 0;                 // restarts after kill, power loss or a server's own death
  int skipped = 0;                  // windows left out because slow restarts pushed the schedule back
  int self_deaths = 0;              // the server was found dead without a kill
  std::vector<std::string> errors;  // faults that could not be injected or healed
};

class Nemesis {
 public:
  Nemesis(LiveServer& server, HistoryWriter& history, std::vector<FaultWindow> schedule)
      : server_(server), history_(history), schedule_(std::move(schedule)) {}
  Nemesis(const Nemesis&) = delete;
  Nemesis& operator=(const Nemesis&) = delete;
  ~Nemesis() { stop(); }

  void start();
  // Stops early if need be, heals everything, and makes sure the server is running.
  void stop();
  NemesisStats stats() const;

 private:
  void run();
  void inject(const FaultWindow& w);
  void heal(const FaultWindow& w);
  void ensure_running(const char* why);
  bool wait_until(std::chrono::steady_clock::time_point t);  // false if stopped
  void error(const std::string& what);

  LiveServer& server_;
  HistoryWriter& history_;
  std::vector<FaultWindow> schedule_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  NemesisStats stats_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace mq::live
