// First-party audience measurement (policy section II): reports to the site itself the page
// shown and, when it is left, how long it stayed visible. No third party, no identifier but the
// site's own audience cookie; nothing at all once the visitor refused it on the cookies page
// (the page then does not load this script) or when the browser sends Global Privacy Control.
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = script && script.getAttribute("data-endpoint");
  if (!endpoint || navigator.globalPrivacyControl === true || !window.fetch) {
    return;
  }
  function report(kind, visibleMs) {
    var body = JSON.stringify({ t: kind, p: window.location.pathname, d: visibleMs || 0 });
    if (kind === "leave" && navigator.sendBeacon) {
      navigator.sendBeacon(endpoint, new Blob([body], { type: "application/json" }));
      return;
    }
    window.fetch(endpoint, {
      method: "POST",
      body: body,
      headers: { "Content-Type": "application/json" },
      credentials: "same-origin",
      keepalive: true
    }).catch(function () { /* a lost report changes nothing for the visitor */ });
  }
  var shownAt = Date.now();
  report("view");
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      report("leave", Date.now() - shownAt);
    } else {
      shownAt = Date.now();
    }
  });
})();
