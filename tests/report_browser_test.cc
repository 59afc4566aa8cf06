// The HTML report in a real browser: headless Chromium (Debian's) opens reports from
// file:// URLs and the tests read the DOM the page built: the verdict table, a lane
// per process, the witness events of the failed properties, no failed request, no
// script error. Screenshots are kept in build/tests/report-artifacts/ (CI keeps them).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/cdp_browser.h"

namespace mq::test {
namespace {

namespace fs = std::filesystem;

constexpr int kWidth = 1400, kHeight = 1000;
// The issue's bar: a 65,000-event report is ready within this much browser time.
constexpr double kLoadBudgetMs = 3000;

fs::path artifacts(const std::string& name) {
  const fs::path dir = fs::path(MQ_REPORT_ARTIFACTS) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Runs a shell command, output to `log`; its exit status.
int run(const std::string& command, const fs::path& log) {
  const int rc = std::system((command + " > '" + log.string() + "' 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string text_of(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// How many verdict lines a run's output has: `  NAME: ok: ...` or `  NAME: FAIL: ...`.
int printed_verdicts(const std::string& log) {
  static const std::regex kVerdict(R"(^  [a-z-]+: (ok|FAIL):)");
  std::istringstream in(log);
  int n = 0;
  for (std::string line; std::getline(in, line);) n += std::regex_search(line, kVerdict) ? 1 : 0;
  return n;
}

class ReportBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto chromium = CdpBrowser::find_chromium();
    if (!chromium) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs Debian's chromium)";
    chromium_ = *chromium;
  }

  // A browser with a fresh profile under `dir`, at the report's `index.html`.
  std::unique_ptr<CdpBrowser> open(const fs::path& dir, const std::string& fragment = "") {
    auto b = CdpBrowser::start(chromium_, (dir / "profile").string(), kWidth, kHeight);
    EXPECT_TRUE(b.ok()) << b.status().to_string();
    if (!b.ok()) return nullptr;
    std::unique_ptr<CdpBrowser> browser = std::move(b).value();
    const Status opened =
        browser->open("file://" + fs::absolute(dir / "report" / "index.html").string() + fragment);
    EXPECT_TRUE(opened.ok()) << opened.to_string();
    const Status ready = browser->wait_for("document.body.getAttribute('data-ready') === '1'");
    EXPECT_TRUE(ready.ok()) << ready.to_string();
    return browser;
  }

  nlohmann::json eval(CdpBrowser& b, const std::string& expression) {
    auto v = b.eval(expression);
    EXPECT_TRUE(v.ok()) << v.status().to_string();
    return v.ok() ? *v : nlohmann::json();
  }

  // Nothing left the file system, nothing failed to load, no script error.
  void expect_clean_load(const CdpBrowser& b) {
    const PageRecord& r = b.record();
    EXPECT_FALSE(r.requested.empty()) << "the page made no request at all: is the Network domain on?";
    for (const auto& url : r.requested) {
      EXPECT_TRUE(url.starts_with("file://") || url.starts_with("data:") || url.starts_with("about:")) << url;
    }
    EXPECT_TRUE(r.failed.empty()) << "failed requests: " << nlohmann::json(r.failed).dump();
    EXPECT_TRUE(r.errors.empty()) << "errors: " << nlohmann::json(r.errors).dump();
  }

  // The witness events of the failed properties: each listed one has its marker in
  // the timeline, with its property named.
  void expect_witnesses(CdpBrowser& b, const std::set<std::string>& failed) {
    const auto listed = eval(b,
                             "[...new Set([...document.querySelectorAll('.witness-link')]"
                             ".map(a => a.dataset.event))].sort()");
    const auto marked = eval(b,
                             "[...document.querySelectorAll('#timeline rect.witness')]"
                             ".map(r => r.dataset.event).sort()");
    ASSERT_TRUE(listed.is_array());
    EXPECT_FALSE(listed.empty());
    EXPECT_EQ(listed, marked);
    const auto groups =
        eval(b, "[...document.querySelectorAll('.witness-group')].map(g => g.dataset.property)");
    EXPECT_EQ(std::set<std::string>(groups.begin(), groups.end()), failed);
    const auto properties = eval(b,
                                 "[...document.querySelectorAll('#timeline rect.witness')]"
                                 ".map(r => r.dataset.property)");
    for (const auto& p : properties) {
      bool named = false;
      for (const auto& f : failed) named = named || p.get<std::string>().find(f) != std::string::npos;
      EXPECT_TRUE(named) << p;
    }
    // The first view is the window around the first witness: its marker is on screen.
    EXPECT_EQ(eval(b, "document.querySelector('#timeline rect.witness').getAttribute('display')"), "inline");
  }

  std::string chromium_;
};

TEST_F(ReportBrowser, FailingMutantRunShowsVerdictsLanesAndWitnesses) {
  const fs::path dir = artifacts("failing-run");
  const int rc = run(
      // Seed 2: the first whose draw (sim/swarm.h) makes the fault show (seed 1's publishes all have one
      // priority, 0).
      std::string(MQ_MUTANTS_BIN) + " --only reversed-priority --run 2 --report " + (dir / "report").string(),
      dir / "run.log");
  ASSERT_EQ(rc, 1) << "the mutant run should fail: " << text_of(dir / "run.log");
  auto b = open(dir);
  ASSERT_NE(b, nullptr);
  // A row for every verdict the run printed (`  NAME: ok: ...` or `  NAME: FAIL: ...`).
  EXPECT_EQ(eval(*b, "document.querySelectorAll('#verdict-table tbody tr').length"),
            printed_verdicts(text_of(dir / "run.log")));
  const std::set<std::string> failed = {"shadow", "priority", "refinement"};
  const auto failing =
      eval(*b, "[...document.querySelectorAll('#verdict-table tr.fail')].map(r => r.dataset.property)");
  EXPECT_EQ(std::set<std::string>(failing.begin(), failing.end()), failed);
  EXPECT_EQ(eval(*b, "document.querySelectorAll('#verdict-table tr.fail code.repro').length"), 3);
  const auto lanes =
      eval(*b, "[...document.querySelectorAll('#timeline g.lane')].map(g => g.dataset.process)");
  EXPECT_EQ(lanes,
            nlohmann::json({"p0", "p1", "c0", "c1", "auditor", "janitor", "undertaker", "broker", "nemesis"}));
  expect_witnesses(*b, {"priority", "refinement"});  // the shadow's verdict has no witness events
  // Following a witness: its message's life is listed, the witness among it.
  eval(*b, "document.querySelector('.witness-link').click()");
  EXPECT_TRUE(b->wait_for("document.querySelectorAll('#life li.witness-row').length > 0", 10).ok());
  EXPECT_GT(eval(*b, "document.querySelectorAll('#timeline circle.life-event').length"), 1);
  expect_clean_load(*b);
  EXPECT_TRUE(b->screenshot((dir / "failing-run.png").string()).ok());
  EXPECT_GT(fs::file_size(dir / "failing-run.png"), 10000u);
}

TEST_F(ReportBrowser, HandMadeFailingHistoryFromCheck) {
  const fs::path dir = artifacts("hand-made");
  const int rc = run(std::string(MQ_HARNESS_BIN) + " check " + MQ_TEST_DATA_DIR +
                         "/histories/duplicate-push.jsonl --report " + (dir / "report").string(),
                     dir / "check.log");
  ASSERT_EQ(rc, 1) << text_of(dir / "check.log");
  auto b = open(dir);
  ASSERT_NE(b, nullptr);
  const auto lanes =
      eval(*b, "[...document.querySelectorAll('#timeline g.lane')].map(g => g.dataset.process)");
  EXPECT_EQ(lanes, nlohmann::json({"p0", "c0", "broker", "nemesis"}));
  expect_witnesses(*b, {"duplicates", "refinement"});
  expect_clean_load(*b);
  EXPECT_TRUE(b->screenshot((dir / "hand-made.png").string()).ok());
}

TEST_F(ReportBrowser, CleanDefaultRunOf65000EventsLoadsWithinBudget) {
  const fs::path dir = artifacts("clean-run");
  // Seed 2: the default scenario draws its features per seed (sim/swarm.h); this
  // draw's history has 78,166 events (seed 1's, 61,620, is under the size measured).
  const int rc = run(std::string(MQ_HARNESS_BIN) + " run --seed 2 --report " + (dir / "report").string(),
                     dir / "run.log");
  ASSERT_EQ(rc, 0) << text_of(dir / "run.log");
  auto b = open(dir);
  ASSERT_NE(b, nullptr);
  const auto events = eval(*b, "Number(document.getElementById('timeline').dataset.events)");
  EXPECT_GE(events.get<double>(), 65000);
  const double ready_ms = eval(*b, "window.mqReportReady").get<double>();
  const auto phases =
      eval(*b,
           "(() => { const n = performance.getEntriesByType('navigation')[0]; "
           "return {html: n.responseEnd, dom_interactive: n.domInteractive, "
           "timeline: window.mqReportTiming, resources: performance.getEntriesByType('resource')"
           ".map(r => [r.name.split('/').pop(), Math.round(r.startTime), Math.round(r.responseEnd)])}; })()");
  std::printf("report of %.0f events ready after %.0f ms of browser time; phases (ms since navigation): %s\n",
              events.get<double>(), ready_ms, phases.dump().c_str());
  EXPECT_LT(ready_ms, kLoadBudgetMs);
  EXPECT_EQ(eval(*b, "document.getElementById('outcome').textContent"), "PASS");
  EXPECT_EQ(eval(*b, "document.querySelectorAll('#timeline rect.witness').length"), 0);
  // Windowed: the page holds far fewer elements than the history has events.
  EXPECT_LT(eval(*b, "document.getElementsByTagName('*').length").get<double>(), 20000);
  EXPECT_EQ(eval(*b, "document.querySelectorAll('svg.chart').length"), 6);
  expect_clean_load(*b);
  EXPECT_TRUE(b->screenshot((dir / "clean-run.png").string()).ok());
}

// The load check has teeth: a page that asks for a file that is not there is seen.
TEST_F(ReportBrowser, AMissingAssetIsSeenAsAFailedRequest) {
  const fs::path dir = artifacts("missing-asset");
  const int rc = run(std::string(MQ_HARNESS_BIN) + " check " + MQ_TEST_DATA_DIR +
                         "/histories/example.jsonl --report " + (dir / "report").string(),
                     dir / "check.log");
  ASSERT_EQ(rc, 0) << text_of(dir / "check.log");
  std::string page = text_of(dir / "report" / "index.html");
  page.replace(page.find("</body>"), 7, "<script src=\"not-written.js\"></script></body>");
  std::ofstream(dir / "report" / "index.html") << page;
  auto b = open(dir);
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->record().failed.size(), 1u) << nlohmann::json(b->record().failed).dump();
  EXPECT_NE(b->record().failed[0].find("not-written.js"), std::string::npos);
}

}  // namespace
}  // namespace mq::test
