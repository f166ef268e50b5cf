// The pay page's only script: the running total of the ticked invoices, and the web
// chat (Rasa REST shape, POST /webhooks/rest/webhook). No inline code: the page's
// Content-Security-Policy allows scripts from this site only.
(function () {
  "use strict";

  function formatTotal() {
    var boxes = document.querySelectorAll("input[name=invoice]");
    var total = document.getElementById("total");
    var button = document.getElementById("get-link");
    if (!total || !boxes.length) { return; }
    var cents = 0;
    var ticked = 0;
    boxes.forEach(function (box) {
      if (box.checked) {
        ticked += 1;
        cents += Math.round(parseFloat(box.dataset.amount) * 100);
      }
    });
    var lang = document.documentElement.lang || "fr";
    var locale = { fr: "fr-BE", nl: "nl-BE", de: "de-BE", en: "en-IE" }[lang] || "fr-BE";
    total.textContent = new Intl.NumberFormat(locale, { style: "currency", currency: "EUR" })
      .format(cents / 100);
    if (button) { button.disabled = ticked === 0; }
  }

  document.querySelectorAll("input[name=invoice]").forEach(function (box) {
    box.addEventListener("change", formatTotal);
  });

  var chat = document.getElementById("chat");
  if (!chat) { return; }
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  // One chat session per pay page, kept across reloads: a conversation staff
  // took over goes on where it was.
  var key = "relance-chat:" + location.pathname;
  var session = null;
  try { session = localStorage.getItem(key); } catch (e) { session = null; }
  var returning = Boolean(session);
  if (!session) {
    session = "portal-" + (window.crypto && crypto.randomUUID ? crypto.randomUUID()
      : String(Math.random()).slice(2));
    try { localStorage.setItem(key, session); } catch (e) { /* private mode */ }
  }

  function show(text, who) {
    var p = document.createElement("p");
    p.className = "msg " + who;
    p.textContent = text;
    log.appendChild(p);
    log.scrollTop = log.scrollHeight;
    return p;
  }

  function send(message, echo) {
    if (echo) { show(echo, "me"); }
    return fetch("/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: session, message: message }),
    }).then(function (response) { return response.json(); }).then(showReplies)
      .catch(function () { show("…", "bot"); });
  }

  function showReplies(replies) {
    replies.forEach(function (reply) {
      var p = show(reply.text, "bot");
      (reply.buttons || []).forEach(function (button) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "choice";
        b.textContent = button.title;
        b.addEventListener("click", function () { send(button.payload, button.title); });
        p.appendChild(document.createElement("br"));
        p.appendChild(b);
      });
    });
  }

  // What staff write meanwhile (or a plan decision) is fetched every few seconds.
  function fetchWaiting() {
    fetch("/webhooks/rest/waiting", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: session }),
    }).then(function (response) { return response.ok ? response.json() : []; })
      .then(showReplies).catch(function () { /* next time */ });
  }
  setInterval(fetchWaiting, 5000);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    send(text, text);
  });

  // A page opened again shows the conversation so far, then links the session.
  function start() { send(chat.dataset.start, null); }
  if (returning) {
    fetch("/webhooks/rest/history", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: session }),
    }).then(function (response) { return response.ok ? response.json() : []; })
      .then(function (past) {
        past.forEach(function (m) { show(m.text, m.from === "debtor" ? "me" : "bot"); });
      }).catch(function () { /* only the history is lost */ }).then(start);
  } else {
    start();
  }
})();
