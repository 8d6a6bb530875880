// Marks a lesson studied once it has been read to the end: when the end of
// the lesson comes into view, the page's own "studied" form is sent in the
// background. Without JavaScript the button does the same.
(function () {
  "use strict";
  var form = document.getElementById("studied-form");
  var end = document.getElementById("lesson-end");
  if (!form || !end || form.dataset.studied || !("IntersectionObserver" in window)) return;
  var sent = false;
  var observer = new IntersectionObserver(function (entries) {
    if (sent || !entries.some(function (e) { return e.isIntersecting; })) return;
    sent = true;
    observer.disconnect();
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (r) {
      if (r.ok || r.type === "opaqueredirect" || r.status === 303) {
        var status = document.getElementById("studied-status");
        var button = document.getElementById("mark-studied");
        if (status) status.textContent = "✓ " + (document.documentElement.lang === "en" ? "Studied" : "已学习");
        if (button) button.hidden = true;
        form.dataset.studied = "1";
      } else {
        sent = false;
      }
    }).catch(function () { sent = false; });
  });
  // Wait a moment so that opening a short lesson is not counted as reading it.
  setTimeout(function () { observer.observe(end); }, 1500);
})();
