/* Live claim status: keeps every status badge on the page current.
 *
 * Each badge carries data-live-claim="<claim id>". The page opens one WebSocket
 * to /ws/claims/ (authenticated by the session cookie), subscribes to the claims
 * it shows, and rewrites their badges when staff move a claim. It then fires a
 * "claim-status-changed" event on <body>, which htmx listens to for panels that
 * reload themselves (the status history on a claim's page).
 */
(function () {
  "use strict";

  var LABELS = { pending: "Pending", processing: "Processing", approved: "Approved", denied: "Denied",
                 closed: "Closed" };
  var UNAUTHENTICATED = 4401;
  var socket = null;
  var subscribed = new Set();
  var confirmed = 0;
  var attempts = 0;
  var pingTimer = null;
  var stopped = false;

  function claimIds() {
    var ids = new Set();
    document.querySelectorAll("[data-live-claim]").forEach(function (el) {
      ids.add(el.getAttribute("data-live-claim"));
    });
    return ids;
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  function subscribeAll() {
    claimIds().forEach(function (id) {
      if (!subscribed.has(id) && send({ type: "subscribe", claim_id: id })) {
        subscribed.add(id);
      }
    });
  }

  function announce(text) {
    var region = document.getElementById("live-announcer");
    if (region) {
      region.textContent = text;
    }
  }

  function showStatus(message) {
    var label = LABELS[message.status] || message.status;
    document.querySelectorAll("[data-live-claim]").forEach(function (el) {
      if (el.getAttribute("data-live-claim") === message.claim_id) {
        el.textContent = label;
        el.className = "badge status-" + message.status + " badge-changed";
      }
    });
    announce("Claim " + message.claim_number + " is now " + label.toLowerCase() + ".");
    document.body.dispatchEvent(new CustomEvent("claim-status-changed", { detail: message }));
  }

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (message.type === "claim.status") {
      showStatus(message);
    } else if (message.type === "claim.note") {
      announce("New note on the claim.");
      document.body.dispatchEvent(new CustomEvent("claim-note-added", { detail: message }));
    } else if (message.type === "claim.financials") {
      document.body.dispatchEvent(new CustomEvent("claim-financials-changed", { detail: message }));
    } else if (message.type === "subscribed") {
      confirmed += 1;
      document.body.setAttribute("data-live-subscribed", String(confirmed));
    }
  }

  function connect() {
    if (stopped || socket || claimIds().size === 0) {
      return;
    }
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(scheme + "//" + window.location.host + "/ws/claims/");
    socket.addEventListener("open", function () {
      attempts = 0;
      subscribed.clear();
      confirmed = 0;
      document.body.setAttribute("data-live", "connected");
      subscribeAll();
      pingTimer = window.setInterval(function () { send({ type: "ping" }); }, 25000);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      window.clearInterval(pingTimer);
      socket = null;
      subscribed.clear();
      document.body.setAttribute("data-live", "closed");
      if (event.code === UNAUTHENTICATED) {
        stopped = true;  // signed out: a reload will take the user to sign-in
        return;
      }
      attempts = Math.min(attempts + 1, 6);
      window.setTimeout(connect, 1000 * Math.pow(2, attempts - 1));
    });
  }

  document.addEventListener("DOMContentLoaded", connect);
  // New rows arrive with htmx (filtering the claims list): watch them too.
  document.addEventListener("htmx:afterSettle", function () {
    if (socket) {
      subscribeAll();
    } else {
      connect();
    }
  });
})();

/* Forms sent back with errors: the summary at the top takes focus (so a screen
 * reader reads it and the keyboard starts there), and each of its links moves
 * focus to the field it names. */
(function () {
  "use strict";

  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", focusSummary);
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-error-summary] a[data-focus]") : null;
    if (!link) {
      return;
    }
    var field = document.getElementById(link.getAttribute("data-focus"));
    if (field) {
      event.preventDefault();
      field.scrollIntoView({ block: "center" });
      field.focus();
    }
  });
})();
