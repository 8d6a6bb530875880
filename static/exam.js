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
        fieldset.setAttribute("data-typed", "1");
        clearTimeout(timer);
        timer = setTimeout(function () { fieldset.removeAttribute("data-typed"); remember(fieldset); }, 800);
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

  // ----- moving around in the page. With this script every answer is
  // saved as it is given, so moving between questions, saving and reviewing
  // need no page load, and keep working while the connection is down.
  var form = document.getElementById("answers");
  var oneAt = parseInt(root.getAttribute("data-one"), 10) || 0;
  var positions = [];
  for (var f = 0; f < fieldsets.length; f++) positions.push(parseInt(fieldsets[f].getAttribute("data-position"), 10));
  var review = document.getElementById("offline-review");

  function setButton(id, n) {
    var b = document.getElementById(id);
    if (!b) return;
    b.hidden = !n;
    if (n) b.value = "q" + n;
  }
  function showQuestion(n) {
    if (review) review.hidden = true;
    form.hidden = false;
    if (!oneAt) {
      var target = document.getElementById("q" + n);
      if (target) target.scrollIntoView();
      return;
    }
    oneAt = n;
    for (var i = 0; i < fieldsets.length; i++) {
      var here = positions[i] === n;
      fieldsets[i].hidden = !here;
      fieldsets[i].disabled = !here;
    }
    var at = positions.indexOf(n);
    setButton("go-previous", at > 0 ? positions[at - 1] : 0);
    setButton("go-next", at >= 0 && at < positions.length - 1 ? positions[at + 1] : 0);
    var links = document.querySelectorAll(".qnav a[id^='nav-']");
    for (var j = 0; j < links.length; j++) links[j].classList.toggle("current", links[j].id === "nav-" + n);
    try { history.replaceState(null, "", "/attempts/" + attempt + "?q=" + n); } catch (e) { /* not needed */ }
    window.scrollTo(0, 0);
  }
  // One question per screen or all on one page: switched in the page, so
  // that it works offline too (the links load the page without the script).
  function setMode(onePerScreen) {
    document.getElementById("mode-all").hidden = !onePerScreen;
    document.getElementById("mode-one").hidden = onePerScreen;
    if (onePerScreen) {
      // The question she was reading: the first one still on the screen.
      var n = positions[0];
      for (var i = 0; i < fieldsets.length; i++) {
        if (fieldsets[i].getBoundingClientRect().bottom > 0) { n = positions[i]; break; }
      }
      oneAt = n;
      showQuestion(n);
      return;
    }
    var shownAt = oneAt;
    oneAt = 0;
    for (var j = 0; j < fieldsets.length; j++) {
      fieldsets[j].hidden = false;
      fieldsets[j].disabled = false;
    }
    setButton("go-previous", 0);
    setButton("go-next", 0);
    var links = document.querySelectorAll(".qnav a[id^='nav-']");
    for (var k = 0; k < links.length; k++) links[k].classList.remove("current");
    try { history.replaceState(null, "", "/attempts/" + attempt); } catch (e) { /* not needed */ }
    showQuestion(shownAt);
  }
  // Answers still being typed are kept before anything else happens.
  function keepTyped() {
    for (var i = 0; i < fieldsets.length; i++) {
      if (fieldsets[i].getAttribute("data-kind") === "case" && fieldsets[i].hasAttribute("data-typed")) {
        fieldsets[i].removeAttribute("data-typed");
        remember(fieldsets[i]);
      }
    }
  }
  function showReview() {
    var list = document.getElementById("offline-review-list");
    list.textContent = "";
    for (var i = 0; i < fieldsets.length; i++) {
      var n = positions[i];
      var a = answerOf(fieldsets[i]);
      var done = a !== null && a !== "" && !(a instanceof Array && !a.length);
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/attempts/" + attempt + "?q=" + n;
      link.textContent = msg("line").replace("%{question}", msg("question").replace("%{n}", n))
        .replace("%{state}", msg(done ? "answered" : "unanswered") + (flags[n] ? " · " + msg("flagged") : ""));
      link.setAttribute("data-go", n);
      li.appendChild(link);
      list.appendChild(li);
    }
    document.getElementById("offline-review-note").hidden = online;
    form.hidden = true;
    review.hidden = false;
    review.focus();
  }
  document.addEventListener("click", function (e) {
    var mode = e.target.closest ? e.target.closest("#mode-all, #mode-one") : null;
    if (mode) {
      e.preventDefault();
      keepTyped();
      setMode(mode.id === "mode-one");
      return;
    }
    var link = e.target.closest ? e.target.closest(".qnav a[id^='nav-'], #offline-review-list a") : null;
    if (!link) return;
    e.preventDefault();
    showQuestion(parseInt(link.id ? link.id.slice(4) : link.getAttribute("data-go"), 10));
  });
  form.addEventListener("submit", function (e) {
    var go = e.submitter ? e.submitter.value : "";
    e.preventDefault();
    keepTyped();
    if (go.charAt(0) === "q") {
      showQuestion(parseInt(go.slice(1), 10));
    } else if (go === "summary") {
      goToSummary(20);
    } else {
      flush();
    }
  });
  // The server's summary (where she submits) once every answer is there;
  // while offline, the review in the page instead.
  function goToSummary(tries) {
    if (!online) { showReview(); return; }
    if (!Object.keys(pending).length) { window.location.href = "/attempts/" + attempt + "/summary"; return; }
    flush();
    if (tries > 0) setTimeout(function () { goToSummary(tries - 1); }, 250);
    else showReview();
  }
  if (review) {
    document.getElementById("offline-review-submit").addEventListener("click", function (e) {
      e.preventDefault();
      goToSummary(20);
    });
  }

  // Keep trying while offline; say so as soon as the browser knows.
  window.addEventListener("online", function () { online = true; flush(); });
  window.addEventListener("offline", function () { online = false; render(); });
  setInterval(flush, 3000);
  render();
  tick();
  flush();
})();
