#include "report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "formats/history_io.h"
#include "report/assets.h"
#include "report/figures.h"
#include "report/history_view.h"
#include "report/html.h"
#include "report/svg_chart.h"
#include "report/timeline_data.h"

namespace mq::report {
namespace {

namespace fs = std::filesystem;

// A reproducer table longer than this would be a page of its own: the timeline
// shows the rest.
constexpr size_t kMaxReproducerRows = 2000;
// Facts under one key beyond this many are folded (<details>).
constexpr size_t kMaxUnfoldedFacts = 3;
// The sweep's failing seeds listed in full; the table says how many more failed.
constexpr size_t kMaxListedSeeds = 200;

Status write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return io_error(path.string() + ": cannot write");
  return Status();
}

std::string shade_kind(const std::string& kind) {
  std::string s = kind;
  std::replace(s.begin(), s.end(), ' ', '-');
  return s;
}

bool any_failed(const ReportInput& in) {
  for (const auto& p : in.properties) {
    if (p.violations > 0) return true;
  }
  return false;
}

void head(std::ostringstream& o, const ReportInput& in) {
  o << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    << "<title>" << html_escape(in.title)
    << "</title>\n<link rel=\"stylesheet\" href=\"report.css\">\n</head>\n"
    << "<body>\n<header>\n<h1>" << html_escape(in.title) << "</h1>\n";
  const bool failed = any_failed(in);
  if (!in.outcome.empty()) {
    o << "<p id=\"outcome\" class=\"outcome info\">" << html_escape(in.outcome) << "</p>\n";
  } else {
    o << "<p id=\"outcome\" class=\"outcome " << (failed ? "fail\">FAIL" : "pass\">PASS") << "</p>\n";
  }
  if (in.interrupted) o << "<p class=\"outcome info\">INTERRUPTED: the figures cover only what ran</p>\n";
  o << "<nav><a href=\"#verdicts\">verdicts</a> <a href=\"#summary\">run</a>";
  if (in.history != nullptr) o << " <a href=\"#timeline-section\">timeline</a> <a href=\"#plots\">plots</a>";
  if (!in.counterexamples.empty()) o << " <a href=\"#counterexamples\">counterexamples</a>";
  if (!in.seeds.empty()) o << " <a href=\"#sweep\">seeds</a>";
  o << "</nav>\n</header>\n<main>\n";
}

void summary(std::ostringstream& o, const ReportInput& in) {
  o << "<section id=\"summary\">\n<h2>Run</h2>\n<table class=\"facts\">\n";
  if (!in.command_line.empty()) {
    o << "<tr><th>command</th><td><code>" << html_escape(in.command_line) << "</code></td></tr>\n";
  }
  // A key given many times (the run's parameters, its faults) is one folded row.
  for (size_t i = 0; i < in.facts.size();) {
    size_t j = i;
    while (j < in.facts.size() && in.facts[j].key == in.facts[i].key) ++j;
    o << "<tr><th>" << html_escape(in.facts[i].key) << "</th><td>";
    if (j - i <= kMaxUnfoldedFacts) {
      for (size_t k = i; k < j; ++k) o << (k > i ? "<br>" : "") << html_escape(in.facts[k].value);
    } else {
      o << "<details><summary>" << j - i << " lines</summary><pre>";
      for (size_t k = i; k < j; ++k) o << html_escape(in.facts[k].value) << "\n";
      o << "</pre></details>";
    }
    o << "</td></tr>\n";
    i = j;
  }
  o << "</table>\n";
  if (!in.notes.empty()) {
    o << "<ul class=\"notes\">\n";
    for (const auto& n : in.notes) o << "<li>" << html_escape(n) << "</li>\n";
    o << "</ul>\n";
  }
  o << "</section>\n";
}

void verdict_table(std::ostringstream& o, const ReportInput& in) {
  o << "<section id=\"verdicts\">\n<h2>Verdicts</h2>\n<table id=\"verdict-table\" class=\"verdicts\">\n"
    << "<thead><tr><th>property</th><th>runs</th><th>violations</th><th>first failing seed</th><th>what</th>"
    << "</tr></thead>\n<tbody>\n";
  for (const PropertyRow& p : in.properties) {
    const bool bad = p.violations > 0;
    o << "<tr class=\"" << (bad ? "fail" : "pass") << "\" data-property=\"" << html_escape(p.property)
      << "\"><td>" << html_escape(p.property) << "</td><td class=\"num\">" << p.runs
      << "</td><td class=\"num\">" << p.violations << "</td><td class=\"num\">"
      << (p.first_failing_seed ? std::to_string(*p.first_failing_seed) : "-")
      << "</td><td><div class=\"message\">" << html_escape(p.message) << "</div>";
    if (bad && !p.reproduce.empty()) {
      o << "<div class=\"reproduce\"><span>reproduce:</span> <code class=\"repro\">"
        << html_escape(p.reproduce) << "</code> <button type=\"button\" class=\"copy\">copy</button></div>";
    }
    o << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n</section>\n";
}

void witnesses(std::ostringstream& o, const ReportInput& in) {
  bool any = false;
  for (const Verdict& v : in.verdicts) any = any || (!v.valid && !v.witness.empty());
  if (!any) return;
  o << "<section id=\"witnesses\">\n<h2>Witnesses</h2>\n<p class=\"hint\">The events that show each "
       "violation; "
       "click one to see it in the timeline.</p>\n";
  for (const Verdict& v : in.verdicts) {
    if (v.valid || v.witness.empty()) continue;
    o << "<div class=\"witness-group\" data-property=\"" << html_escape(v.property) << "\">\n<h3>"
      << html_escape(v.property) << "</h3>\n<p class=\"message\">" << html_escape(v.message)
      << "</p>\n<ol>\n";
    for (const HistoryEvent& e : v.witness) {
      o << "<li><a class=\"witness-link\" href=\"#event-" << e.index << "\" data-event=\"" << e.index << "\">"
        << html_escape(to_string(e)) << "</a></li>\n";
    }
    o << "</ol>\n</div>\n";
  }
  o << "</section>\n";
}

void reproducer(std::ostringstream& o, const History& h) {
  o << "<div id=\"reproducer\">\n<h3>The reproducer's events</h3>\n<table class=\"events\">\n<thead><tr>"
    << "<th>#</th><th>time</th><th>process</th><th>type</th><th>f</th><th>details</th></tr></"
       "thead>\n<tbody>\n";
  for (size_t i = 0; i < h.events.size() && i < kMaxReproducerRows; ++i) {
    const HistoryEvent& e = h.events[i];
    std::string details;
    if (!e.queue.empty()) details += "queue=" + e.queue + " ";
    if (e.id) details += "id=" + std::to_string(*e.id) + " ";
    if (!e.consumer.empty()) details += "consumer=" + e.consumer + " ";
    if (e.attempts) details += "attempts=" + std::to_string(*e.attempts) + " ";
    if (!e.node.empty()) details += "node=" + e.node + " ";
    if (!e.error.empty()) details += "error=" + e.error;
    o << "<tr class=\"t-" << event_type_name(e.type) << "\" data-event=\"" << i << "\"><td class=\"num\">"
      << i << "</td><td class=\"num\">" << html_escape(duration_text(e.time_ns)) << "</td><td>"
      << html_escape(e.process) << "</td><td>" << event_type_name(e.type) << "</td><td>" << event_f_name(e.f)
      << "</td><td>" << html_escape(details) << "</td></tr>\n";
  }
  o << "</tbody>\n</table>\n";
  if (h.events.size() > kMaxReproducerRows) {
    o << "<p class=\"hint\">" << h.events.size() - kMaxReproducerRows
      << " more events: see the timeline.</p>\n";
  }
  o << "</div>\n";
}

void timeline(std::ostringstream& o, const ReportInput& in, const HistoryView& v) {
  o << "<section id=\"timeline-section\">\n<h2>Timeline</h2>\n<p class=\"hint\">" << in.history->events.size()
    << " events, " << v.lanes.size() << " lanes, " << html_escape(duration_text(v.end_ns - v.start_ns))
    << " of virtual time. Wheel or +/- to zoom, drag to pan, click an operation to follow its message.</p>\n"
    << "<div class=\"" << (in.reproducer_table ? "beside" : "alone") << "\">\n"
    << "<div id=\"timeline\" data-events=\"" << in.history->events.size() << "\" data-lanes=\""
    << v.lanes.size()
    << "\"><noscript>The timeline needs JavaScript; the tables and plots do not.</noscript></div>\n";
  if (in.reproducer_table) reproducer(o, *in.history);
  o << "</div>\n<div id=\"life\" class=\"life\" hidden></div>\n</section>\n";
}

std::vector<ChartShade> shades(const HistoryView& v) {
  std::vector<ChartShade> out;
  for (const FaultWindow& w : v.windows) {
    out.push_back({static_cast<double>(w.from_ns) / 1e9, static_cast<double>(w.to_ns) / 1e9,
                   shade_kind(w.kind),
                   w.kind + (w.node.empty() ? "" : " " + w.node) + ": " + duration_text(w.from_ns) + " .. " +
                       (w.to ? duration_text(w.to_ns) : "the end")});
  }
  return out;
}

LineChart chart(const Figures& f, const HistoryView& v, std::string id, std::string title,
                std::string y_label) {
  LineChart c;
  c.id = std::move(id);
  c.title = std::move(title);
  c.y_label = std::move(y_label);
  for (size_t b = 0; b < f.bins; ++b) c.x.push_back(f.bin_start_s(b));
  c.x_end = f.bin_start_s(f.bins);
  c.shades = shades(v);
  return c;
}

void add_named(LineChart& c, const NamedSeries& series) {
  for (const auto& [name, y] : series) c.series.push_back({name, y});
}

void plots(std::ostringstream& o, const ReportInput& in, const HistoryView& v) {
  const Figures f = compute_figures(*in.history, v, in.topology);
  o << "<section id=\"plots\">\n<h2>Plots</h2>\n<p class=\"hint\">" << f.bins << " bins of "
    << html_escape(duration_text(f.bin_ns)) << "; " << f.accepted << " messages accepted, " << f.finished
    << " finished. Shaded: fault windows (hover for which).</p>\n";
  LineChart t = chart(f, v, "plot-throughput", "Throughput", "per second");
  t.series = {{"published", f.published}, {"delivered", f.delivered}, {"acked", f.acked}};
  o << svg_line_chart(t);
  LineChart l = chart(f, v, "plot-latency", "Latency, acceptance to finish (by finish time)", "ms");
  l.series = {{"p50", f.p50_ms}, {"p90", f.p90_ms}, {"p99", f.p99_ms}, {"max", f.max_ms}};
  o << svg_line_chart(l);
  LineChart d = chart(f, v, "plot-depth", "Queue depth (ready, delayed and in flight)", "messages");
  add_named(d, f.depth);
  o << svg_line_chart(d);
  LineChart h = chart(f, v, "plot-in-flight", "In flight per consumer", "deliveries held");
  add_named(h, f.in_flight);
  o << svg_line_chart(h);
  LineChart c = chart(f, v, "plot-load", "Consumer load (deliveries per bin)", "deliveries");
  add_named(c, f.load);
  o << svg_line_chart(c);
  BarChart total{"plot-load-total", "Deliveries per consumer, in all (load balance)", "deliveries", {}};
  for (const auto& [name, n] : f.total_load) total.bars.emplace_back(name, static_cast<double>(n));
  o << svg_bar_chart(total) << "</section>\n";
}

Status counterexamples(std::ostringstream& o, const ReportInput& in, const fs::path& dir) {
  if (in.counterexamples.empty()) return Status();
  o << "<section id=\"counterexamples\">\n<h2>Counterexamples</h2>\n";
  fs::create_directories(dir / "graphs");
  for (size_t i = 0; i < in.counterexamples.size(); ++i) {
    const CounterexampleView& cx = in.counterexamples[i];
    const std::string stem = "graphs/counterexample-" + std::to_string(i + 1);
    o << "<div class=\"counterexample\" id=\"cx-" << i + 1 << "\">\n<h3>" << html_escape(cx.title)
      << "</h3>\n"
      << "<p><b>" << html_escape(cx.property) << "</b>: " << html_escape(cx.message) << "</p>\n"
      << "<div class=\"cx-body\">\n<table "
         "class=\"steps\"><thead><tr><th>step</th><th>operation</th><th>effects</th></tr></thead><tbody>\n";
    for (size_t s = 0; s < cx.steps.size(); ++s) {
      const bool cyc = cx.cycle_from && s >= *cx.cycle_from;
      const bool last = !cx.cycle_from && s + 1 == cx.steps.size();
      o << "<tr class=\""
        << (last  ? "violating"
            : cyc ? "cycle"
                  : "")
        << "\"><td class=\"num\">" << s + 1 << "</td><td><code>" << html_escape(cx.steps[s].op)
        << "</code></td><td>" << html_escape(cx.steps[s].effects) << "</td></tr>\n";
    }
    o << "</tbody></table>\n";
    if (!cx.replay_note.empty()) o << "<p class=\"hint\">" << html_escape(cx.replay_note) << "</p>\n";
    const std::string dot = state_graph_dot(cx);
    MQ_RETURN_IF_ERROR(write_file(dir / (stem + ".dot"), dot));
    const Status drawn = render_dot((dir / (stem + ".dot")).string(), (dir / (stem + ".svg")).string());
    o << "<div class=\"graph\">";
    if (drawn.ok()) {
      o << "<img alt=\"state graph of " << html_escape(cx.title) << "\" src=\"" << stem << ".svg\">";
    } else {
      o << "<p class=\"hint\">" << html_escape(drawn.message()) << "; the graph in DOT (" << stem
        << ".dot):</p><pre>" << html_escape(dot) << "</pre>";
    }
    o << " <a href=\"" << stem << ".dot\">DOT</a></div>\n</div>\n</div>\n";
  }
  o << "</section>\n";
  return Status();
}

void sweep(std::ostringstream& o, const ReportInput& in) {
  if (in.seeds.empty()) return;
  o << "<section id=\"sweep\">\n<h2>Seeds</h2>\n<p class=\"hint\">" << in.seeds.size()
    << " seeds: the distribution of per-seed figures.</p>\n";
  std::vector<double> events, messages, faults, virt, wall;
  for (const SeedFigures& s : in.seeds) {
    events.push_back(static_cast<double>(s.history_events));
    messages.push_back(static_cast<double>(s.messages));
    faults.push_back(static_cast<double>(s.faults));
    virt.push_back(s.virtual_s);
    wall.push_back(s.wall_s);
  }
  o << svg_histogram({"dist-messages", "Messages confirmed per seed", "messages", messages, 20})
    << svg_histogram({"dist-faults", "Faults injected per seed", "faults", faults, 20})
    << svg_histogram({"dist-events", "History events per seed", "events", events, 20})
    << svg_histogram({"dist-virtual", "Virtual time per seed", "seconds", virt, 20})
    << svg_histogram({"dist-wall", "Run time per seed (wall clock, checkers included)", "seconds", wall, 20});
  o << "<h3>Failing seeds</h3>\n<table id=\"failing-seeds\" "
       "class=\"seeds\"><thead><tr><th>seed</th><th>first "
       "failure</th><th>reproduce</th></tr></thead><tbody>\n";
  size_t listed = 0, failing = 0;
  for (const SeedFigures& s : in.seeds) {
    if (s.failure.empty()) continue;
    ++failing;
    if (listed++ >= kMaxListedSeeds) continue;
    o << "<tr class=\"fail\"><td class=\"num\">" << s.seed << "</td><td>" << html_escape(s.failure)
      << "</td><td><code class=\"repro\">" << html_escape(s.reproduce)
      << "</code> <button type=\"button\" class=\"copy\">copy</button></td></tr>\n";
  }
  if (failing == 0) o << "<tr><td colspan=\"3\">none: every property held on every seed</td></tr>\n";
  o << "</tbody></table>\n";
  if (failing > kMaxListedSeeds)
    o << "<p class=\"hint\">" << failing - kMaxListedSeeds << " more not listed.</p>\n";
  o << "</section>\n";
}

}  // namespace

std::vector<PropertyRow> rows_from_verdicts(const std::vector<Verdict>& verdicts,
                                            std::optional<uint64_t> seed, const std::string& reproduce) {
  std::vector<PropertyRow> rows;
  for (const Verdict& v : verdicts) {
    PropertyRow r{v.property, 1, v.valid ? 0u : 1u, std::nullopt, v.message, ""};
    if (!v.valid) {
      r.first_failing_seed = seed;
      r.reproduce = reproduce;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

Status write_report(const std::string& dir_name, const ReportInput& in) {
  const fs::path dir(dir_name);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return io_error(dir_name + ": cannot create the report directory: " + ec.message());
  std::ostringstream o;
  head(o, in);
  verdict_table(o, in);
  witnesses(o, in);
  std::optional<HistoryView> view;
  if (in.history != nullptr && !in.history->events.empty()) {
    view = build_history_view(*in.history, in.topology);
    timeline(o, in, *view);
    plots(o, in, *view);
    MQ_RETURN_IF_ERROR(
        write_file(dir / "timeline-data.js", timeline_data_js(*in.history, *view, in.verdicts, in.topology)));
  }
  MQ_RETURN_IF_ERROR(counterexamples(o, in, dir));
  sweep(o, in);
  summary(o, in);
  o << "</main>\n<footer>mqharness report";
  if (in.history != nullptr) o << " of " << html_escape(in.history->source);
  o << "</footer>\n";
  if (view) o << "<script src=\"timeline-data.js\"></script>\n";
  o << "<script src=\"report.js\"></script>\n</body>\n</html>\n";
  MQ_RETURN_IF_ERROR(write_file(dir / "report.css", report_css()));
  MQ_RETURN_IF_ERROR(write_file(dir / "report.js", report_js()));
  return write_file(dir / "index.html", o.str());
}

Status write_history_report(const std::string& dir, const std::string& history_path,
                            const std::vector<Verdict>& verdicts, const TargetInfo& target,
                            const Topology* topology) {
  auto history = read_history(history_path);
  if (!history.ok()) return history.status();
  ReportInput in;
  in.title = target.title;
  in.command_line = target.command_line;
  in.facts = target.facts;
  in.facts.push_back({"history", history_path});
  in.properties = rows_from_verdicts(verdicts, target.seed, target.reproduce);
  in.verdicts = verdicts;
  in.history = &*history;
  in.topology = topology;
  return write_report(dir, in);
}

}  // namespace mq::report
