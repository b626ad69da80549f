/** The dashboard's stylesheet and script, served by the Worker itself (no CDN). */

export const STYLE = `
.chart { min-height:240px; margin:.5rem 0; }
.uptime { margin:.5rem 0; } .uptime svg { width:100%; height:1.5rem; display:block; }
.up-full { fill:#1f7a3a; } .up-most { fill:#e0a100; } .up-low { fill:#b42318; }
.band { margin:.75rem 0 0; }
.band svg[data-field="holder-band"] { width:100%; height:1.75rem; display:block; border:1px solid var(--line); border-radius:4px; background:#eef0f4; }
.band-seg.m0 { fill:#2e6fdb; } .band-seg.m1 { fill:#d97706; } .band-seg.m2 { fill:#0f9d8a; } .band-seg.m3 { fill:#8e44ad; }
.band-move { fill:#1d2330; }
.band figcaption { display:flex; justify-content:space-between; font-size:.8rem; color:var(--muted); }
.band-legend { display:flex; gap:1rem; margin:.25rem 0; font-size:.85rem; }
.swatch { width:.8rem; height:.8rem; vertical-align:middle; }
details.raw { display:inline; } details.raw pre { white-space:pre-wrap; font-size:.8rem; background:#f2f4f7; padding:.4rem; }
:root { --bg:#f7f8fa; --fg:#1d2330; --muted:#5b6475; --line:#d8dde6; --up:#1f7a3a; --down:#b42318; --degraded:#b54708; --unknown:#5b6475; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.45 system-ui, sans-serif; background:var(--bg); color:var(--fg); }
a { color:#1849a9; }
header.top { display:flex; flex-wrap:wrap; gap:.5rem 1rem; align-items:center; padding:.6rem 1rem; background:#fff; border-bottom:1px solid var(--line); min-height:3.2rem; }
.brand { font-weight:700; text-decoration:none; font-size:1.1rem; }
nav { display:flex; flex-wrap:wrap; gap:.25rem .75rem; align-items:center; flex:1; }
nav a { white-space:nowrap; }
nav a[aria-current="page"] { font-weight:700; text-decoration:none; }
.cluster { font-weight:600; color:var(--muted); }
.muted { color:var(--muted); font-size:.85rem; margin:.2rem 0; }
.who { display:flex; gap:.5rem; align-items:center; margin:0; }
h1 { font-size:1.3rem; margin:.75rem 1rem .25rem; }
main { padding:0 1rem 2rem; }
.live-status { margin:0; padding:.2rem 1rem; height:1.7rem; font-size:.85rem; color:var(--muted); overflow:hidden; }
.live-status[data-state="live"]::before { content:"● "; color:var(--up); }
.live-status[data-state="lost"] { color:#fff; background:var(--down); }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(18rem, 1fr)); gap:1rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:.75rem 1rem; margin:0 0 1rem; }
.card h2 { font-size:1.1rem; margin:.2rem 0 .5rem; }
.card pre { white-space:pre-wrap; overflow-wrap:anywhere; background:#f6f7f9; padding:.5rem; border-radius:4px; }
.card code { overflow-wrap:anywhere; }
.counts { display:flex; gap:.75rem; flex-wrap:wrap; }
.scroll { overflow-x:auto; }
table { border-collapse:collapse; width:100%; background:#fff; }
th, td { text-align:left; padding:.35rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; }
th small, td small { display:block; color:var(--muted); font-weight:400; }
.state { font-weight:600; }
.s-up, .s-yes, .s-online, .s-ready, .s-delivered, .s-info { color:var(--up); }
.s-down, .s-no, .s-offline, .s-maint, .s-failed, .s-critical { color:var(--down); }
.s-degraded, .s-drain, .s-inhibited, .s-warning, .s-pending { color:var(--degraded); }
.s-unknown, .s-none { color:var(--unknown); }
td.cell.s-up { background:#e7f6ec; } td.cell.s-down { background:#fde8e7; } td.cell.s-degraded { background:#fff1e0; } td.cell.s-unknown { background:#f0f2f5; }
.filters { display:flex; flex-wrap:wrap; gap:.5rem 1rem; margin:.5rem 0 1rem; }
.notice { background:#fff6e5; border:1px solid #f2c46d; padding:.5rem .75rem; border-radius:6px; margin:.25rem 1rem .75rem; }
.events, .deliveries { padding-left:1.2rem; }
.events small { display:block; color:var(--muted); overflow-wrap:anywhere; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:.2rem 1rem; margin:0 0 .75rem; }
dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; font-weight:600; }
form { display:inline; }
button { font:inherit; padding:.3rem .7rem; border:1px solid #8a94a6; border-radius:6px; background:#fff; cursor:pointer; min-height:2.2rem; }
input, select { font:inherit; padding:.3rem .4rem; min-height:2.2rem; }
.signin { max-width:26rem; margin:3rem auto; background:#fff; border:1px solid var(--line); border-radius:8px; padding:1.5rem; }
.signin label { display:block; margin:.5rem 0; } .signin input { width:100%; }
tr[hidden] { display:none; }
@media (max-width: 600px) { body { font-size:14px; } nav { order:3; flex-basis:100%; } .who { margin-left:auto; } th, td { padding:.3rem; } h1 { font-size:1.15rem; } }
`;

export const SCRIPT = `
(() => {
  const main = document.getElementById("live");
  const status = document.getElementById("live-status");
  const text = () => document.getElementById("filter-text");
  const state = () => document.getElementById("filter-state");
  function applyFilters() {
    const t = text(), s = state();
    if (!t || !s) return;
    const q = t.value.trim().toLowerCase(), want = s.value;
    for (const row of main.querySelectorAll("tr[data-name]")) {
      const show = (!q || row.dataset.name.toLowerCase().includes(q)) && (!want || row.dataset.state === want);
      row.hidden = !show;
    }
  }
  document.addEventListener("input", (e) => { if (e.target === text() || e.target === state()) applyFilters(); });
  document.addEventListener("submit", (e) => {
    const message = e.target.dataset && e.target.dataset.confirm;
    if (message && !window.confirm(message)) e.preventDefault();
  });
  // Charts: uPlot (served from /ui/vendor/) draws each .chart from its data-series; the tables beside them need no script.
  const charts = [];
  const colours = ["#2e6fdb", "#d97706", "#0f9d8a", "#8e44ad", "#b42318", "#5b6475"];
  function drawCharts() {
    while (charts.length) charts.pop().destroy();
    if (!window.uPlot) return;
    for (const el of document.querySelectorAll(".chart[data-series]")) {
      const d = JSON.parse(el.dataset.series);
      const shade = (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.fillStyle = "rgba(180,35,24,0.15)";
        for (const [a, b] of d.down) {
          const x0 = u.valToPos(a, "x", true), x1 = u.valToPos(b, "x", true);
          ctx.fillRect(x0, u.bbox.top, Math.max(2, x1 - x0), u.bbox.height);
        }
        ctx.restore();
      };
      el.textContent = "";
      charts.push(new uPlot({
        title: d.title,
        width: Math.max(260, el.clientWidth || 600),
        height: 220,
        scales: { x: { time: true, range: [d.from, d.to] } },
        series: [{}, ...d.series.map((s, i) => ({ label: s.label, stroke: colours[i % colours.length], width: 1.5 }))],
        axes: [{}, { size: 50 }],
        hooks: { drawClear: [shade] },
      }, [d.x, ...d.series.map((s) => s.values)], el));
    }
  }
  drawCharts();
  window.addEventListener("resize", () => {
    for (const c of charts) c.setSize({ width: Math.max(260, c.root.parentElement.clientWidth || 600), height: 220 });
  });
  if (!main || !main.dataset.live || !window.EventSource) return;
  const keep = () => ({ t: text() && text().value, s: state() && state().value });
  const source = new EventSource(main.dataset.live);
  source.addEventListener("open", () => { status.dataset.state = "live"; status.textContent = "Live: updates as they happen"; });
  source.addEventListener("error", () => { status.dataset.state = "lost"; status.textContent = "Live updates lost: reconnecting…"; });
  source.addEventListener("update", (e) => {
    const kept = keep();
    main.innerHTML = e.data;
    if (text() && kept.t !== null) text().value = kept.t;
    if (state() && kept.s !== null) state().value = kept.s;
    applyFilters();
    drawCharts();
    status.dataset.state = "live";
    status.textContent = "Live: updated " + new Date().toLocaleTimeString();
  });
})();
`;
