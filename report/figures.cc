#include "report/figures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "base/check.h"

namespace mq::report {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Names in a fixed order: the topology's first, then as the history shows them.
class NameIndex {
 public:
  size_t at(const std::string& name) {
    auto [it, fresh] = index_.emplace(name, names_.size());
    if (fresh) names_.push_back(name);
    return it->second;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::map<std::string, size_t> index_;
  std::vector<std::string> names_;
};

bool finishes(const HistoryEvent& e) {
  if (e.type != EventType::kOk) return false;
  return (e.f == EventF::kAck) || e.f == EventF::kExpire || e.f == EventF::kDeadLetter ||
         e.f == EventF::kLost || e.f == EventF::kDeadLetterRefused;
}

bool accepts(const HistoryEvent& e) {
  return e.f == EventF::kPublish && e.type == EventType::kOk;
}

// Per-bin maxima of a running count per name.
struct RunningMax {
  std::vector<int64_t> now;
  std::vector<std::vector<double>> max;  // [name][bin]
  void grow(size_t names, size_t bins) {
    while (now.size() < names) {
      now.push_back(0);
      max.emplace_back(bins, 0.0);
    }
  }
  void change(size_t name, int64_t delta, size_t bin) {
    now[name] += delta;
    if (now[name] < 0) now[name] = 0;  // a finish of a message accepted before the history began
    max[name][bin] = std::max(max[name][bin], static_cast<double>(now[name]));
  }
  // A bin with no change holds the count carried in from before.
  void carry(size_t bin) {
    for (size_t n = 0; n < now.size(); ++n) max[n][bin] = std::max(max[n][bin], static_cast<double>(now[n]));
  }
};

NamedSeries named(const NameIndex& names, std::vector<std::vector<double>> series, size_t bins) {
  NamedSeries out;
  for (size_t i = 0; i < names.names().size(); ++i) {
    out.emplace_back(names.names()[i],
                     i < series.size() ? std::move(series[i]) : std::vector<double>(bins, 0.0));
  }
  return out;
}

}  // namespace

double Figures::bin_start_s(size_t bin) const {
  return static_cast<double>(start_ns + static_cast<TimeNs>(bin) * bin_ns) / 1e9;
}

double percentile(std::vector<double>& values, double p) {
  MQ_CHECK(p > 0 && p <= 100);
  if (values.empty()) return kNaN;
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  const size_t k = std::min(values.size(), std::max<size_t>(rank, 1)) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

Figures compute_figures(const History& history, const HistoryView& view, const Topology* topology,
                        size_t bins) {
  MQ_CHECK(bins >= 1);
  Figures f;
  f.bins = bins;
  f.start_ns = view.start_ns;
  f.bin_ns = std::max<TimeNs>(
      1, (view.end_ns - view.start_ns + static_cast<TimeNs>(bins)) / static_cast<TimeNs>(bins));
  const auto bin_of = [&](TimeNs t) {
    return std::min(bins - 1, static_cast<size_t>((t - f.start_ns) / f.bin_ns));
  };
  f.published.assign(bins, 0);
  f.delivered.assign(bins, 0);
  f.acked.assign(bins, 0);
  NameIndex queues, consumers;
  if (topology != nullptr) {
    for (const auto& q : topology->queues) queues.at(q.name);
    for (const auto& c : topology->consumers) consumers.at(c.name);
  }
  std::map<std::string, TimeNs> accepted_at;  // live message key -> acceptance time
  std::map<std::string, size_t> queue_of;     // live message key -> queue index
  std::set<std::string> done;                 // finished keys (a late event does not revive them)
  std::vector<std::vector<double>> latencies(bins);
  std::vector<std::vector<double>> load;
  RunningMax depth, held;
  // Holds start and end at event indices: walk them beside the events. The lane is
  // stored as lane + 1, negative for an end.
  std::vector<std::pair<uint64_t, int>> hold_delta;
  for (const Hold& h : view.holds) {
    hold_delta.emplace_back(h.from, static_cast<int>(h.lane) + 1);
    hold_delta.emplace_back(h.to, -(static_cast<int>(h.lane) + 1));
  }
  std::stable_sort(hold_delta.begin(), hold_delta.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t next_hold = 0;
  size_t last_bin = 0;
  for (const HistoryEvent& e : history.events) {
    const size_t bin = bin_of(e.time_ns);
    for (size_t b = last_bin + 1; b <= bin; ++b) {
      depth.carry(b);
      held.carry(b);
    }
    last_bin = bin;
    for (; next_hold < hold_delta.size() && hold_delta[next_hold].first == e.index; ++next_hold) {
      const int d = hold_delta[next_hold].second;
      const std::string& who = view.lanes[static_cast<size_t>(std::abs(d) - 1)];
      const size_t c = consumers.at(who);
      held.grow(consumers.names().size(), bins);
      held.change(c, d > 0 ? 1 : -1, bin);
    }
    const std::string key = message_key(e);
    if (key.empty()) continue;
    const size_t q = queues.at(e.queue);
    depth.grow(queues.names().size(), bins);
    if (e.f == EventF::kDeliver && e.type == EventType::kOk) {
      f.delivered[bin] += 1;
      const size_t c = consumers.at(e.consumer);
      while (load.size() <= c) load.emplace_back(bins, 0.0);
      load[c][bin] += 1;
    }
    if (e.f == EventF::kAck && e.type == EventType::kOk) f.acked[bin] += 1;
    if (done.count(key) > 0) continue;
    // Accepted at its publish's ok (at the broker's stamp when it has one), or at its
    // first sighting when the history shows the message before that ok.
    if (accepted_at.count(key) == 0 && e.type == EventType::kOk) {
      accepted_at[key] = accepts(e) && e.timestamp_ns ? *e.timestamp_ns : e.time_ns;
      queue_of[key] = q;
      if (accepts(e) && e.is_client()) f.published[bin] += 1;
      ++f.accepted;
      depth.change(q, 1, bin);
    }
    if (finishes(e) && accepted_at.count(key) > 0) {
      latencies[bin].push_back(static_cast<double>(e.time_ns - accepted_at[key]) / 1e6);
      depth.change(queue_of[key], -1, bin);
      accepted_at.erase(key);
      queue_of.erase(key);
      done.insert(key);
      ++f.finished;
    }
  }
  for (size_t b = last_bin + 1; b < bins; ++b) {
    depth.carry(b);
    held.carry(b);
  }
  const double per_s = 1e9 / static_cast<double>(f.bin_ns);
  for (size_t b = 0; b < bins; ++b) {
    f.published[b] *= per_s;
    f.delivered[b] *= per_s;
    f.acked[b] *= per_s;
    f.p50_ms.push_back(percentile(latencies[b], 50));
    f.p90_ms.push_back(percentile(latencies[b], 90));
    f.p99_ms.push_back(percentile(latencies[b], 99));
    f.max_ms.push_back(percentile(latencies[b], 100));
  }
  f.depth = named(queues, std::move(depth.max), bins);
  f.in_flight = named(consumers, std::move(held.max), bins);
  for (size_t c = 0; c < consumers.names().size(); ++c) {
    double total = 0;
    if (c < load.size()) {
      for (double x : load[c]) total += x;
    }
    f.total_load.emplace_back(consumers.names()[c], static_cast<uint64_t>(total));
  }
  f.load = named(consumers, std::move(load), bins);
  return f;
}

}  // namespace mq::report
