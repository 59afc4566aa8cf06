// mqharness report: the timeline of a history, witness links, copy buttons.
// Written for this project, no library. Reads window.MQ_TIMELINE (timeline-data.js,
// written by report/timeline_data.cc); draws into #timeline.
//
// Windowing: whatever the zoom, each lane is drawn as a few <path> elements whose
// sub-paths are runs of covered pixel columns, so the DOM stays proportional to the
// screen's width, not to the history's length (65,000 events and more). Individual
// elements exist only for what a person points at: witness events, the selected
// message's life, fault windows in view.
(function () {
  'use strict';
  // When each phase ended, in ms since navigation start (tests print them).
  const timing = window.mqReportTiming = { script: performance.now() };

  const SVG = 'http://www.w3.org/2000/svg';
  const TYPES = ['invoke', 'ok', 'fail', 'info'];
  const LABEL_W = 96;      // px of lane labels
  const LANE_H = 22;       // px per lane
  const AXIS_H = 22;       // px of the time axis
  const OVERVIEW_H = 36;   // px of the overview strip
  const HIT_PX = 4;        // how near the pointer an event must be to be picked
  const WINDOW_EVENTS = 400; // the initial window around a failure, in events
  const MAX_LIFE_EVENTS = 2000;  // a message's life listed at most this long

  function el(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function html(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  function fmtTime(ns) {
    const a = Math.abs(ns);
    if (a < 1e3) return ns.toFixed(0) + ' ns';
    if (a < 1e6) return (ns / 1e3).toFixed(2) + ' us';
    if (a < 1e9) return (ns / 1e6).toFixed(3) + ' ms';
    return (ns / 1e9).toFixed(4) + ' s';
  }

  // A tick's label: the unit of its magnitude, with the decimals its step needs.
  function fmtTick(ns, step) {
    const units = [[1e9, ' s'], [1e6, ' ms'], [1e3, ' us'], [1, ' ns']];
    for (const u of units) {
      if (Math.abs(ns) >= u[0] || u[0] === 1) {
        const decimals = Math.max(0, Math.min(9, Math.ceil(-Math.log10(step / u[0]))));
        return (ns / u[0]).toFixed(decimals) + u[1];
      }
    }
    return ns + ' ns';
  }

  function niceStep(span, want) {
    const raw = span / want;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (mag * m >= raw) return mag * m;
    return mag * 10;
  }

  // ---- copy buttons (any report) ----
  function setupCopyButtons() {
    for (const b of document.querySelectorAll('button.copy')) {
      b.addEventListener('click', function () {
        const code = b.parentNode.querySelector('code.repro');
        if (!code) return;
        const range = document.createRange();
        range.selectNodeContents(code);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        let ok = false;
        try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
        b.textContent = ok ? 'copied' : 'selected: press Ctrl-C';
      });
    }
  }

  function markReady() {
    window.mqReportReady = performance.now();
    document.body.setAttribute('data-ready', '1');
    document.body.setAttribute('data-ready-ms', String(Math.round(window.mqReportReady)));
  }

  setupCopyButtons();
  const D = window.MQ_TIMELINE;
  const root = document.getElementById('timeline');
  if (!D || !root) { markReady(); return; }

  // ---- the data, indexed once ----
  // Decoding (report/timeline_data.h): small columns come as strings of characters.
  const S = D.strings;
  const N = D.dt.length;
  function small(x) {
    if (typeof x !== 'string') return Int32Array.from(x);
    const a = new Int32Array(x.length);
    for (let i = 0; i < x.length; i++) a[i] = x.charCodeAt(i) - 36;
    return a;
  }
  for (const k of ['lane', 'type', 'f', 'q', 'c', 'att']) D[k] = small(D[k]);
  D.t = new Float64Array(N);
  for (let i = 0, t = 0; i < N; i++) { t += D.dt[i]; D.t[i] = t; }
  if (D.id_hi !== undefined) {
    const hi = small(D.id_hi);
    D.id = new Array(N);
    for (let i = 0; i < N; i++) D.id[i] = hi[i] < 0 ? -1 : hi[i] * 4294967296 + D.id_lo[i];
  }
  function starts(d) {
    const a = new Int32Array(d.length);
    for (let k = 0, x = 0; k < d.length; k++) { x += d[k]; a[k] = x; }
    return a;
  }
  D.op_inv = starts(D.op_inv_d);
  D.op_end = new Int32Array(D.op_inv.length);
  for (let k = 0; k < D.op_inv.length; k++) D.op_end[k] = D.op_len[k] < 0 ? -1 : D.op_inv[k] + D.op_len[k];
  D.hold_from = starts(D.hold_from_d);
  D.hold_to = new Int32Array(D.hold_from.length);
  for (let k = 0; k < D.hold_from.length; k++) D.hold_to[k] = D.hold_from[k] + D.hold_len[k];
  D.err = new Int32Array(N).fill(-1);
  for (let k = 0; k < D.err_at.length; k++) D.err[D.err_at[k]] = D.err_s[k];
  const LANES = D.lanes.length;
  const fIndex = {};
  for (let i = 0; i < S.length; i++) if (fIndex[S[i]] === undefined) fIndex[S[i]] = i;
  const F_DEADLETTER = fIndex['dead-letter'];
  const isFault = {};
  for (const f of ['partition', 'partition-end', 'clog', 'clog-end', 'consumer-crash', 'consumer-restart']) {
    isFault[fIndex[f]] = true;
  }
  // Per lane: operations (as indices into op_inv) and single events (broker, nemesis).
  const opsOf = [], instOf = [], holdsOf = [];
  for (let l = 0; l < LANES; l++) { opsOf.push([]); instOf.push([]); holdsOf.push([]); }
  for (let k = 0; k < D.op_inv.length; k++) opsOf[D.lane[D.op_inv[k]]].push(k);
  const inOp = new Uint8Array(N);
  for (let k = 0; k < D.op_inv.length; k++) {
    inOp[D.op_inv[k]] = 1;
    if (D.op_end[k] >= 0) inOp[D.op_end[k]] = 1;
  }
  for (let i = 0; i < N; i++) if (!inOp[i]) instOf[D.lane[i]].push(i);
  for (let k = 0; k < D.hold_from.length; k++) holdsOf[D.hold_lane[k]].push(k);
  const witnessOf = {};  // event index -> [property...]
  for (const w of D.witness) for (const i of w.events) (witnessOf[i] = witnessOf[i] || []).push(w.property);
  const witnessEvents = Object.keys(witnessOf).map(Number).sort(function (a, b) { return a - b; });
  timing.indexed = performance.now();

  function opEndIndex(k) { return D.op_end[k] >= 0 ? D.op_end[k] : N - 1; }
  function opClass(k) { return D.op_end[k] >= 0 ? TYPES[D.type[D.op_end[k]]] : 'info'; }

  function describe(i) {
    const f = S[D.f[i]];
    const parts = ['#' + i + (D.lines ? ' (line ' + (i + 1) + ')' : ''), fmtTime(D.t[i]), D.lanes[D.lane[i]],
      TYPES[D.type[i]], f];
    if (D.q[i] >= 0) parts.push('queue=' + S[D.q[i]]);
    if (D.id[i] !== -1) parts.push('id=' + D.id[i]);
    if (D.c[i] >= 0) parts.push((isFault[D.f[i]] ? 'node=' : 'consumer=') + S[D.c[i]]);
    if (D.att[i] > 0) parts.push('attempts=' + D.att[i]);
    if (D.err[i] >= 0) parts.push('error=' + S[D.err[i]]);
    if (witnessOf[i]) parts.push('WITNESS of ' + witnessOf[i].join(', '));
    return parts.join(' ');
  }

  // ---- the DOM ----
  const toolbar = html('div', { class: 'tl-toolbar' }, root);
  function button(label, title, fn) {
    const b = html('button', { type: 'button', title: title }, toolbar, label);
    b.addEventListener('click', fn);
    return b;
  }
  const range = html('span', { class: 'tl-range' });
  const legend = html('span', { class: 'tl-legend' });
  for (const c of ['ok', 'fail', 'info']) html('span', { class: 'key ' + c }, legend, c);
  html('span', { class: 'key hold' }, legend, 'held by consumer');
  html('span', { class: 'key fault' }, legend, 'fault window');
  html('span', { class: 'key witness' }, legend, 'witness');

  const overview = el('svg', { class: 'tl-overview', height: OVERVIEW_H }, root);
  const main = el('svg', { class: 'tl-main', height: AXIS_H + LANES * LANE_H + 4 }, root);
  const tooltip = html('div', { class: 'tl-tooltip', hidden: '' }, root);
  const gFaults = el('g', { class: 'tl-faults' }, main);
  const gAxis = el('g', { class: 'tl-axis' }, main);
  const lanes = [];
  for (let l = 0; l < LANES; l++) {
    const y = AXIS_H + l * LANE_H;
    const g = el('g', { class: 'lane lane-' + D.lane_kind[l], 'data-process': D.lanes[l], 'data-lane': l,
      transform: 'translate(0,' + y + ')' }, main);
    el('rect', { class: 'lane-bg', x: 0, y: 0, height: LANE_H, width: 10 }, g);
    const label = el('text', { class: 'lane-label', x: 6, y: LANE_H / 2 + 4 }, g);
    label.textContent = D.lanes[l];
    lanes.push({
      g: g,
      bg: g.firstChild,
      hold: el('path', { class: 'holds' }, g),
      ok: el('path', { class: 'ops ok' }, g),
      info: el('path', { class: 'ops info' }, g),
      fail: el('path', { class: 'ops fail' }, g),
      inst: el('path', { class: 'instants' }, g),
    });
  }
  const gWitness = el('g', { class: 'tl-witness' }, main);
  const gLife = el('g', { class: 'tl-life' }, main);
  const cursor = el('line', { class: 'tl-cursor', y1: AXIS_H, y2: AXIS_H + LANES * LANE_H }, main);
  const witnessMarks = [];
  for (const i of witnessEvents) {
    const m = el('rect', { class: 'witness', 'data-event': i, 'data-property': witnessOf[i].join(' '),
      id: 'witness-' + i, width: 9, height: LANE_H - 4, rx: 2 }, gWitness);
    const t = el('title', {}, m);
    t.textContent = describe(i);
    m.addEventListener('click', function (ev) { ev.stopPropagation(); focusEvent(i, true); });
    witnessMarks.push({ i: i, m: m });
  }

  // ---- the view ----
  // The deepest zoom: 1 us across the screen, or a quarter of a very short history.
  const MIN_SPAN_NS = Math.max(10, Math.min(1000, (D.end - D.start) / 4));
  // A margin of 2% on both ends, so that the first and last events are not on the edge.
  const MARGIN = Math.max(1, (D.end - D.start) * 0.02);
  const T0 = D.start - MARGIN, T1 = Math.max(D.end, D.start + MIN_SPAN_NS) + MARGIN;
  let v0 = T0, v1 = T1, width = 800, plotW = 700;
  let life = [];       // selected message's events
  let flash = -1;      // the event focused last
  let pending = false;

  function x(t) { return LABEL_W + (t - v0) / (v1 - v0) * plotW; }
  function tAt(px) { return v0 + (px - LABEL_W) / plotW * (v1 - v0); }

  function setView(a, b) {
    let span = Math.max(MIN_SPAN_NS, b - a);
    span = Math.min(span, T1 - T0);
    a = Math.max(T0, Math.min(a, T1 - span));
    v0 = a; v1 = a + span;
    schedule();
  }
  function schedule() {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; render(); });
  }

  // Covered pixel columns, as runs, as one path: the windowing of every lane.
  function Runs(w) { this.cols = new Uint8Array(w + 2); this.w = w; }
  Runs.prototype.add = function (x0, x1) {
    let a = Math.floor(x0 - LABEL_W), b = Math.ceil(x1 - LABEL_W);
    if (b < 0 || a > this.w) return;
    a = Math.max(0, a); b = Math.min(this.w, Math.max(b, a + 1));
    this.cols.fill(1, a, b);
  };
  Runs.prototype.path = function (y, h) {
    let d = '';
    for (let c = 0; c <= this.w; c++) {
      if (!this.cols[c]) continue;
      let e = c;
      while (e <= this.w && this.cols[e]) e++;
      d += 'M' + (LABEL_W + c) + ' ' + y + 'h' + (e - c) + 'v' + h + 'h' + (c - e) + 'z';
      c = e;
    }
    return d;
  };

  // The first element of `list` (sorted by time(k)) with time >= t.
  function lowerBound(list, time, t) {
    let lo = 0, hi = list.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (time(list[mid]) < t) lo = mid + 1; else hi = mid; }
    return lo;
  }
  function opStart(k) { return D.t[D.op_inv[k]]; }
  function evTime(i) { return D.t[i]; }

  function renderLane(l) {
    const L = lanes[l];
    const runs = { ok: new Runs(plotW), info: new Runs(plotW), fail: new Runs(plotW) };
    const ops = opsOf[l];
    // Operations of one process never overlap: the one before the window may reach into it.
    for (let j = Math.max(0, lowerBound(ops, opStart, v0) - 1); j < ops.length; j++) {
      const k = ops[j];
      const s = D.t[D.op_inv[k]];
      if (s > v1) break;
      const e = D.t[opEndIndex(k)];
      if (e < v0) continue;
      runs[opClass(k)].add(x(s), Math.max(x(e), x(s) + 2));
    }
    L.ok.setAttribute('d', runs.ok.path(5, LANE_H - 10));
    L.info.setAttribute('d', runs.info.path(5, LANE_H - 10));
    L.fail.setAttribute('d', runs.fail.path(5, LANE_H - 10));
    const inst = new Runs(plotW);
    const evs = instOf[l];
    for (let j = lowerBound(evs, evTime, v0); j < evs.length && D.t[evs[j]] <= v1; j++) {
      const px = x(D.t[evs[j]]);
      inst.add(px, px + 2);
    }
    L.inst.setAttribute('d', inst.path(3, LANE_H - 6));
    const hold = new Runs(plotW);
    for (const k of holdsOf[l]) {
      const a = D.t[D.hold_from[k]], b = D.t[D.hold_to[k]];
      if (b < v0 || a > v1) continue;
      hold.add(x(a), Math.max(x(b), x(a) + 1));
    }
    L.hold.setAttribute('d', hold.path(LANE_H - 5, 3));
    L.bg.setAttribute('width', width);
  }

  function renderAxis() {
    while (gAxis.firstChild) gAxis.removeChild(gAxis.firstChild);
    const step = niceStep(v1 - v0, Math.max(2, Math.floor(plotW / 110)));
    for (let t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      const px = x(t);
      el('line', { class: 'grid', x1: px, x2: px, y1: AXIS_H - 4, y2: AXIS_H + LANES * LANE_H }, gAxis);
      const label = el('text', { class: 'tick', x: px + 2, y: AXIS_H - 8 }, gAxis);
      label.textContent = fmtTick(t, step);
    }
  }

  function renderFaults() {
    while (gFaults.firstChild) gFaults.removeChild(gFaults.firstChild);
    for (const w of D.windows) {
      if (w.to_ns < v0 || w.from_ns > v1) continue;
      const x0 = Math.max(LABEL_W, x(w.from_ns)), x1 = Math.min(width, Math.max(x(w.to_ns), x0 + 2));
      const kind = w.kind.replace(/ /g, '-');
      const r = el('rect', { class: 'fault k-' + kind, x: x0, y: AXIS_H, width: x1 - x0, height: LANES * LANE_H },
        gFaults);
      const t = el('title', {}, r);
      t.textContent = w.kind + (w.node ? ' ' + w.node : '') + ': ' + fmtTime(w.from_ns) + ' .. ' +
        (w.to >= 0 ? fmtTime(w.to_ns) : 'the end (not healed)');
      const lane = D.lanes.indexOf(w.node);
      if (lane >= 0) {
        el('rect', { class: 'fault-node k-' + kind, x: x0, y: AXIS_H + lane * LANE_H, width: x1 - x0,
          height: LANE_H }, gFaults);
      }
    }
    for (const f of D.instants) {
      if (f.t < v0 || f.t > v1) continue;
      const r = el('rect', { class: 'fault-instant', x: x(f.t) - 1, y: AXIS_H, width: 2, height: LANES * LANE_H },
        gFaults);
      el('title', {}, r).textContent = f.kind + ' at ' + fmtTime(f.t);
    }
  }

  function placeMark(m, i) {
    const t = D.t[i];
    const visible = t >= v0 && t <= v1;
    m.setAttribute('display', visible ? 'inline' : 'none');
    m.setAttribute('x', x(t) - 4);
    m.setAttribute('y', AXIS_H + D.lane[i] * LANE_H + 2);
  }

  function renderLife() {
    while (gLife.firstChild) gLife.removeChild(gLife.firstChild);
    let d = '';
    for (const i of life) {
      const px = x(D.t[i]), py = AXIS_H + D.lane[i] * LANE_H + LANE_H / 2;
      d += (d ? 'L' : 'M') + px + ' ' + py;
    }
    if (d) el('path', { class: 'life-line', d: d }, gLife);
    for (const i of life) {
      const c = el('circle', { class: 'life-event t-' + TYPES[D.type[i]], 'data-event': i, r: 4,
        cx: x(D.t[i]), cy: AXIS_H + D.lane[i] * LANE_H + LANE_H / 2 }, gLife);
      el('title', {}, c).textContent = describe(i);
    }
    if (flash >= 0) {
      el('circle', { class: 'focus', r: 9, cx: x(D.t[flash]), cy: AXIS_H + D.lane[flash] * LANE_H + LANE_H / 2 },
        gLife);
    }
  }

  let overviewDrawn = false;
  const ovView = el('rect', { class: 'ov-view', y: 0, height: OVERVIEW_H }, overview);
  function renderOverview() {
    const ox = function (t) { return LABEL_W + (t - T0) / (T1 - T0) * plotW; };
    if (!overviewDrawn) {
      overviewDrawn = true;
      const cols = new Float64Array(plotW + 1);
      for (let i = 0; i < N; i++) cols[Math.min(plotW, Math.floor(ox(D.t[i]) - LABEL_W))] += 1;
      let top = 1;
      for (const c of cols) top = Math.max(top, c);
      let d = '';
      for (let c = 0; c <= plotW; c++) {
        if (!cols[c]) continue;
        const h = Math.max(1, Math.sqrt(cols[c] / top) * (OVERVIEW_H - 6));
        d += 'M' + (LABEL_W + c) + ' ' + (OVERVIEW_H - 2) + 'v' + (-h) + 'h1v' + h + 'z';
      }
      for (const w of D.windows) {
        el('rect', { class: 'fault k-' + w.kind.replace(/ /g, '-'), x: ox(w.from_ns), y: 0,
          width: Math.max(1, ox(w.to_ns) - ox(w.from_ns)), height: OVERVIEW_H }, overview);
      }
      el('path', { class: 'ov-density', d: d }, overview);
      for (const i of witnessEvents) {
        el('rect', { class: 'ov-witness', x: ox(D.t[i]) - 1, y: 0, width: 2, height: OVERVIEW_H }, overview);
      }
      el('text', { class: 'lane-label', x: 6, y: OVERVIEW_H / 2 + 4 }, overview).textContent = 'whole run';
      overview.appendChild(ovView);
    }
    ovView.setAttribute('x', ox(v0));
    ovView.setAttribute('width', Math.max(2, ox(v1) - ox(v0)));
  }

  function render() {
    width = Math.max(320, root.clientWidth || 800);
    plotW = width - LABEL_W - 8;
    main.setAttribute('width', width);
    overview.setAttribute('width', width);
    renderFaults();
    renderAxis();
    for (let l = 0; l < LANES; l++) renderLane(l);
    for (const w of witnessMarks) placeMark(w.m, w.i);
    renderLife();
    renderOverview();
    range.textContent = fmtTime(v0) + ' .. ' + fmtTime(v1) + ' (' + fmtTime(v1 - v0) + ')';
  }

  // ---- picking ----
  function pick(px, lane) {
    const t0 = tAt(px - HIT_PX), t1 = tAt(px + HIT_PX), t = tAt(px);
    let best = -1, bestD = Infinity;
    function consider(i) { const d = Math.abs(D.t[i] - t); if (d < bestD) { bestD = d; best = i; } }
    const ops = opsOf[lane];
    for (let j = Math.max(0, lowerBound(ops, opStart, t0) - 1); j < ops.length; j++) {
      const k = ops[j];
      if (D.t[D.op_inv[k]] > t1) break;
      if (D.t[opEndIndex(k)] < t0) continue;
      consider(D.op_end[k] >= 0 ? D.op_end[k] : D.op_inv[k]);
    }
    const evs = instOf[lane];
    for (let j = lowerBound(evs, evTime, t0); j < evs.length && D.t[evs[j]] <= t1; j++) consider(evs[j]);
    if (best < 0) {
      for (const k of holdsOf[lane]) {
        if (D.t[D.hold_from[k]] <= t && D.t[D.hold_to[k]] >= t) { best = D.hold_from[k]; break; }
      }
    }
    return best;
  }

  function laneAt(py) { const l = Math.floor((py - AXIS_H) / LANE_H); return l >= 0 && l < LANES ? l : -1; }

  function messageLife(i) {
    if (D.q[i] < 0 || D.id[i] === -1) return [i];
    const out = [];
    let q = D.q[i];
    const id = D.id[i];
    const dlq = D.dlq[S[q]];
    const dq = dlq !== undefined ? S.indexOf(dlq) : -1;
    let deadAt = Infinity;
    for (let j = 0; j < N && out.length < MAX_LIFE_EVENTS; j++) {
      if (D.id[j] !== id) continue;
      if (D.q[j] === q) {
        out.push(j);
        if (D.f[j] === F_DEADLETTER) deadAt = Math.min(deadAt, j);
      } else if (D.q[j] === dq && j > deadAt) {
        out.push(j);
      }
    }
    return out;
  }

  const panel = document.getElementById('life');
  function showLife(i) {
    life = messageLife(i);
    if (!panel) return;
    panel.hidden = false;
    panel.textContent = '';
    const key = D.q[i] >= 0 ? S[D.q[i]] + ' #' + D.id[i] : 'event #' + i;
    html('h3', {}, panel, 'The life of ' + key + ' (' + life.length + ' events)');
    const ol = html('ol', {}, panel);
    for (const j of life) {
      const li = html('li', { class: 't-' + TYPES[D.type[j]] + (witnessOf[j] ? ' witness-row' : '') }, ol);
      const a = html('a', { href: '#event-' + j, 'data-event': j }, li, describe(j));
      a.addEventListener('click', function (ev) { ev.preventDefault(); focusEvent(j, false); });
    }
  }

  // Centers the view on event i with about WINDOW_EVENTS events around it.
  function focusEvent(i, select) {
    if (!(i >= 0 && i < N)) return;
    const a = D.t[Math.max(0, i - WINDOW_EVENTS / 2)], b = D.t[Math.min(N - 1, i + WINDOW_EVENTS / 2)];
    const span = Math.max(MIN_SPAN_NS * 50, b - a);
    flash = i;
    if (select) showLife(i);
    setView(D.t[i] - span / 2, D.t[i] + span / 2);
    for (const r of document.querySelectorAll('tr.current')) r.classList.remove('current');
    const row = document.querySelector('#reproducer tr[data-event="' + i + '"]');
    if (row) row.classList.add('current');
  }

  // ---- interaction ----
  let drag = null;
  main.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, v0: v0, v1: v1, moved: false }; });
  window.addEventListener('mouseup', function () { setTimeout(function () { drag = null; }, 0); });
  main.addEventListener('mousemove', function (ev) {
    const box = main.getBoundingClientRect();
    const px = ev.clientX - box.left, py = ev.clientY - box.top;
    if (drag && (ev.buttons & 1)) {
      const dx = ev.clientX - drag.x;
      if (Math.abs(dx) > 2) drag.moved = true;
      const dt = dx / plotW * (drag.v1 - drag.v0);
      setView(drag.v0 - dt, drag.v1 - dt);
      return;
    }
    cursor.setAttribute('x1', px);
    cursor.setAttribute('x2', px);
    const lane = laneAt(py);
    const i = lane >= 0 && px > LABEL_W ? pick(px, lane) : -1;
    if (i < 0) { tooltip.hidden = true; return; }
    tooltip.hidden = false;
    tooltip.textContent = describe(i);
    tooltip.style.left = Math.min(px + 12, width - 360) + 'px';
    tooltip.style.top = (py + OVERVIEW_H + 40) + 'px';
  });
  main.addEventListener('mouseleave', function () { tooltip.hidden = true; });
  main.addEventListener('click', function (ev) {
    if (drag && drag.moved) return;
    const box = main.getBoundingClientRect();
    const lane = laneAt(ev.clientY - box.top);
    const px = ev.clientX - box.left;
    if (lane < 0 || px <= LABEL_W) return;
    const i = pick(px, lane);
    if (i >= 0) { flash = i; showLife(i); schedule(); }
  });
  main.addEventListener('wheel', function (ev) {
    ev.preventDefault();
    const box = main.getBoundingClientRect();
    const t = tAt(ev.clientX - box.left);
    const k = ev.deltaY > 0 ? 1.25 : 0.8;
    setView(t - (t - v0) * k, t + (v1 - t) * k);
  }, { passive: false });
  function overviewJump(ev) {
    const box = overview.getBoundingClientRect();
    const t = T0 + (ev.clientX - box.left - LABEL_W) / plotW * (T1 - T0);
    const span = v1 - v0;
    setView(t - span / 2, t + span / 2);
  }
  overview.addEventListener('mousedown', overviewJump);
  overview.addEventListener('mousemove', function (ev) { if (ev.buttons & 1) overviewJump(ev); });

  function zoom(k) { const c = (v0 + v1) / 2, h = (v1 - v0) * k / 2; setView(c - h, c + h); }
  let witnessCursor = -1;
  function nextWitness(dir) {
    if (!witnessEvents.length) return;
    witnessCursor = (witnessCursor + dir + witnessEvents.length) % witnessEvents.length;
    focusEvent(witnessEvents[witnessCursor], true);
  }
  button('fit', 'the whole run', function () { setView(T0, T1); });
  button('+', 'zoom in (+)', function () { zoom(0.5); });
  button('\u2212', 'zoom out (-)', function () { zoom(2); });
  if (witnessEvents.length) {
    button('\u25c0 witness', 'previous witness event', function () { nextWitness(-1); });
    button('witness \u25b6', 'next witness event', function () { nextWitness(1); });
  }
  toolbar.appendChild(range);
  toolbar.appendChild(legend);
  window.addEventListener('keydown', function (ev) {
    if (ev.target && (ev.target.tagName === 'INPUT' || ev.target.tagName === 'TEXTAREA')) return;
    if (ev.key === '+' || ev.key === '=') zoom(0.5);
    if (ev.key === '-') zoom(2);
  });
  window.addEventListener('resize', schedule);

  // Links: witness lists, the reproducer table, #event-N in the address.
  document.addEventListener('click', function (ev) {
    const a = ev.target.closest ? ev.target.closest('[data-event]') : null;
    if (!a || main.contains(a)) return;
    const i = Number(a.getAttribute('data-event'));
    if (!(i >= 0)) return;
    ev.preventDefault();
    focusEvent(i, true);
    root.scrollIntoView({ block: 'start' });
    history.replaceState(null, '', '#event-' + i);
  });
  // #event-N: that event; #witness: the first witness event. Both scroll to the timeline.
  function fromHash() {
    const m = /^#event-(\d+)$/.exec(location.hash);
    let i = m ? Number(m[1]) : -1;
    if (location.hash === '#witness' && witnessEvents.length) { witnessCursor = 0; i = witnessEvents[0]; }
    if (i < 0) return false;
    focusEvent(i, true);
    root.scrollIntoView({ block: 'start' });
    return true;
  }
  window.addEventListener('hashchange', fromHash);

  // The first view: around the first witness (the failure), else the whole run.
  if (!fromHash()) {
    if (witnessEvents.length) { witnessCursor = 0; focusEvent(witnessEvents[0], true); } else setView(T0, T1);
  }
  render();
  timing.rendered = performance.now();
  markReady();
})();
