// Relance console: live refresh over server-sent events, and confirmations.
// Served from /console/static (Content-Security-Policy: script-src 'self').
(function () {
  "use strict";

  // Ask before actions marked data-confirm (stop reminders, write off...).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  function scrollTimeline() {
    var timeline = document.getElementById("timeline");
    if (timeline) {
      timeline.scrollTop = timeline.scrollHeight;
    }
  }

  // Fetch this page again and swap in its live regions (never the reply form,
  // so a half-written answer is kept).
  var refreshing = false;
  function refresh() {
    if (refreshing) {
      return;
    }
    refreshing = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (response) {
        if (response.redirected || !response.ok) {
          throw new Error("not refreshed");
        }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region]").forEach(function (region) {
          var replacement = region.id && fresh.getElementById(region.id);
          if (replacement) {
            region.replaceWith(document.importNode(replacement, true));
          }
        });
        var badge = fresh.getElementById("badge-open");
        var current = document.getElementById("badge-open");
        if (badge && current) {
          current.textContent = badge.textContent;
        }
        scrollTimeline();
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollTimeline();
    if (document.body.getAttribute("data-live") && window.EventSource) {
      var source = new EventSource("/console/events");
      source.addEventListener("change", refresh);
    }
  });
})();
