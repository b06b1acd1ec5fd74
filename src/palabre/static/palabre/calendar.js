// The editorial calendar: drag a post to another day, or move it with Alt+arrows.
// Each move is one POST to the move URL; the page then reloads to show the truth.
(function () {
  "use strict";
  var calendar = document.querySelector(".calendar[data-move-url]");
  if (!calendar) return;
  var status = document.getElementById("cal-status");
  var csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value ||
    (document.cookie.match(/csrftoken=([^;]+)/) || [])[1] || "";

  function moveUrl(id) {
    return calendar.dataset.moveUrl.replace(/\/0\/move\/$/, "/" + id + "/move/");
  }

  // Reload to show the truth; when the post left the days on screen (moved past the end of the
  // week or month), follow it to the period that holds its new day.
  function showDay(isoDate) {
    if (!isoDate || calendar.querySelector('.cal-day[data-date="' + isoDate + '"]')) {
      window.location.reload();
      return;
    }
    var url = new URL(window.location.href);
    url.searchParams.set("date", isoDate);
    window.location.assign(url.toString());
  }

  // Moving an approved post sends it back for approval when the organisation asks so: say it first.
  function agreed(id) {
    var question = calendar.dataset.confirmApproved;
    var entry = calendar.querySelector('.cal-entry[data-variant="' + id + '"]');
    if (!question || !entry || entry.dataset.postStatus !== "approved") return true;
    return window.confirm(question);
  }

  function send(id, fields, focusAfter) {
    if (!agreed(id)) return Promise.resolve();
    var body = new URLSearchParams(fields);
    return fetch(moveUrl(id), {
      method: "POST",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          status.textContent = data.error || response.statusText;
          status.className = "small error";
          return;
        }
        if (focusAfter) sessionStorage.setItem("palabre-focus-variant", id);
        showDay(data.date);
      });
    });
  }

  calendar.addEventListener("dragstart", function (event) {
    var entry = event.target.closest(".cal-entry[draggable=true]");
    if (!entry) return;
    event.dataTransfer.setData("text/plain", entry.dataset.variant);
    event.dataTransfer.effectAllowed = "move";
    entry.classList.add("dragging");
  });
  calendar.addEventListener("dragend", function (event) {
    var entry = event.target.closest(".cal-entry");
    if (entry) entry.classList.remove("dragging");
  });
  calendar.addEventListener("dragover", function (event) {
    var day = event.target.closest(".cal-day");
    if (!day) return;
    event.preventDefault();
    day.classList.add("drop-target");
  });
  calendar.addEventListener("dragleave", function (event) {
    var day = event.target.closest(".cal-day");
    if (day && !day.contains(event.relatedTarget)) day.classList.remove("drop-target");
  });
  calendar.addEventListener("drop", function (event) {
    var day = event.target.closest(".cal-day");
    if (!day) return;
    event.preventDefault();
    day.classList.remove("drop-target");
    var id = event.dataTransfer.getData("text/plain");
    if (id) send(id, { date: day.dataset.date }, false);
  });
  calendar.addEventListener("keydown", function (event) {
    var entry = event.target.closest(".cal-entry[draggable=true]");
    if (!entry || !event.altKey) return;
    var shifts = { ArrowLeft: { days: -1 }, ArrowRight: { days: 1 }, ArrowUp: { hours: -1 }, ArrowDown: { hours: 1 } };
    var shift = shifts[event.key];
    if (!shift) return;
    event.preventDefault();
    send(entry.dataset.variant, shift, true);
  });

  var focusId = sessionStorage.getItem("palabre-focus-variant");
  if (focusId) {
    sessionStorage.removeItem("palabre-focus-variant");
    var again = calendar.querySelector('.cal-entry[data-variant="' + focusId + '"]');
    if (again) again.focus();
  }
})();
