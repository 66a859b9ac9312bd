/* Ikrar live screen: names appear as they sign.
   Server-Sent Events from /live/{slug}/events (EventSource reconnects by itself and resumes
   with Last-Event-ID); where EventSource is missing or the stream is refused (503: too many
   screens), the page polls /live/{slug}/state?after=N instead, and tries the stream again
   after a minute. Every text comes from the page (data-t-* attributes, in its language). */
(function () {
  "use strict";

  var root = document.getElementById("live");
  if (!root) {
    return;
  }
  var d = root.dataset;
  var lang = document.documentElement.lang;
  var last = parseInt(d.last, 10);
  if (isNaN(last)) {
    last = -1;
  }
  var pollMs = (parseInt(d.poll, 10) || 3) * 1000;
  var RETRY_STREAM_MS = 60000;

  var el = function (id) { return document.getElementById(id); };
  var list = el("live-list");
  var count = el("live-count");
  var bar = el("live-bar");
  var declined = el("live-declined");
  var waiting = el("live-waiting");
  var done = el("live-done");
  var empty = el("live-empty");
  var statusLine = el("live-status");

  var mode = "";  // "stream" once a stream is open, "poll" while polling
  var pollTimer = null;
  var source = null;

  function fill(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // 09.01.00 WIB (Indonesian) / 09:01:00 WIB: as the page writes it (WIB is UTC+7, no summer time).
  function clock(iso) {
    var t = new Date(iso);
    if (isNaN(t.getTime())) {
      return "";
    }
    var w = new Date(t.getTime() + 7 * 3600 * 1000);
    var sep = lang === "id" ? "." : ":";
    return pad(w.getUTCHours()) + sep + pad(w.getUTCMinutes()) + sep + pad(w.getUTCSeconds()) + " WIB";
  }

  function status(text, state) {
    statusLine.textContent = text;
    statusLine.setAttribute("data-state", state);
  }

  function showCounts(c) {
    var required = Number(c.required) || 0;
    var signed = Number(c.signed) || 0;
    var no = Number(c.declined) || 0;
    var left = required - signed - no;
    var complete = required > 0 && left <= 0;
    count.textContent = fill(d.tCount, { signed: signed, required: required });
    bar.max = required || 1;
    bar.value = signed;
    declined.hidden = no === 0;
    declined.textContent = fill(d.tDeclined, { n: no });
    waiting.hidden = complete;
    waiting.textContent = fill(d.tWaiting, { n: left });
    done.hidden = !complete;
    if (complete) {
      done.textContent = no ? fill(d.tDoneMixed, { signed: signed, declined: no }) : d.tDoneAll;
    }
    document.body.classList.toggle("live-complete", complete);
  }

  function span(className, text) {
    var s = document.createElement("span");
    s.className = className;
    s.textContent = text;
    return s;
  }

  function add(e) {
    if (!e || typeof e.index !== "number" || e.index <= last) {
      return;  // already shown (a resumed stream or a poll may repeat one)
    }
    last = e.index;
    var kind = e.kind === "declined" ? "declined" : "signed";
    var before = list.querySelector(".live-newest");
    if (before) {
      before.classList.remove("live-newest");
    }
    var item = document.createElement("li");
    item.className = "live-item live-" + kind + " live-newest live-arrived";
    item.setAttribute("data-index", String(e.index));
    item.appendChild(span("live-name", e.name || ""));
    item.appendChild(span("live-capacity", e.capacity || ""));
    var when = span("live-when", "");
    if (kind === "declined") {
      var mark = document.createElement("strong");
      mark.className = "live-mark";
      mark.textContent = d.tDeclinedMark;
      when.appendChild(mark);
      when.appendChild(document.createTextNode(" · "));
    }
    var time = document.createElement("time");
    time.setAttribute("datetime", e.time || "");
    time.textContent = clock(e.time);
    when.appendChild(time);
    item.appendChild(when);
    list.insertBefore(item, list.firstChild);
    empty.hidden = true;
    showCounts(e);
  }

  // -- polling ------------------------------------------------------------------------

  function pollOnce() {
    pollTimer = null;
    if (mode !== "poll") {
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("GET", d.state + "?after=" + last);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.onload = function () {
      var answer = null;
      if (xhr.status === 200) {
        try {
          answer = JSON.parse(xhr.responseText);
        } catch (err) {
          answer = null;
        }
      }
      if (answer && answer.events) {
        for (var i = 0; i < answer.events.length; i++) {
          add(answer.events[i]);
        }
        showCounts(answer);
        status(fill(d.tPolling, {}), "polling");
      } else {
        status(d.tOffline, "offline");
      }
      schedule();
    };
    xhr.onerror = function () {
      status(d.tOffline, "offline");
      schedule();
    };
    xhr.send();
  }

  function schedule() {
    if (mode === "poll" && pollTimer === null) {
      pollTimer = window.setTimeout(pollOnce, pollMs);
    }
  }

  function startPolling() {
    mode = "poll";
    if (pollTimer !== null) {
      window.clearTimeout(pollTimer);
    }
    pollTimer = null;
    pollOnce();
    if (window.EventSource) {
      window.setTimeout(function () {
        if (mode === "poll") {
          connect();
        }
      }, RETRY_STREAM_MS);
    }
  }

  // -- the stream ---------------------------------------------------------------------

  function onEvent(message) {
    var data = null;
    try {
      data = JSON.parse(message.data);
    } catch (err) {
      return;
    }
    add(data);
  }

  function connect() {
    if (!window.EventSource) {
      startPolling();
      return;
    }
    var es = new EventSource(d.events + "?after=" + last);
    source = es;
    es.onopen = function () {
      mode = "stream";
      status(d.tLive, "live");
    };
    es.addEventListener("signed", onEvent);
    es.addEventListener("declined", onEvent);
    es.onerror = function () {
      if (es.readyState === 2) {  // CLOSED: refused (503, 404) or not a stream; it will not retry
        es.close();
        if (source === es) {
          source = null;
        }
        startPolling();
      } else if (mode === "stream") {
        status(d.tReconnecting, "reconnecting");  // it reconnects by itself, with Last-Event-ID
      }
    };
  }

  connect();
})();
