// Gatekeeper exam page: countdown from the server's deadline, each answer
// saved as it is given, unsent answers kept in this browser (localStorage)
// and resent until the server has them, and flags for review.
// The page works without this script; this only makes it safer and faster.
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root) return;
  var attempt = root.getAttribute("data-attempt");
  var pendingKey = "gk-pending-" + attempt;
  var flagKey = "gk-flags-" + attempt;

  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { return {}; }
  }
  function store(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
  }

  // The attempt is over: nothing more to keep.
  if (root.getAttribute("data-done")) {
    localStorage.removeItem(pendingKey);
    localStorage.removeItem(flagKey);
    return;
  }

  // Summary page: list the flagged questions.
  if (root.getAttribute("data-summary")) {
    var flagged = Object.keys(load(flagKey)).sort(function (a, b) { return a - b; });
    var line = document.getElementById("flagged-list");
    if (line && flagged.length) {
      line.querySelector("span").textContent = flagged.join(", ");
      line.hidden = false;
    }
    return;
  }

  var csrf = root.getAttribute("data-csrf");
  var status = document.getElementById("save-status");
  var msg = function (name) { return root.getAttribute("data-msg-" + name) || ""; };
  var pending = load(pendingKey);
  var refused = false;
  var online = true;

  // ----- countdown: from the remaining seconds the server sent, measured
  // with the monotonic clock so a wrong device clock cannot change it.
  var remaining = parseInt(root.getAttribute("data-remaining"), 10) || 0;
  var started = performance.now();
  var clock = document.getElementById("countdown");
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function show(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function tick() {
    var left = Math.max(0, remaining - Math.floor((performance.now() - started) / 1000));
    clock.textContent = show(left);
    root.classList.toggle("last-minutes", left <= 300);
    if (left === 0) {
      timeUp();
      return;
    }
    setTimeout(tick, 250);
  }
  function timeUp() {
    clock.textContent = "0:00";
    status.textContent = msg("timeup");
    flush();
    // Let in-flight saves land, then show what the server recorded.
    setTimeout(function () { window.location.reload(); }, 20000);
  }

  // ----- answers
  function answerOf(fieldset) {
    var kind = fieldset.getAttribute("data-kind");
    if (kind === "case") {
      return fieldset.querySelector("textarea").value;
    }
    var checked = fieldset.querySelectorAll("input[name^='q']:checked");
    if (kind === "true_false") {
      return checked.length ? checked[0].value === "true" : null;
    }
    var picks = [];
    for (var i = 0; i < checked.length; i++) picks.push(parseInt(checked[i].value, 10));
    return picks;
  }
  function apply(fieldset, answer) {
    var kind = fieldset.getAttribute("data-kind");
    if (kind === "case") {
      fieldset.querySelector("textarea").value = answer;
      return;
    }
    var inputs = fieldset.querySelectorAll("input[name^='q']");
    for (var i = 0; i < inputs.length; i++) {
      var v = inputs[i].value;
      inputs[i].checked = kind === "true_false" ? String(answer) === v : answer.indexOf(parseInt(v, 10)) >= 0;
    }
  }
  function render() {
    var waiting = Object.keys(pending).length;
    if (refused) { status.textContent = msg("refused"); status.className = "save-status bad"; return; }
    if (!waiting) { status.textContent = msg("saved"); status.className = "save-status good"; return; }
    status.textContent = (online ? msg("pending") : msg("offline")).replace("%{n}", waiting);
    status.className = "save-status " + (online ? "busy" : "bad");
  }
  function remember(fieldset) {
    var position = fieldset.getAttribute("data-position");
    var answer = answerOf(fieldset);
    if (answer === null) return;
    pending[position] = { answer: answer, seq: Date.now() };
    store(pendingKey, pending);
    var nav = document.getElementById("nav-" + position);
    if (nav) nav.classList.add("answered");
    render();
    flush();
  }

  var sending = false;
  function flush() {
    if (sending || refused) return;
    var positions = Object.keys(pending);
    if (!positions.length) { render(); return; }
    sending = true;
    var position = positions[0];
    var item = pending[position];
    fetch("/attempts/" + attempt + "/answers/" + position, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ answer: item.answer, seq: item.seq })
    }).then(function (res) {
      online = true;
      if (res.ok) {
        return res.json().then(function (ack) {
          // Only forget it if nothing newer was given meanwhile.
          if (pending[position] && pending[position].seq <= ack.seq) delete pending[position];
          store(pendingKey, pending);
        });
      }
      if (res.status === 409 || res.status === 401 || res.status === 403) {
        refused = true;
      } else if (res.status === 422) {
        delete pending[position]; // the server will never take it
        store(pendingKey, pending);
      }
    }).catch(function () {
      online = false;
    }).then(function () {
      sending = false;
      render();
      if (Object.keys(pending).length && online && !refused) setTimeout(flush, 50);
    });
  }

  // Answers kept from an earlier visit that the server has not got yet.
  var fieldsets = document.querySelectorAll("fieldset.question");
  for (var i = 0; i < fieldsets.length; i++) {
    var fs = fieldsets[i];
    var p = fs.getAttribute("data-position");
    var serverSeq = parseInt(fs.getAttribute("data-seq"), 10) || 0;
    if (pending[p]) {
      if (pending[p].seq > serverSeq) apply(fs, pending[p].answer);
      else delete pending[p];
    }
    (function (fieldset) {
      var timer = null;
      fieldset.addEventListener("change", function (e) {
        if (e.target.hasAttribute("data-flag")) return;
        remember(fieldset);
      });
      fieldset.addEventListener("input", function (e) {
        if (e.target.tagName !== "TEXTAREA") return;
        clearTimeout(timer);
        timer = setTimeout(function () { remember(fieldset); }, 800);
      });
    })(fs);
  }
  store(pendingKey, pending);

  // ----- flags for review
  var flags = load(flagKey);
  var boxes = document.querySelectorAll("input[data-flag]");
  for (var j = 0; j < boxes.length; j++) {
    (function (box) {
      var n = box.getAttribute("data-flag");
      box.checked = !!flags[n];
      var nav = document.getElementById("nav-" + n);
      if (nav) nav.classList.toggle("flagged", box.checked);
      box.addEventListener("change", function () {
        if (box.checked) flags[n] = true; else delete flags[n];
        store(flagKey, flags);
        if (nav) nav.classList.toggle("flagged", box.checked);
      });
    })(boxes[j]);
  }
  // Flags must be read by the summary page even without a server round trip.
  var flagSection = document.querySelectorAll(".question .flag");
  for (var k = 0; k < flagSection.length; k++) flagSection[k].hidden = false;

  // Before leaving for another page through the form, everything the form
  // holds is posted anyway; nothing to do. Keep trying while offline.
  window.addEventListener("online", function () { online = true; flush(); });
  setInterval(flush, 3000);
  render();
  tick();
  flush();
})();
