// Charts for the planner's page: SVG line charts with 80 % / 95 % bands, a target line and
// observed points. Written for this page (no library, nothing fetched): Charts.draw(el, spec).
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  const W = 480, H = 250, M = { l: 62, r: 12, t: 10, b: 26 };

  // one SVG element with attributes, appended to parent
  function node(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // 4-7 round tick values covering [lo, hi]
  function ticks(lo, hi, n) {
    const span = hi - lo || Math.abs(hi) || 1;
    const raw = span / (n || 5);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= (n || 5) + 1);
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }

  // a number for an axis or a table: grouped thousands, decimals by size
  function fmt(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    const a = Math.abs(v);
    const d = digits !== undefined ? digits : a >= 1000 ? 0 : a >= 100 ? 1 : a >= 1 ? 2 : 3;
    return v.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: d });
  }

  function finite(v) { return v !== null && v !== undefined && isFinite(v); }

  // spec: {series: [{label, color, x, mean, lo80, hi80, lo95, hi95, dash, width}],
  //        hline: {value, label}, points: [{x, y, label}], xmark: {x, label}, yZero: bool,
  //        ylabel: string, legend: element}
  function draw(container, spec) {
    container.textContent = "";
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" }, container);
    if (spec.title) node("title", {}, svg).textContent = spec.title;
    const xs = [], ys = [];
    for (const s of spec.series) {
      s.x.forEach((x, i) => {
        xs.push(x);
        for (const k of ["mean", "lo80", "hi80", "lo95", "hi95"]) if (s[k] && finite(s[k][i])) ys.push(s[k][i]);
      });
    }
    for (const p of spec.points || []) { xs.push(p.x); ys.push(p.y); }
    if (spec.hline && finite(spec.hline.value)) ys.push(spec.hline.value);
    if (!xs.length || !ys.length) {
      node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = "—";
      return svg;
    }
    let x0 = Math.min(...xs), x1 = Math.max(...xs);
    if (x0 === x1) { x0 -= 1; x1 += 1; }
    let y0 = Math.min(...ys), y1 = Math.max(...ys);
    if (spec.yZero) y0 = Math.min(0, y0);
    const pad = (y1 - y0) * 0.06 || Math.abs(y1) * 0.05 || 1;
    y0 = spec.yZero && y0 >= 0 ? 0 : y0 - pad;
    y1 += pad;
    const X = (v) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
    const Y = (v) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
    const axes = node("g", { class: "axes" }, svg);
    for (const t of ticks(y0, y1, 5)) {
      node("line", { x1: M.l, x2: W - M.r, y1: Y(t), y2: Y(t), class: "grid" }, axes);
      node("text", { x: M.l - 6, y: Y(t) + 4, "text-anchor": "end" }, axes).textContent = fmt(t);
    }
    const xstep = Math.max(1, Math.ceil((x1 - x0) / 8));
    for (let t = Math.ceil(x0); t <= x1; t += xstep) {
      node("text", { x: X(t), y: H - 8, "text-anchor": "middle" }, axes).textContent = String(t);
    }
    node("line", { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, class: "axis" }, axes);
    node("line", { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, class: "axis" }, axes);
    if (spec.xmark && spec.xmark.x >= x0 && spec.xmark.x <= x1) {
      node("line", { x1: X(spec.xmark.x), x2: X(spec.xmark.x), y1: M.t, y2: H - M.b, class: "xmark" }, svg);
    }
    const band = (s, lo, hi, cls) => {
      const idx = s.x.map((_, i) => i).filter((i) => finite(s[lo][i]) && finite(s[hi][i]));
      if (idx.length < 2) return;
      const up = idx.map((i) => `${X(s.x[i]).toFixed(1)},${Y(s[hi][i]).toFixed(1)}`);
      const down = idx.slice().reverse().map((i) => `${X(s.x[i]).toFixed(1)},${Y(s[lo][i]).toFixed(1)}`);
      node("path", { d: `M${up.join("L")}L${down.join("L")}Z`, fill: s.color, class: cls }, svg);
    };
    for (const s of spec.series) {
      if (s.lo95 && s.hi95) band(s, "lo95", "hi95", "band95");
      if (s.lo80 && s.hi80) band(s, "lo80", "hi80", "band80");
    }
    if (spec.hline && finite(spec.hline.value)) {
      const y = Y(spec.hline.value);
      node("line", { x1: M.l, x2: W - M.r, y1: y, y2: y, class: "target" }, svg);
      node("text", { x: W - M.r - 2, y: y - 4, "text-anchor": "end", class: "target-label" }, svg)
        .textContent = spec.hline.label;
    }
    for (const s of spec.series) {
      const pts = s.x.map((x, i) => [x, s.mean[i]]).filter((p) => finite(p[1]));
      if (!pts.length) continue;
      const d = "M" + pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join("L");
      const path = node("path", {
        d, stroke: s.color, class: "line" + (s.dash ? " dash" : "") + (s.thin ? " thin" : ""),
        "data-series": s.key || s.label,
      }, svg);
      node("title", {}, path).textContent = s.label;
    }
    for (const p of spec.points || []) {
      const c = node("circle", { cx: X(p.x), cy: Y(p.y), r: 4, class: "observed" }, svg);
      node("title", {}, c).textContent = `${p.label}: ${fmt(p.y)} (${p.x})`;
    }
    if (spec.legend) legend(spec.legend, spec);
    return svg;
  }

  // the legend below a chart (HTML, so it wraps and takes either language)
  function legend(el, spec) {
    el.textContent = "";
    const add = (cls, color, text) => {
      const item = document.createElement("span");
      item.className = "key";
      const sw = document.createElement("i");
      sw.className = cls;
      if (color) sw.dataset.color = color;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(text));
      el.appendChild(item);
      if (color) sw.style.background = color;
    };
    for (const s of spec.series) if (s.label) add("sw-line" + (s.dash ? " dash" : ""), s.color, s.label);
    for (const extra of spec.keys || []) add(extra.cls, extra.color, extra.text);
  }

  window.Charts = { draw, fmt };
})();
