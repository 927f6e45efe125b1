// imustream view: frames from /ws into uPlot charts; window.imustream
// exposes counters and the latest sample for tests and the curious.
"use strict";
(function () {
  const WINDOW_S = 10;
  const colors = ["#d62728", "#2ca02c", "#1f77b4", "#9467bd"];
  const defs = [
    { id: "accel", title: "Acceleration (m/s²)", keys: ["ax", "ay", "az"], names: ["x", "y", "z"] },
    { id: "gyro", title: "Angular rate (rad/s)", keys: ["gx", "gy", "gz"], names: ["x", "y", "z"] },
    { id: "temp", title: "Temperature (°C)", keys: ["temp"], names: ["T"] },
    { id: "mag", title: "Magnetic field (µT)", keys: ["mx", "my", "mz"], names: ["x", "y", "z"], optional: true },
    { id: "quat", title: "Orientation (quaternion)", keys: ["qw", "qx", "qy", "qz"], names: ["w", "x", "y", "z"], optional: true },
    { id: "pres", title: "Pressure (Pa)", keys: ["p"], names: ["p"], optional: true },
  ];
  const st = window.imustream = {
    connected: false, frames: 0, missedFrames: 0, updates: 0, drawMs: 0, samples: 0, points: 0,
    lastFrame: 0, last: null, health: null, present: {},
  };
  const charts = {};
  const data = { x: [] };
  let t0 = null; // first mono, as BigInt ns
  const root = document.getElementById("charts");

  function width() { return Math.max(300, root.clientWidth - 4); }

  for (const d of defs) {
    const div = document.createElement("div");
    div.className = "chart" + (d.optional ? " hidden" : "");
    root.appendChild(div);
    for (const k of d.keys) data[k] = [];
    const series = [{ label: "t (s)" }].concat(d.keys.map((k, i) => ({ label: d.names[i], stroke: colors[i], width: 1 })));
    const u = new uPlot({
      title: d.title, width: width(), height: d.keys.length > 1 ? 190 : 140,
      scales: { x: { time: false } }, series: series,
      axes: [{ label: "device time (s)" }, {}],
    }, [[]].concat(d.keys.map(() => [])), div);
    charts[d.id] = { def: d, u: u, div: div };
  }
  window.addEventListener("resize", () => { for (const id in charts) charts[id].u.setSize({ width: width(), height: charts[id].u.height }); });

  function push(f) {
    const n = f.seq.length;
    for (let i = 0; i < n; i++) {
      const mono = BigInt(f.mono[i]);
      if (t0 === null) t0 = mono;
      data.x.push(Number(mono - t0) / 1e9);
      for (const d of defs) for (const k of d.keys) data[k].push(f[k] ? f[k][i] : null);
    }
    for (const d of defs) if (f[d.keys[0]] && !st.present[d.id]) {
      st.present[d.id] = true;
      charts[d.id].div.classList.remove("hidden");
    }
    const xs = data.x;
    if (xs.length === 0) return;
    const from = xs[xs.length - 1] - WINDOW_S;
    let cut = 0;
    while (cut < xs.length && xs[cut] < from) cut++;
    if (cut > 0) for (const k in data) data[k].splice(0, cut);
    const i = n - 1;
    st.last = { session: f.session[i], seq: f.seq[i], mono: f.mono[i] };
    for (const d of defs) for (const k of d.keys) if (f[k]) st.last[k] = f[k][i];
  }

  function redraw() {
    const t = performance.now();
    for (const id in charts) {
      const c = charts[id];
      if (c.def.optional && !st.present[id]) continue;
      c.u.setData([data.x].concat(c.def.keys.map(k => data[k])));
    }
    st.updates++;
    // uPlot draws in a microtask queued by setData: time it too.
    queueMicrotask(() => { st.drawMs += performance.now() - t; });
  }

  const rows = [
    ["running", "state"], ["rateHz", "rate (Hz)"], ["nominalHz", "nominal (Hz)"], ["samples", "samples"],
    ["lost", "lost"], ["duplicated", "duplicated"], ["reordered", "reordered"], ["late", "late ticks"],
    ["sensorErrors", "sensor errors"], ["elapsedS", "elapsed (s)"], ["missed", "frames this page missed"],
    ["dropped", "frames dropped (all pages)"],
  ];
  const table = document.getElementById("health");
  const cells = {};
  for (const [k, label] of rows) {
    const tr = table.insertRow();
    tr.insertCell().textContent = label;
    const td = tr.insertCell(); td.className = "v"; cells[k] = td;
  }

  function showHealth(h) {
    st.health = h;
    const state = document.getElementById("state");
    state.textContent = h.running ? "streaming" : "stopped";
    state.className = h.running ? "on" : "off";
    const vals = Object.assign({}, h, { running: h.running ? "streaming" : "stopped", missed: st.missedFrames });
    for (const [k] of rows) {
      cells[k].textContent = vals[k];
      cells[k].classList.toggle("bad", ["lost", "duplicated", "missed", "dropped", "sensorErrors"].includes(k) && vals[k] > 0);
    }
    const bars = document.getElementById("bars");
    const e = h.jitterEdgesUs, n = h.jitter, maxN = Math.max(1, ...n);
    const label = i => i === 0 ? "< " + e[0] + " µs" : i === e.length ? "≥ " + e[e.length - 1] + " µs" : e[i - 1] + "…" + e[i];
    bars.innerHTML = "";
    for (let i = 0; i < n.length; i++) {
      const row = document.createElement("div"); row.className = "bar";
      row.innerHTML = '<span class="l"></span><span class="b"></span><span class="n"></span>';
      row.children[0].textContent = label(i);
      row.children[1].style.width = Math.round(170 * n[i] / maxN) + "px";
      row.children[2].textContent = n[i];
      bars.appendChild(row);
    }
  }

  let ws, stale = false;
  document.addEventListener("visibilitychange", () => { if (!document.hidden && stale) { stale = false; redraw(); } });
  function connect() {
    ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.onopen = () => { st.connected = true; };
    ws.onclose = () => { st.connected = false; document.getElementById("state").textContent = "disconnected"; setTimeout(connect, 1000); };
    ws.onmessage = ev => {
      const f = JSON.parse(ev.data);
      if (f.type === "hello") {
        document.getElementById("device").textContent = f.device || "";
        // A stream read from NATS: the bridge holds the lease, the page cannot start or stop it.
        st.readOnly = f.readOnly || "";
        for (const id of ["start", "stop"]) document.getElementById(id).classList.toggle("hidden", !!st.readOnly);
        const ro = document.getElementById("readonly");
        ro.textContent = st.readOnly;
        ro.classList.toggle("hidden", !st.readOnly);
        return;
      }
      if (f.type !== "data") return;
      if (st.lastFrame && f.frame > st.lastFrame + 1) st.missedFrames += f.frame - st.lastFrame - 1;
      st.lastFrame = f.frame;
      st.frames++;
      st.samples += f.n;
      st.points += f.seq.length;
      if (f.health) showHealth(f.health);
      if (f.seq.length > 0) {
        push(f);
        // Draw with each frame (≤ 30/s, ~0.4 ms each), not at the next
        // animation frame: a busy machine's compositor gives those far
        // less often than frames arrive. A hidden page draws when shown.
        if (document.hidden) stale = true; else redraw();
      }
    };
  }
  document.getElementById("start").onclick = () => ws && ws.readyState === 1 && ws.send(JSON.stringify({ op: "start" }));
  document.getElementById("stop").onclick = () => ws && ws.readyState === 1 && ws.send(JSON.stringify({ op: "stop" }));
  connect();
})();
