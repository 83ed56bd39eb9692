// The check-in screen: counts down to the next code each second, and asks the server for the code, its
// QR code and the count every few seconds and as soon as the code is due to change. The page works without
// this script too: it then reloads itself when the code changes (the meta refresh in <noscript>).
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root || !window.fetch) {
    return;
  }
  var url = root.getAttribute("data-state-url");
  var pollMs = (parseInt(root.getAttribute("data-poll-seconds"), 10) || 5) * 1000;
  var el = {
    qr: document.getElementById("screen-qr"),
    code: document.getElementById("screen-code"),
    seconds: document.getElementById("screen-seconds"),
    count: document.getElementById("screen-count"),
    shortUrl: document.getElementById("screen-url"),
    note: document.getElementById("screen-note"),
    status: document.getElementById("screen-status"),
    fullscreen: document.getElementById("screen-fullscreen"),
  };
  var secondsLeft = parseInt(el.seconds.textContent, 10) || 0;
  var code = el.code.textContent;
  var pending = false;
  var failures = 0;

  function show(state) {
    if (state.code !== code) {
      code = state.code;
      el.code.textContent = state.code;
      el.qr.innerHTML = state.qr_svg; // the server's own SVG (segno), with no script or style in it
      el.qr.setAttribute("data-url", state.url);
    }
    secondsLeft = state.seconds_left;
    el.seconds.textContent = String(secondsLeft);
    el.count.textContent = String(state.count);
    el.shortUrl.textContent = state.short_url;
    el.note.textContent = state.note;
    el.note.hidden = !state.note;
  }

  function refresh() {
    if (pending) {
      return;
    }
    pending = true;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        if (response.redirected) {
          // Signed out (the session ended): reloading the page leads to the sign-in, then back here.
          window.location.reload();
        }
        if (!response.ok || response.redirected) {
          throw new Error("state " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        root.classList.remove("stale");
        el.status.hidden = true;
        show(state);
      })
      .catch(function () {
        failures += 1;
        if (failures >= 2) {
          root.classList.add("stale");
          el.status.textContent = root.getAttribute("data-offline") || "Reconnecting…";
          el.status.hidden = false;
        }
      })
      .then(function () {
        pending = false;
      });
  }

  window.setInterval(function () {
    secondsLeft = Math.max(0, secondsLeft - 1);
    el.seconds.textContent = String(secondsLeft);
    if (secondsLeft === 0) {
      refresh();
    }
  }, 1000);
  window.setInterval(refresh, pollMs);

  if (document.documentElement.requestFullscreen) {
    el.fullscreen.hidden = false;
    el.fullscreen.addEventListener("click", function () {
      document.documentElement.requestFullscreen().catch(function () {});
    });
  }
})();
