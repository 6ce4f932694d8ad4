// The planner's page: builds the controls from /api/meta, asks /api/scenario on every change
// (debounced, the previous request cancelled), draws the answer, switches zh/en without asking
// the server again. Errors are shown beside the lever they name; never a traceback.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  let META = null;      // /api/meta: levers, presets, areas, words
  let LANG = "en";
  let LAST = null;      // last good answer (kept on screen when a lever is invalid)
  let LAST_BODY = null; // the request that produced LAST (downloads, save)
  let inflight = null;  // AbortController of the running request
  let timer = null;
  const STEPS = { fertility_multiplier: 0.05, migration_multiplier: 0.1, attrition: 0.005,
    hires_per_year: 50, class_size_cap_primary: 1, class_size_cap_junior: 1,
    reach_targets_by: 1, end_year: 1, draws: 10, seed: 1 };
  const SLIDERS = ["fertility_multiplier", "migration_multiplier"];
  const LEVEL_COLORS = { preschool: "#8e5ea2", primary: "#1f77b4", junior: "#2ca02c",
    senior_general: "#d62728", secondary_vocational: "#ff7f0e", compulsory: "#1f77b4" };
  const AREA_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22"];
  const SIGN = { at_least: "≥", at_most: "≤", about: "≈" };
  const fmt = (v, d) => window.Charts.fmt(v, d);

  // the word for key in the current language (the key itself when unknown)
  function t(key) { return (META && META.text[LANG][key]) || key; }

  // a target or indicator id in words (plan ids without a label: the table's Chinese name)
  function indName(id, zh) {
    const w = t(id);
    if (w !== id) return w;
    return LANG === "zh" && zh ? zh : id.replace(/_/g, " ");
  }

  function areaName(code) {
    const a = META.areas.find((x) => x.code === code);
    return a ? a[LANG] : code;
  }

  function option(sel, value, text) {
    const o = document.createElement("option");
    o.value = value; o.textContent = text; sel.appendChild(o);
  }

  // ---- controls ---------------------------------------------------------------------------
  function buildControls() {
    for (const name of Object.keys(META.presets)) option($("preset"), name, name);
    for (const a of META.areas) option($("area"), a.code, a.code);
    const form = $("levers");
    for (const name of META.lever_order) {
      const lv = META.levers[name];
      const box = document.createElement("div");
      box.className = "lever"; box.id = "box-" + name;
      const lab = document.createElement("label");
      lab.htmlFor = "lv-" + name; lab.dataset.lever = name;
      box.appendChild(lab);
      let input;
      if (lv.choices) {
        input = document.createElement("select");
        for (const c of lv.choices) option(input, c, c);
      } else {
        input = document.createElement("input");
        input.type = "number";
        if (lv.min !== null) input.min = lv.min;
        if (lv.max !== null) input.max = lv.max;
        input.step = STEPS[name] || "any";
      }
      input.id = "lv-" + name; input.name = name;
      box.appendChild(input);
      if (SLIDERS.includes(name)) {
        const r = document.createElement("input");
        r.type = "range"; r.id = "rg-" + name; r.min = lv.min; r.max = lv.max; r.step = STEPS[name];
        r.setAttribute("aria-label", name);
        r.addEventListener("input", () => { input.value = r.value; schedule(250); });
        input.addEventListener("input", () => { if (input.value !== "") r.value = input.value; });
        box.appendChild(r);
      }
      const hint = document.createElement("small");
      hint.className = "hint";
      hint.textContent = [lv.min !== null ? `${lv.min}–${lv.max}` : "", lv.unit].filter(Boolean).join(" ");
      box.appendChild(hint);
      const err = document.createElement("span");
      err.className = "error"; err.id = "err-" + name; err.setAttribute("role", "alert");
      box.appendChild(err);
      input.addEventListener("input", () => schedule(400));
      input.addEventListener("change", () => schedule(30));
      form.appendChild(box);
    }
    form.addEventListener("submit", (e) => { e.preventDefault(); schedule(0); });
    $("preset").addEventListener("change", () => { applyPreset($("preset").value); schedule(0); });
    $("area").addEventListener("change", () => schedule(0));
    $("reset").addEventListener("click", () => { applyPreset($("preset").value); schedule(0); });
    for (const lv of ["preschool", "compulsory", "senior_general", "secondary_vocational"]) {
      option($("seat-level"), lv, lv);
    }
    $("seat-level").addEventListener("change", () => LAST && drawCapacity(LAST));
    $("lang").addEventListener("click", () => {
      LANG = LANG === "en" ? "zh" : "en";
      applyText();
      if (LAST) render(LAST);
    });
    $("save").addEventListener("click", save);
  }

  // set every lever to the preset's value (blank = as in the config)
  function applyPreset(name) {
    const p = META.presets[name];
    for (const field of META.lever_order) {
      let v = p.fields[field];
      if (v === null && field === "draws") v = META.defaults.draws;
      const input = $("lv-" + field);
      input.value = v === null || v === undefined ? (input.tagName === "SELECT" ? "config" : "") : v;
      const r = $("rg-" + field);
      if (r) r.value = v === null ? 1 : v;
    }
    clearErrors();
  }

  // every word on the page in the current language
  function applyText() {
    document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
    document.title = t("page_title");
    for (const e of document.querySelectorAll("[data-t]")) e.textContent = t(e.dataset.t);
    $("lang").textContent = t("language");
    for (const o of $("preset").options) o.textContent = t("preset." + o.value);
    for (const o of $("area").options) o.textContent = areaName(o.value);
    for (const o of $("seat-level").options) o.textContent = t(o.value);
    for (const o of $("lv-staffing_standard").options) o.textContent = t("lever." + o.value);
    for (const lab of document.querySelectorAll("label[data-lever]")) {
      lab.textContent = t("lever." + lab.dataset.lever);
    }
    for (const name of ["seed", "end_year", "reach_targets_by", "class_size_cap_primary",
      "class_size_cap_junior", "attrition", "hires_per_year"]) {
      const input = $("lv-" + name);
      input.placeholder = name === "seed" ? `${t("as_config")} (${META.defaults.seed})`
        : name === "end_year" ? `${t("as_config")} (${META.defaults.end_year})` : t("as_config");
    }
    const p = META.presets[$("preset").value];
    $("preset-desc").textContent = p ? p.description : "";
  }

  // ---- requests ---------------------------------------------------------------------------
  function body() {
    const b = { scenario: $("preset").value, area: $("area").value };
    for (const field of META.lever_order) {
      const input = $("lv-" + field);
      const raw = input.value.trim();
      if (raw === "") continue;
      if (input.tagName === "SELECT") { b[field] = raw; continue; }
      const n = Number(raw);
      b[field] = Number.isFinite(n) ? n : raw;
    }
    return b;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(ask, ms);
  }

  function clearErrors() {
    for (const e of document.querySelectorAll("#levers .error")) e.textContent = "";
    for (const e of document.querySelectorAll("#levers .invalid")) e.classList.remove("invalid");
    $("form-error").textContent = "";
  }

  async function ask() {
    if (inflight) inflight.abort();
    const ctrl = new AbortController();
    inflight = ctrl;
    const b = body();
    document.body.dataset.state = "loading";
    $("status").textContent = t("computing");
    const t0 = performance.now();
    let res, data;
    try {
      res = await fetch("/api/scenario", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(b), signal: ctrl.signal });
      data = await res.json();
    } catch (e) {
      if (e.name === "AbortError") return;
      showError({ error: String(e.message || e) });
      return;
    } finally {
      if (inflight === ctrl) inflight = null;
    }
    if (!res.ok) { showError(data); return; }
    clearErrors();
    LAST = data; LAST_BODY = b;
    render(data);
    const ms = Math.round(performance.now() - t0);
    $("status").textContent = `${t("answered")} ${ms} ms` + (data.cached ? ` (${t("cached")})` : "")
      + ` · ${data.draws} ${t("draws_note")}`;
    document.body.dataset.answers = String(Number(document.body.dataset.answers) + 1);
    document.body.dataset.state = "ready";
  }

  function showError(data) {
    clearErrors();
    const msg = (data && data.error) || "error";
    const field = data && data.field;
    if (field && $("err-" + field)) {
      $("err-" + field).textContent = msg;
      $("lv-" + field).classList.add("invalid");
      $("form-error").textContent = t("fix_levers");
    } else {
      $("form-error").textContent = `${t("error")}: ${msg}`;
    }
    $("status").textContent = t("error");
    document.body.dataset.state = "error";
  }

  // ---- drawing ----------------------------------------------------------------------------
  function render(a) {
    drawFans(a);
    const years = a.years;
    const enrol = Object.entries(a.enrolment).map(([lv, s]) => ({ key: lv, label: t(lv),
      color: LEVEL_COLORS[lv], x: years, ...s }));
    window.Charts.draw($("chart-enrolment"), { series: enrol, yZero: true, legend: $("legend-enrolment") });
    const tch = a.teachers;
    window.Charts.draw($("chart-teachers"), { yZero: true, legend: $("legend-teachers"), series: [
      { key: "demand", label: t("demand"), color: "#1f4e8c", x: years, ...tch.demand },
      { key: "supply", label: t("supply"), color: "#c0392b", x: years, mean: tch.supply.mean, dash: true },
    ], keys: [{ cls: "sw-band80", color: "#1f4e8c", text: t("band80") }] });
    drawCapacity(a);
    drawTargets(a);
    drawAssumptions(a);
    drawDownloads();
    $("county-note").hidden = a.area === a.city;
    // every view says when the numbers rest on estimated inputs (city and counties alike)
    $("estimated-note").hidden = !a.assumptions.some((r) => r.quality === "estimated");
    const p = META.presets[$("preset").value];
    $("preset-desc").textContent = p ? p.description : "";
  }

  function drawFans(a) {
    const box = $("fans");
    box.textContent = "";
    const zh = {};
    for (const r of a.targets) zh[r.indicator] = r.indicator_zh;
    for (const [ind, f] of Object.entries(a.fan)) {
      const fig = document.createElement("figure");
      fig.className = "card fan"; fig.dataset.indicator = ind;
      const cap = document.createElement("figcaption");
      cap.textContent = indName(ind, zh[ind]);
      fig.appendChild(cap);
      const chart = document.createElement("div");
      const leg = document.createElement("div");
      leg.className = "legend";
      fig.appendChild(chart); fig.appendChild(leg);
      box.appendChild(fig);
      const tgt = f.target;
      const tLabel = tgt ? `${a.area === a.city ? t("target") : t("city_target")} ${SIGN[tgt.comparison] || ""}${fmt(tgt.value)} (${tgt.year})` : "";
      window.Charts.draw(chart, {
        title: cap.textContent, legend: leg,
        series: [{ key: "mean", label: t("mean"), color: "#1f4e8c", x: f.years, mean: f.mean,
          lo80: f.lo80, hi80: f.hi80, lo95: f.lo95, hi95: f.hi95 }],
        hline: tgt ? { value: tgt.value, label: tLabel } : null,
        xmark: tgt ? { x: tgt.year } : null,
        points: f.observed.map(([x, y]) => ({ x, y, label: t("observed") })),
        keys: [{ cls: "sw-band80", color: "#1f4e8c", text: t("band80") },
          { cls: "sw-band95", color: "#1f4e8c", text: t("band95") },
          ...(tgt ? [{ cls: "sw-target", text: t("target") }] : []),
          ...(f.observed.length ? [{ cls: "sw-observed", text: t("observed") }] : [])],
      });
    }
  }

  function drawCapacity(a) {
    const lv = $("seat-level").value;
    const units = a.capacity[lv] || {};
    const series = Object.entries(units).map(([code, s], i) => ({ key: code, label: areaName(code),
      color: AREA_COLORS[i % AREA_COLORS.length], x: a.years, mean: s.mean,
      thin: code !== a.area }));
    window.Charts.draw($("chart-capacity"), { series, legend: $("legend-capacity"),
      hline: { value: 100, label: t("full_capacity") } });
  }

  function cell(tr, text, cls) {
    const td = document.createElement(tr.parentNode && tr.parentNode.tagName === "THEAD" ? "th" : "td");
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function drawTargets(a) {
    const table = $("targets");
    table.textContent = "";
    const head = table.createTHead().insertRow();
    for (const k of ["col_indicator", "col_year", "col_target", "col_projected", "col_interval",
      "col_gap", "col_p_meet", "col_status"]) {
      const th = document.createElement("th"); th.textContent = t(k); head.appendChild(th);
    }
    const tb = table.createTBody();
    const rows = a.targets.slice().sort((x, y) => (y.n_draws > 0) - (x.n_draws > 0));
    for (const r of rows) {
      const tr = tb.insertRow();
      tr.dataset.indicator = r.indicator; tr.dataset.year = r.year;
      const name = cell(tr, indName(r.indicator, r.indicator_zh));
      name.title = r.note || "";
      cell(tr, r.year, "num");
      cell(tr, r.target === null ? "—" : `${SIGN[r.comparison] || ""}${fmt(r.target)}`, "num");
      const has = r.n_draws > 0;
      cell(tr, has ? fmt(r.projected_mean) : "—", "num");
      cell(tr, has ? `${fmt(r.projected_lo80)} – ${fmt(r.projected_hi80)}` : "—", "num");
      cell(tr, has ? fmt(r.gap) : "—", "num");
      cell(tr, has ? r.p_meet.toFixed(2) : "—", "num");
      const st = cell(tr, t(r.status), "status " + r.status);
      st.title = r.note || "";
    }
  }

  function drawAssumptions(a) {
    const table = $("assumptions");
    table.textContent = "";
    const head = table.createTHead().insertRow();
    for (const k of ["col_name", "col_value", "col_quality", "col_note"]) {
      const th = document.createElement("th"); th.textContent = t(k); head.appendChild(th);
    }
    const tb = table.createTBody();
    for (const r of a.assumptions) {
      const tr = tb.insertRow();
      cell(tr, r.name);
      cell(tr, r.value);
      cell(tr, r.quality === "observed" ? t("observed_q") : t(r.quality));
      cell(tr, r.note || "");
    }
  }

  function query(b) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(b)) if (k !== "area") q.set(k, v);
    return q.toString();
  }

  function drawDownloads() {
    const box = $("downloads");
    box.textContent = "";
    const q = query(LAST_BODY);
    const link = (href, text) => {
      const el = document.createElement("a");
      el.href = href; el.textContent = text; el.setAttribute("download", "");
      box.appendChild(el); box.appendChild(document.createTextNode(" "));
    };
    link(`/api/download/tables.xlsx?${q}`, t("download_excel"));
    for (const name of ["target_gaps", "projection_summary", "enrolment", "teachers", "capacity",
      "indicators", "population_school_age", "assumptions"]) {
      link(`/api/download/${name}.csv?${q}`, `${name}.csv`);
    }
  }

  async function save() {
    if (!LAST_BODY) return;
    const btn = $("save");
    btn.disabled = true;
    $("saved").textContent = t("saving");
    try {
      const res = await fetch("/api/save", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify(LAST_BODY) });
      const d = await res.json();
      if (!res.ok) { $("saved").textContent = `${t("error")}: ${d.error}`; return; }
      $("saved").textContent = "";
      const span = document.createElement("span");
      span.textContent = `${t("saved")} ${d.run_id} (${d.run_name}, experiment ${d.experiment_id}) — ${t("mlflow_hint")} ${d.tracking_uri}: `;
      const a = document.createElement("a");
      a.href = `http://127.0.0.1:5000/${d.ui_path}`; a.textContent = d.ui_path; a.id = "run-link";
      a.dataset.runId = d.run_id;
      $("saved").appendChild(span); $("saved").appendChild(a);
    } catch (e) {
      $("saved").textContent = `${t("error")}: ${e.message || e}`;
    } finally {
      btn.disabled = false;
    }
  }

  async function init() {
    try {
      const res = await fetch("/api/meta");
      META = await res.json();
    } catch (e) {
      $("form-error").textContent = `${e.message || e}`;
      document.body.dataset.state = "error";
      return;
    }
    buildControls();
    $("area").value = META.city;
    applyPreset("baseline");
    applyText();
    ask();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
