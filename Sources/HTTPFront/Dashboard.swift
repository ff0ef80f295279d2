/// `GET /`: a self-contained status page (no CDN): server config, live statistics, throughput and latency charts.
///
/// It polls `/status/server` (the pipeline's SHOW_STATUS, so the page also proves the pipeline answers) and
/// `/metrics` (encode round-trip sum/count) every `?interval=` ms (default 2000) and draws on canvases.
enum Dashboard {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bert-serving dashboard</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #222; }
header { background: #283046; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
header h1 { font-size: 18px; margin: 0; }
#state { font-weight: bold; }
#state.ok { color: #7ee787; } #state.down { color: #ff7b72; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; padding: 16px 20px; }
section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section h2 { font-size: 15px; margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
td { padding: 2px 6px; border-bottom: 1px solid #eee; vertical-align: top; word-break: break-all; }
td.k { color: #555; width: 45%; }
canvas { width: 100%; height: 180px; display: block; }
.wide { grid-column: 1 / span 2; }
</style>
</head>
<body>
<header><h1>bert-serving</h1><span>server <b id="server_version">?</b></span>
<span>status: <span id="state">connecting…</span></span><span>updated <span id="updated">never</span></span></header>
<main>
<section><h2>Throughput (sequences/s)</h2><canvas id="throughput" width="600" height="180"></canvas></section>
<section><h2>Encode latency (ms, mean per interval)</h2><canvas id="latency" width="600" height="180"></canvas></section>
<section><h2>Statistics</h2><table id="statistic"></table></section>
<section><h2>Server configuration</h2><table id="config"></table></section>
</main>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const interval = Math.max(200, parseInt(params.get("interval") || "2000", 10));
const history = { throughput: [], latency: [] };
let last = null;

function fill(table, obj) {
  const rows = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v !== null && typeof v === "object" && !Array.isArray(v)) continue;
    rows.push("<tr><td class=k>" + esc(k) + "</td><td id='" + table.id + "-" + esc(k) + "'>" + esc(JSON.stringify(v)) + "</td></tr>");
  }
  table.innerHTML = rows.join("");
}
function esc(s) { return String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"})[c]); }

function draw(canvas, points, color) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 34;
  ctx.clearRect(0, 0, w, h);
  const max = Math.max(1e-9, ...points.map(p => p.v));
  ctx.strokeStyle = "#ccc"; ctx.fillStyle = "#666"; ctx.font = "11px sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = h - pad / 2 - (h - pad) * i / 4;
    ctx.beginPath(); ctx.moveTo(pad, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText((max * i / 4).toPrecision(3), 2, y + 4);
  }
  if (points.length < 2) return;
  const t0 = points[0].t, t1 = points[points.length - 1].t;
  ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
  points.forEach((p, i) => {
    const x = pad + (w - pad - 4) * (p.t - t0) / Math.max(1, t1 - t0);
    const y = h - pad / 2 - (h - pad) * p.v / max;
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  });
  ctx.stroke();
}

function encodeLatency(text) {
  let sum = 0, count = 0;
  for (const line of text.split("\n")) {
    if (!line.includes('kind="encode"')) continue;
    const v = parseFloat(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("bss_bridge_round_trip_seconds_sum")) sum = v;
    if (line.startsWith("bss_bridge_round_trip_seconds_count")) count = v;
  }
  return { sum, count };
}

async function tick() {
  try {
    const [status, metrics] = await Promise.all([
      fetch("/status/server").then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); }),
      fetch("/metrics").then(r => r.text()).catch(() => "")
    ]);
    const now = Date.now(), stat = status.statistic || {}, lat = encodeLatency(metrics);
    document.getElementById("server_version").textContent = status.server_version;
    fill(document.getElementById("statistic"), stat);
    const config = Object.assign({}, status); delete config.statistic;
    fill(document.getElementById("config"), config);
    if (last) {
      const dt = (now - last.now) / 1000;
      history.throughput.push({ t: now, v: Math.max(0, (stat.num_total_seq - last.seq) / dt) });
      const dc = lat.count - last.lat.count;
      history.latency.push({ t: now, v: dc > 0 ? 1000 * (lat.sum - last.lat.sum) / dc : 0 });
      for (const k in history) if (history[k].length > 150) history[k].shift();
    }
    last = { now, seq: stat.num_total_seq || 0, lat };
    draw(document.getElementById("throughput"), history.throughput, "#2f81f7");
    draw(document.getElementById("latency"), history.latency, "#d2691e");
    const state = document.getElementById("state");
    state.textContent = "serving"; state.className = "ok";
    document.getElementById("updated").textContent = new Date(now).toLocaleTimeString();
  } catch (e) {
    const state = document.getElementById("state");
    state.textContent = "unreachable (" + e.message + ")"; state.className = "down";
  }
  setTimeout(tick, interval);
}
tick();
</script>
</body>
</html>
"""#
}
