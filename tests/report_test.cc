// report/: the history view, the figures, the Chrome trace export (checked against the
// Trace Event format), the state graph, the HTML writer and the progress line.
#include "report/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "formats/history_io.h"
#include "formats/json_config.h"
#include "properties/checkers/check_all.h"
#include "properties/model_variants.h"
#include "report/chrome_trace.h"
#include "report/figures.h"
#include "report/history_view.h"
#include "report/progress.h"
#include "report/state_graph.h"
#include "sim/simulator.h"

namespace mq::report {
namespace {

namespace fs = std::filesystem;

struct Loaded {
  History history;
  Topology topology;
};

Loaded load(const std::string& name) {
  const std::string path = std::string(MQ_TEST_DATA_DIR) + "/histories/" + name;
  auto h = read_history(path);
  EXPECT_TRUE(h.ok()) << h.status().to_string();
  auto j = read_json_file(path + ".topology.json");
  EXPECT_TRUE(j.ok());
  auto t = topology_from_json(*j, path + ".topology.json");
  EXPECT_TRUE(t.ok());
  return {*h, *t};
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("mq-report-test-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string text_of(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- the view ----

TEST(HistoryView, PairsOperationsAndFindsHoldsAndFaultWindows) {
  const Loaded l = load("example.jsonl");
  const HistoryView v = build_history_view(l.history, &l.topology);
  EXPECT_EQ(v.lanes, (std::vector<std::string>{"p0", "c0", "broker", "nemesis"}));
  // p0: two publishes; c0: nack, fetch, ack.
  ASSERT_EQ(v.operations.size(), 5u);
  EXPECT_EQ(v.operations[0].invoke, 0u);
  EXPECT_EQ(v.operations[0].completion, 1u);
  EXPECT_EQ(v.operations[1].completion, 3u);  // refused: fail
  for (const auto& op : v.operations) EXPECT_TRUE(op.completion.has_value());
  // The push to c0 (event 4) is held until the nack (6); the fetch (9) until the ack (11).
  ASSERT_EQ(v.holds.size(), 2u);
  EXPECT_EQ(v.holds[0].from, 4u);
  EXPECT_EQ(v.holds[0].to, 6u);
  EXPECT_EQ(v.holds[1].from, 9u);
  EXPECT_EQ(v.holds[1].to, 11u);
  ASSERT_EQ(v.windows.size(), 1u);
  EXPECT_EQ(v.windows[0].kind, "broker down");
  EXPECT_EQ(v.windows[0].from, 12u);
  EXPECT_EQ(v.windows[0].to, 13u);
  EXPECT_EQ(v.windows[0].from_ns, 30);
  EXPECT_EQ(v.windows[0].to_ns, 40);
}

TEST(HistoryView, AFaultNotHealedLastsToTheEnd) {
  History h;
  HistoryEvent e;
  e.process = "nemesis";
  e.f = EventF::kPartition;
  e.node = "c0";
  e.time_ns = 5;
  h.events.push_back(e);
  e.index = 1;
  e.f = EventF::kTornWrite;
  e.node.clear();
  e.time_ns = 9;
  h.events.push_back(e);
  const HistoryView v = build_history_view(h, nullptr);
  ASSERT_EQ(v.windows.size(), 1u);
  EXPECT_FALSE(v.windows[0].to.has_value());
  EXPECT_EQ(v.windows[0].to_ns, 9);
  EXPECT_EQ(v.windows[0].node, "c0");
  ASSERT_EQ(v.instants.size(), 1u);
  EXPECT_EQ(v.instants[0].kind, "torn write");
}

// ---- figures ----

TEST(Figures, CountsLatencyDepthAndLoad) {
  const Loaded l = load("example.jsonl");
  const HistoryView v = build_history_view(l.history, &l.topology);
  const Figures f = compute_figures(l.history, v, &l.topology, 4);
  EXPECT_EQ(f.accepted, 1u);  // the second publish was refused
  EXPECT_EQ(f.finished, 1u);  // acked at 20 ns
  double published = 0, acked = 0, delivered = 0;
  for (size_t b = 0; b < f.bins; ++b) {
    published += f.published[b];
    acked += f.acked[b];
    delivered += f.delivered[b];
  }
  const double per_s = 1e9 / static_cast<double>(f.bin_ns);
  EXPECT_DOUBLE_EQ(published, 1 * per_s);
  EXPECT_DOUBLE_EQ(acked, 1 * per_s);
  EXPECT_DOUBLE_EQ(delivered, 2 * per_s);  // the push and the fetch
  // Accepted at 0 ns, acked at 20 ns: 2e-5 ms, in the bin of 20 ns.
  const size_t bin = static_cast<size_t>(20 / f.bin_ns);
  EXPECT_DOUBLE_EQ(f.max_ms[bin], 2e-5);
  EXPECT_TRUE(std::isnan(f.p50_ms[0]));
  ASSERT_EQ(f.depth.size(), 1u);
  EXPECT_EQ(f.depth[0].first, "orders");
  EXPECT_DOUBLE_EQ(*std::max_element(f.depth[0].second.begin(), f.depth[0].second.end()), 1);
  EXPECT_DOUBLE_EQ(f.depth[0].second.back(), 0);  // finished by the end
  ASSERT_EQ(f.total_load.size(), 1u);
  EXPECT_EQ(f.total_load[0], (std::pair<std::string, uint64_t>{"c0", 2}));
  ASSERT_EQ(f.in_flight.size(), 1u);
  EXPECT_DOUBLE_EQ(*std::max_element(f.in_flight[0].second.begin(), f.in_flight[0].second.end()), 1);
}

TEST(Figures, PercentileByNearestRank) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 50), 3);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 5);
  EXPECT_DOUBLE_EQ(percentile(v, 20), 1);
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(percentile(none, 50)));
}

// ---- the trace export, against the Trace Event format ----

// The format's rules the export promises: every event has name, ph, pid, tid; a
// complete event ("X") has ts and dur >= 0, an instant ("i") ts and a scope, a
// metadata event ("M") args; timestamps never go back on a track. Returns what is
// wrong, empty when nothing is.
std::vector<std::string> trace_format_errors(const nlohmann::json& doc) {
  std::vector<std::string> errors;
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array()) {
    return {"no traceEvents array"};
  }
  std::map<std::pair<int64_t, int64_t>, double> last_ts;
  size_t i = 0;
  for (const auto& e : doc["traceEvents"]) {
    const std::string at = "event " + std::to_string(i++) + ": ";
    for (const char* key : {"name", "ph", "pid", "tid"}) {
      if (!e.contains(key)) errors.push_back(at + "no " + key);
    }
    if (!e.contains("ph") || !e.contains("pid") || !e.contains("tid")) continue;
    const std::string ph = e["ph"];
    if (ph == "M") {
      if (!e.contains("args")) errors.push_back(at + "metadata without args");
      continue;
    }
    if (ph != "X" && ph != "i") {
      errors.push_back(at + "unexpected ph " + ph);
      continue;
    }
    if (!e.contains("ts") || !e["ts"].is_number() || e["ts"].get<double>() < 0) {
      errors.push_back(at + "bad ts");
      continue;
    }
    if (ph == "X" && (!e.contains("dur") || !e["dur"].is_number() || e["dur"].get<double>() < 0)) {
      errors.push_back(at + "complete event without dur >= 0");
    }
    if (ph == "i" && (!e.contains("s") || (e["s"] != "t" && e["s"] != "p" && e["s"] != "g"))) {
      errors.push_back(at + "instant without scope");
    }
    const auto track = std::make_pair(e["pid"].get<int64_t>(), e["tid"].get<int64_t>());
    const double ts = e["ts"].get<double>();
    if (auto it = last_ts.find(track); it != last_ts.end() && ts < it->second) {
      errors.push_back(at + "ts " + std::to_string(ts) + " before " + std::to_string(it->second) +
                       " on its track");
    }
    last_ts[track] = ts;
  }
  return errors;
}

TEST(ChromeTrace, ASimulatedRunFollowsTheTraceEventFormat) {
  sim::SimOptions options;
  options.overrides.messages = 400;
  const sim::Scenario scenario = sim::default_scenario();
  const sim::SimResult r = sim::simulate(scenario, 4, options);
  const HistoryView v = build_history_view(r.history, &scenario.topology);
  ASSERT_FALSE(v.windows.empty()) << "seed 4 should inject faults; pick a seed that does";
  const auto doc = nlohmann::json::parse(chrome_trace_json(r.history, &scenario.topology, "seed 4"));
  EXPECT_EQ(trace_format_errors(doc), std::vector<std::string>{});
  size_t slices = 0, instants = 0, faults = 0;
  std::map<int64_t, std::string> thread_names;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") thread_names[e["tid"]] = e["args"]["name"];
    if (e["ph"] == "X" && e["cat"] == "fault") ++faults;
    if (e["ph"] == "X" && e["cat"] != "fault") ++slices;
    if (e["ph"] == "i") ++instants;
  }
  EXPECT_EQ(slices, v.operations.size());
  EXPECT_EQ(faults, v.windows.size());
  size_t single = 0;
  for (const auto& e : r.history.events) single += e.is_client() ? 0 : 1;
  EXPECT_EQ(instants, single);
  for (size_t l = 0; l < v.lanes.size(); ++l)
    EXPECT_EQ(thread_names[static_cast<int64_t>(l) + 1], v.lanes[l]);
  // Slices on one client's track do not overlap (a process has one operation open).
  std::map<int64_t, double> end_of;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "X" || e["cat"] == "fault") continue;
    const int64_t tid = e["tid"];
    const double ts = e["ts"], dur = e["dur"];
    EXPECT_GE(ts, end_of[tid]);
    end_of[tid] = ts + dur;
  }
}

TEST(ChromeTrace, TheFormatCheckFindsABrokenTrace) {
  const auto broken = nlohmann::json::parse(
      R"({"traceEvents":[{"name":"a","ph":"X","ts":5,"dur":1,"pid":1,"tid":1},)"
      R"({"name":"b","ph":"X","ts":3,"dur":1,"pid":1,"tid":1},{"name":"c","ph":"i","ts":1,"pid":1,"tid":2},)"
      R"({"ph":"X","ts":1,"pid":1,"tid":3}]})");
  const auto errors = trace_format_errors(broken);
  ASSERT_EQ(errors.size(), 4u) << nlohmann::json(errors).dump();
  EXPECT_NE(errors[0].find("before"), std::string::npos);
  EXPECT_NE(errors[1].find("scope"), std::string::npos);
}

TEST(ChromeTrace, TimestampsAreMicrosecondsWithNanosecondDigits) {
  const Loaded l = load("example.jsonl");
  auto h = l.history;
  for (auto& e : h.events) e.time_ns += 1234567;
  const auto doc = nlohmann::json::parse(chrome_trace_json(h, &l.topology, "x"));
  double first = -1;
  for (const auto& e : doc["traceEvents"]) {
    if (e["ph"] != "M") {
      first = e["ts"];
      break;
    }
  }
  EXPECT_DOUBLE_EQ(first, 1234.567);
}

// ---- counterexamples ----

TEST(StateGraph, ACounterexampleOfTheSeedDesignIsReplayedAndDrawn) {
  auto config = explorer::load_explore_config(std::string(MQ_SOURCE_DIR) + "/configs/explore-small.json");
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  const explorer::ExploreResult r = explorer::explore(*config, seed_design_model());
  ASSERT_TRUE(r.counterexample.has_value());
  const CounterexampleView v =
      counterexample_view("seed design", *config, seed_design_model(), *r.counterexample);
  EXPECT_EQ(v.steps.size(), r.counterexample->steps.size());
  EXPECT_EQ(v.states.size(), v.steps.size() + 1);
  EXPECT_EQ(v.replay_note, "");  // the replay answered as the explorer did
  const std::string dot = state_graph_dot(v);
  EXPECT_NE(dot.find("s0 -> s1"), std::string::npos);
  EXPECT_NE(dot.find("color=red"), std::string::npos);
  const fs::path dir = temp_dir("dot");
  std::ofstream(dir / "g.dot") << dot;
  const Status drawn = render_dot((dir / "g.dot").string(), (dir / "g.svg").string());
  if (drawn.code() == Code::kNotFound) GTEST_SKIP() << drawn.message();
  ASSERT_TRUE(drawn.ok()) << drawn.to_string();
  EXPECT_NE(text_of(dir / "g.svg").find("<svg"), std::string::npos);
  fs::remove_all(dir);
}

// ---- the page ----

TEST(WriteReport, WritesThePageItsAssetsAndTheTimelineData) {
  const Loaded l = load("duplicate-push.jsonl");
  const auto verdicts = check_all(l.history, l.topology);
  ReportInput in;
  in.title = "a <failing> run";
  in.history = &l.history;
  in.topology = &l.topology;
  in.verdicts = verdicts;
  in.properties = rows_from_verdicts(verdicts, 7, "mqharness check x");
  const fs::path dir = temp_dir("page");
  ASSERT_TRUE(write_report((dir / "r").string(), in).ok());
  const std::string page = text_of(dir / "r" / "index.html");
  EXPECT_NE(page.find("<title>a &lt;failing&gt; run</title>"), std::string::npos);
  EXPECT_NE(page.find("id=\"verdict-table\""), std::string::npos);
  EXPECT_NE(page.find("class=\"fail\" data-property=\"duplicates\""), std::string::npos);
  EXPECT_NE(page.find("data-event=\"5\""), std::string::npos);  // a witness: the second push
  EXPECT_NE(page.find("mqharness check x"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);  // nothing from the network
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_TRUE(text_of(dir / "r" / "timeline-data.js").starts_with("window.MQ_TIMELINE = JSON.parse('{"));
  EXPECT_GT(fs::file_size(dir / "r" / "report.js"), 1000u);
  EXPECT_GT(fs::file_size(dir / "r" / "report.css"), 1000u);
  const auto rows = rows_from_verdicts(verdicts, 7, "again");
  for (const auto& row : rows) {
    EXPECT_EQ(row.runs, 1u);
    EXPECT_EQ(row.first_failing_seed.has_value(), row.violations == 1) << row.property;
  }
  fs::remove_all(dir);
}

TEST(WriteReport, AnUnwritableDirectoryIsAnError) {
  ReportInput in;
  const Status s = write_report("/proc/no-such-dir/report", in);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/proc/no-such-dir/report"), std::string::npos);
}

TEST(WriteHistoryReport, TheLiveEntryPointNamesABadHistoryFile) {
  const fs::path dir = temp_dir("live");
  std::ofstream(dir / "bad.jsonl") << "{\"v\":1}\n";
  const Status s =
      write_history_report((dir / "r").string(), (dir / "bad.jsonl").string(), {}, TargetInfo{}, nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad.jsonl:1"), std::string::npos) << s.message();
  const Loaded l = load("example.jsonl");
  TargetInfo t{"live: example", "mqharness live ...", {{"target", "mqd"}}, "mqharness live --seed 3", 3};
  ASSERT_TRUE(write_history_report((dir / "ok").string(),
                                   std::string(MQ_TEST_DATA_DIR) + "/histories/example.jsonl",
                                   check_all(l.history, l.topology), t, &l.topology)
                  .ok());
  EXPECT_NE(text_of(dir / "ok" / "index.html").find("mqd"), std::string::npos);
  fs::remove_all(dir);
}

// ---- progress ----

std::string read_all(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  return s;
}

TEST(Progress, NotATerminalStaysLineBased) {
  std::FILE* status = std::tmpfile();
  std::FILE* results = std::tmpfile();
  {
    Progress p({.verb = "sweep",
                .unit = "seeds",
                .total = 10,
                .status = status,
                .results = results,
                .plain_every_s = 0,
                .force_tty = 0});
    p.step(3, 1);
    p.print("FAIL seed 2: x\n  reproduce: y");
    p.step(7, 0);
    EXPECT_EQ(p.done(), 10u);
    EXPECT_EQ(p.failed(), 1u);
    EXPECT_NE(p.summary().find("10 of 10 seeds"), std::string::npos) << p.summary();
  }
  EXPECT_EQ(read_all(status), "");
  EXPECT_EQ(read_all(results), "FAIL seed 2: x\n  reproduce: y\n");
  std::fclose(status);
  std::fclose(results);
}

TEST(Progress, ATerminalRedrawsOneLineAndClearsItForResults) {
  std::FILE* status = std::tmpfile();
  std::FILE* results = std::tmpfile();
  {
    Progress p({.verb = "walk",
                .unit = "seeds",
                .total = 4,
                .status = status,
                .results = results,
                .redraw_s = 0,
                .force_tty = 1});
    p.step(2, 0);
    p.print("found one");
    p.set_detail("seed 3");
  }
  const std::string s = read_all(status);
  EXPECT_NE(s.find("\rwalk: 2/4 seeds"), std::string::npos) << s;
  EXPECT_NE(s.find("| seed 3"), std::string::npos) << s;
  EXPECT_EQ(s.find('\n'), std::string::npos) << "a TTY status line never scrolls";
  EXPECT_EQ(read_all(results), "found one\n");
  std::fclose(status);
  std::fclose(results);
}

TEST(Progress, StopRequestsAreNotedNotFatal) {
  reset_stop_request();
  install_stop_handlers();
  EXPECT_FALSE(stop_requested());
  std::raise(SIGINT);
  EXPECT_TRUE(stop_requested());
  EXPECT_EQ(stop_signal(), SIGINT);
  EXPECT_EQ(stopped_exit_status(SIGINT), 130);
  reset_stop_request();
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

}  // namespace
}  // namespace mq::report
