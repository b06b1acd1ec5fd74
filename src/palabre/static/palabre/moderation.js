/* Palabre review queue: keyboard shortcuts, selection. Vanilla JS, no build step.
   j/k or arrows: next/previous entry; a/r/s/h: the entry's buttons with that data-shortcut;
   x: select; ?: help. Off while typing in a field. */
(function () {
  "use strict";

  var queue = document.querySelector("[data-moderation-queue]");
  var help = document.getElementById("shortcuts-help");
  var current = null;

  function entries() {
    return queue ? Array.prototype.slice.call(queue.querySelectorAll(".mod-entry:not(.decided)")) : [];
  }

  function focusEntry(entry) {
    if (current && current !== entry) current.classList.remove("current");
    current = entry || null;
    if (!current) return;
    current.classList.add("current");
    current.focus({ preventScroll: true });
    current.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  function move(step) {
    var list = entries();
    if (!list.length) return;
    var index = list.indexOf(current);
    if (index === -1) {
      focusEntry(list[step > 0 ? 0 : list.length - 1]);
    } else {
      focusEntry(list[Math.min(Math.max(index + step, 0), list.length - 1)]);
    }
  }

  var isTyping = window.PalabreShortcuts.isTyping;

  function toggleHelp() {
    window.PalabreShortcuts.toggleHelp(help);
  }

  function act(key) {
    if (!current || current.classList.contains("decided")) return;
    var button = current.querySelector('button[data-shortcut="' + key + '"]');
    if (button) button.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    if (help && help.open) return;
    switch (event.key) {
      case "j":
      case "ArrowDown":
        if (!queue) return;
        event.preventDefault();
        move(1);
        break;
      case "k":
      case "ArrowUp":
        if (!queue) return;
        event.preventDefault();
        move(-1);
        break;
      case "a":
      case "r":
      case "s":
      case "h":
        if (!current) return;
        event.preventDefault();
        act(event.key);
        break;
      case "u":
        var undo = latestUndo();
        if (!undo) return;
        event.preventDefault();
        undo.click();
        break;
      case "x":
        if (!current) return;
        event.preventDefault();
        var box = current.querySelector("input[data-select]");
        if (box) box.checked = !box.checked;
        break;
      default:
    }
  });

  // A click inside an entry makes it the current one, so that the keys apply to it.
  if (queue) {
    queue.addEventListener("focusin", function (event) {
      var entry = event.target.closest(".mod-entry");
      if (entry && !entry.classList.contains("decided") && entry !== current) {
        if (current) current.classList.remove("current");
        current = entry;
        current.classList.add("current");
      }
    });
  }

  // Once an entry is decided (htmx swapped it in place), go on to the next one.
  var pending = null;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var origin = event.detail && event.detail.elt;
    var entry = origin && origin.closest ? origin.closest(".mod-entry") : null;
    if (entry) pending = entry.id;
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!pending) return;
    var decided = document.getElementById(pending);
    pending = null;
    if (!decided || !decided.classList.contains("decided")) return;
    var next = decided.nextElementSibling;
    while (next && (!next.classList.contains("mod-entry") || next.classList.contains("decided"))) {
      next = next.nextElementSibling;
    }
    if (!next) {
      var list = entries();
      next = list.length ? list[list.length - 1] : null;
    }
    current = null;
    if (next) focusEntry(next);
    else decided.focus({ preventScroll: true });
  });

  // The "Undo" of a decision stays a few seconds; afterwards the item's log offers it.
  function latestUndo() {
    var buttons = document.querySelectorAll(".undo-toast:not([hidden]) button[data-undo]");
    return buttons.length ? buttons[buttons.length - 1] : null;
  }

  function expireToasts(root) {
    root.querySelectorAll("form.undo-toast[data-undo-seconds]:not([data-timed])").forEach(function (form) {
      form.setAttribute("data-timed", "");
      var seconds = parseInt(form.getAttribute("data-undo-seconds"), 10) || 10;
      window.setTimeout(function () {
        form.hidden = true;
      }, seconds * 1000);
    });
  }
  document.body.addEventListener("htmx:afterSettle", function () {
    expireToasts(document);
  });

  var all = document.querySelector("[data-select-all]");
  if (all && queue) {
    all.addEventListener("change", function () {
      queue.querySelectorAll("input[data-select]").forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }

  document.querySelectorAll("[data-shortcuts-toggle]").forEach(function (button) {
    button.addEventListener("click", toggleHelp);
  });
})();
