// The caption page's script: follows /events (Server-Sent Events) and shows the last few sentences.
//
// URL options (all optional):
//   token=T            the live server's token (needed when it listens beyond this machine)
//   lang=ja            of a session interpreted into several languages, which one (default: the first)
//   show=target|source|both   which text: the translation (default), the speech, or the speech above it
//   look=screen|obs|projector  dark page (default) | transparent with outlined text | high contrast
//   layout=bottom|top|center   where the captions sit (default bottom)
//   lines=N            sentences shown (default 3; the newest is large, the older ones dimmed)
//   size=N | Npx | Nvh | Nem  font size (a bare number means px)
//   fg=, bg=, partial=, source=  colours: hex without # (ffcc00) or a CSS colour name
//   align=left|center|right    text alignment
//   status=0           hide the connection badge
(function () {
  "use strict";
  var query = new URLSearchParams(window.location.search);
  var root = document.documentElement;
  var show = pick(query.get("show"), ["target", "source", "both"], "target");
  var look = pick(query.get("look"), ["screen", "obs", "projector"], "screen");
  var layout = pick(query.get("layout"), ["bottom", "top", "center"], "bottom");
  var lines = Math.max(1, Math.min(20, parseInt(query.get("lines") || "3", 10) || 3));
  var token = query.get("token");
  var lang = query.get("lang");

  root.classList.add("look-" + look);
  if (query.get("status") === "0") root.classList.add("no-status");
  root.style.setProperty("--justify", { bottom: "flex-end", top: "flex-start", center: "center" }[layout]);
  var align = pick(query.get("align"), ["left", "center", "right"], null);
  if (align) root.style.setProperty("--align", align);
  var size = query.get("size");
  if (size && /^\d+(\.\d+)?(px|vh|vw|em|rem|pt)?$/.test(size)) {
    root.style.setProperty("--size", /\d$/.test(size) ? size + "px" : size);
  }
  ["fg", "bg", "partial", "source"].forEach(function (name) {
    var value = query.get(name);
    if (!value) return;
    if (/^[0-9a-fA-F]{3,8}$/.test(value)) value = "#" + value;
    if (/^(#[0-9a-fA-F]{3,8}|[a-zA-Z]+)$/.test(value)) root.style.setProperty("--" + name, value);
  });

  var captions = document.getElementById("captions");
  var badge = document.getElementById("status");
  var sentences = new Map();
  var seen = 0;
  var lastId = null;
  var state = "starting";
  var health = null;
  var connected = false;
  var retryMs = 1000;

  function pick(value, allowed, fallback) {
    return allowed.indexOf(value) >= 0 ? value : fallback;
  }

  function keep(s) {
    var old = sentences.get(s.key);
    s.order = old ? old.order : seen++;
    sentences.set(s.key, s);
  }

  function shownText(s) {
    if (show === "source") return s.source;
    if (show === "both") return s.source || s.target;
    return s.target;
  }

  function render() {
    var list = Array.from(sentences.values()).filter(shownText);
    list.sort(function (a, b) { return a.start_ms - b.start_ms || a.order - b.order; });
    list = list.slice(-lines);
    var nodes = list.map(function (s, i) {
      var div = document.createElement("div");
      div.className = "sentence " + (s.final ? "final" : "partial") + (i === list.length - 1 ? " current" : "");
      div.dataset.key = s.key;
      if (show === "both") {
        div.appendChild(line("source", s.source));
        if (s.target) div.appendChild(line("target", s.target));
      } else {
        div.appendChild(line("text target", shownText(s)));
      }
      return div;
    });
    captions.replaceChildren.apply(captions, nodes);
  }

  function line(cls, text) {
    var div = document.createElement("div");
    div.className = cls;
    div.textContent = text;
    return div;
  }

  function showStatus() {
    var text = { starting: "starting…", started: "live", paused: "paused", ended: "ended" }[state] || state;
    var cls = state === "started" ? "live" : state;
    // While running, the session's health says more than "live": reconnecting, stalled, degraded...
    if (state === "started" && health && health.state !== "live" && health.state !== "starting") {
      text = health.state + (health.reason ? " · " + health.reason : "");
      cls = health.state === "reconnecting" || health.state === "failed" ? "lost" : "paused";
    }
    if (!connected) {
      text = "reconnecting…";
      cls = "lost";
    }
    badge.textContent = text;
    badge.className = cls;
  }

  function onSnapshot(event) {
    var data = JSON.parse(event.data);
    sentences.clear();
    seen = 0;
    data.sentences.forEach(keep);
    state = data.status.state;
    health = data.status.health || null;
    lastId = event.lastEventId;
    render();
    showStatus();
  }

  function onSentence(event) {
    keep(JSON.parse(event.data));
    lastId = event.lastEventId;
    render();
  }

  function onState(event) {
    var status = JSON.parse(event.data);
    state = status.state;
    health = status.health || null;
    lastId = event.lastEventId;
    showStatus();
  }

  function connect() {
    var params = new URLSearchParams();
    if (token) params.set("token", token);
    if (lang) params.set("lang", lang);
    if (lastId !== null) params.set("last_event_id", lastId);
    var source = new EventSource("events" + (params.toString() ? "?" + params.toString() : ""));
    source.addEventListener("snapshot", onSnapshot);
    source.addEventListener("sentence", onSentence);
    source.addEventListener("state", onState);
    source.addEventListener("mark", function (event) { lastId = event.lastEventId; });
    source.onopen = function () {
      connected = true;
      retryMs = 1000;
      showStatus();
    };
    source.onerror = function () {
      connected = false;
      showStatus();
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (server gone, 401, 503): start over, from where we were.
        source.close();
        window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 15000);
      }
    };
  }

  showStatus();
  connect();
})();
