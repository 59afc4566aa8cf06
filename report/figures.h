#pragma once
// Figures: the time series the report plots, computed from a history in bins of
// equal virtual time:
//  - throughput: publishes accepted, deliveries, acks per second;
//  - latency: percentiles (p50, p90, p99, max) of a message's time from acceptance to
//    finish (ack, expiry, dead-letter, loss), over the messages finished in the bin;
//  - depth per queue: the most messages accepted and not yet finished (ready, delayed
//    or in flight) at any point of the bin;
//  - in flight per consumer: the most deliveries it held at once in the bin (the
//    HistoryView's holds);
//  - load per consumer: deliveries to it in the bin, and in all (what the
//    load-balance property compares).
//
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "model/history.h"
#include "report/history_view.h"

namespace mq::report {

// Bins of a history's figures; a plot wider than this gains nothing on a screen.
inline constexpr size_t kDefaultBins = 240;

using NamedSeries = std::vector<std::pair<std::string, std::vector<double>>>;

struct Figures {
  TimeNs start_ns = 0;
  TimeNs bin_ns = 1;
  size_t bins = 0;
  std::vector<double> published, delivered, acked;     // per second
  std::vector<double> p50_ms, p90_ms, p99_ms, max_ms;  // NaN: nothing finished in the bin
  NamedSeries depth;      // queue -> max depth in the bin (queues in topology order, then as seen)
  NamedSeries in_flight;  // consumer -> max held at once in the bin
  NamedSeries load;       // consumer -> deliveries in the bin
  std::vector<std::pair<std::string, uint64_t>> total_load;  // consumer -> deliveries in all
  uint64_t accepted = 0, finished = 0;
  double bin_start_s(size_t bin) const;  // seconds of virtual time
};

// REQUIRES: bins >= 1; `view` built from `history`.
Figures compute_figures(const History& history, const HistoryView& view, const Topology* topology,
                        size_t bins = kDefaultBins);

// The p-th percentile (0 < p <= 100) of `values` by nearest rank; NaN when empty.
// Reorders `values`.
double percentile(std::vector<double>& values, double p);

}  // namespace mq::report
