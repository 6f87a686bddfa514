/* The admin claim workspace stays current: notes (internal ones too: this is staff),
 * money and status changes made by others arrive over /ws/claims/ and the page's
 * history, money and status are refreshed in place, without touching the forms
 * being filled in.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-live-admin-claim]");
  if (!root || !window.WebSocket) {
    return;
  }
  var claimId = root.getAttribute("data-live-admin-claim");
  var PARTS = ["#timeline", ".ws-head", ".ws-money", ".ws-attention"];
  var refreshing = null;

  function refresh() {
    if (refreshing) {
      return;
    }
    refreshing = window.fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        PARTS.forEach(function (selector) {
          var now = document.querySelector(selector);
          var next = fresh.querySelector(selector);
          if (now && next) {
            now.replaceWith(next);
          }
        });
        document.body.setAttribute("data-live-refreshed",
          String(Number(document.body.getAttribute("data-live-refreshed") || 0) + 1));
      })
      .catch(function () { /* the next event or a reload will catch up */ })
      .then(function () { refreshing = null; });
  }

  function connect(attempt) {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket = new WebSocket(scheme + "//" + window.location.host + "/ws/claims/");
    socket.addEventListener("open", function () {
      attempt = 0;
      socket.send(JSON.stringify({ type: "subscribe", claim_id: claimId }));
    });
    socket.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (message.type === "subscribed") {
        document.body.setAttribute("data-live", "connected");
      } else if (message.claim_id === claimId && /^claim\./.test(message.type)) {
        refresh();
      }
    });
    socket.addEventListener("close", function (event) {
      document.body.setAttribute("data-live", "closed");
      if (event.code === 4401) {
        return;
      }
      var next = Math.min((attempt || 0) + 1, 6);
      window.setTimeout(function () { connect(next); }, 1000 * Math.pow(2, next - 1));
    });
  }

  connect(0);
})();
