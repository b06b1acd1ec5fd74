/* Palabre inbox: keyboard-first. Vanilla JS, no build step.
   List: j/k or arrows move, o/Enter open, a assign to me, e/c close. Thread: a, r (reply box),
   e/c close, u back to the list. ?: help. Off while typing in a field. */
(function () {
  "use strict";

  var help = document.getElementById("shortcuts-help");
  var thread = document.querySelector("[data-inbox-thread]");
  var current = null;

  function rows() {
    var list = document.querySelector("[data-inbox-list]");
    return list ? Array.prototype.slice.call(list.querySelectorAll(".inbox-row")) : [];
  }

  function select(row) {
    if (current && current !== row) current.classList.remove("current");
    current = row || null;
    if (!current) return;
    current.classList.add("current");
    current.focus({ preventScroll: true });
    current.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(current);
    if (index === -1) select(list[step > 0 ? 0 : list.length - 1]);
    else select(list[Math.min(Math.max(index + step, 0), list.length - 1)]);
  }

  var isTyping = window.PalabreShortcuts.isTyping;

  function toggleHelp() {
    window.PalabreShortcuts.toggleHelp(help);
  }

  function press(scope, key) {
    var button = scope && scope.querySelector('button[data-shortcut="' + key + '"]');
    if (button) button.click();
    return !!button;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    var key = event.key;
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (thread) {
      if (key === "a") press(thread, "a");
      else if (key === "e" || key === "c") press(thread, "e");
      else if (key === "r") {
        var box = document.getElementById("id_text");
        if (box) { box.focus(); event.preventDefault(); }
      } else if (key === "u") window.location.href = thread.getAttribute("data-list-url");
      return;
    }
    if (key === "j" || key === "ArrowDown") { move(1); event.preventDefault(); }
    else if (key === "k" || key === "ArrowUp") { move(-1); event.preventDefault(); }
    else if ((key === "o" || key === "Enter") && current) window.location.href = current.getAttribute("data-thread-url");
    else if (key === "a" && current) press(current, "a");
    else if ((key === "e" || key === "c") && current) press(current, "e");
    else if (key === "x" && current) {
      var pick = current.querySelector("input.inbox-pick");
      if (pick) { pick.checked = !pick.checked; pick.dispatchEvent(new Event("change", { bubbles: true })); }
    }
  });

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-shortcuts-toggle]");
    if (toggle) toggleHelp();
  });

  // Presence: say "replying" while the reply box is being written in.
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_text") {
      var state = document.getElementById("presence-state");
      if (state) state.value = "replying";
    }
  });

  // A second click while the first is on its way does nothing (the server ignores a repeated key too).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-reply-form]")) return;
    if (form.dataset.sending) { event.preventDefault(); return; }
    form.dataset.sending = "1";
  });
})();

/* Phones: the rarer filters fold under a "More filters" button, so the first screen shows threads.
   Without JavaScript, or with a rare filter set, every filter stays in view. */
(function () {
  "use strict";
  var form = document.getElementById("inbox-filters");
  if (!form || !window.matchMedia || !window.matchMedia("(max-width: 800px)").matches) return;
  var kept = ["status", "priority", "sort", "q"];
  var rare = Array.prototype.slice.call(form.querySelectorAll("[data-field]")).filter(function (field) {
    return kept.indexOf(field.getAttribute("data-field")) === -1;
  });
  var inUse = rare.some(function (field) {
    var input = field.querySelector("select, input");
    return (input && input.value) || field.classList.contains("has-error");
  });
  if (inUse) return;
  form.classList.add("folded");
  var more = document.createElement("button");
  more.type = "button";
  more.className = "secondary small fold-toggle";
  more.textContent = form.getAttribute("data-fold-label");
  more.setAttribute("aria-expanded", "false");
  more.addEventListener("click", function () {
    form.classList.remove("folded");
    more.remove();
  });
  form.insertBefore(more, form.querySelector("button[type=submit]"));
})();

/* Bulk bar: select all on the page, a live count, and only the value field the chosen action needs.
   Without JavaScript every field shows and the form posts as it is. */
(function () {
  "use strict";
  var form = document.getElementById("inbox-bulk");
  if (!form) return;
  var all = form.querySelector("[data-select-all]");
  var count = form.querySelector("[data-selected-count]");
  var action = document.getElementById("bulk-action");

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll('input.inbox-pick[form="inbox-bulk"]'));
  }

  function refresh() {
    var list = picks();
    var chosen = list.filter(function (p) { return p.checked; }).length;
    count.textContent = count.getAttribute("data-template").replace("{count}", String(chosen));
    all.checked = list.length > 0 && chosen === list.length;
    all.indeterminate = chosen > 0 && chosen < list.length;
  }

  function showValue() {
    Array.prototype.forEach.call(form.querySelectorAll(".bulk-value"), function (span) {
      span.hidden = span.getAttribute("data-for").split(" ").indexOf(action.value) === -1;
    });
  }

  all.closest("label").hidden = false;
  all.addEventListener("change", function () {
    picks().forEach(function (p) { p.checked = all.checked; });
    refresh();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input.inbox-pick")) refresh();
  });
  action.addEventListener("change", showValue);
  document.body.addEventListener("htmx:afterSwap", refresh);
  showValue();
  refresh();
})();

/* Reply box: a live count of the reply as its platform counts it, signature and mention included
   (the server's numbers in data attributes; the server checks again on sending). */
(function () {
  "use strict";
  var counter = document.getElementById("reply-counter");
  if (!counter) return;
  var max = parseInt(counter.getAttribute("data-max"), 10);
  var counting = counter.getAttribute("data-counting");
  var prefix = counter.getAttribute("data-prefix") || "";
  var suffix = counter.getAttribute("data-suffix") || "";
  var url = /\bhttps?:\/\/[^\s<>"]+/gi;
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  var pictographic = /\p{Extended_Pictographic}/u;

  function clusters(text) {
    if (segmenter) return Array.from(segmenter.segment(text), function (s) { return s.segment; });
    return Array.from(text);
  }

  // twitter-text's weights: these ranges count 1, everything else 2; an emoji 2; a link 23.
  function xWeight(cluster) {
    if (pictographic.test(cluster)) return 2;
    var weight = 0;
    Array.from(cluster).forEach(function (ch) {
      var c = ch.codePointAt(0);
      var light = c <= 4351 || (c >= 8192 && c <= 8205) || (c >= 8208 && c <= 8223) || (c >= 8242 && c <= 8247);
      weight += light ? 1 : 2;
    });
    return weight;
  }

  function length(text) {
    var links = 0;
    text = text.replace(url, function () { links += 1; return ""; });
    if (counting === "mastodon") text = text.replace(/(^|[^\w@\/])@([\w.+-]+)@[\w.-]+\w/g, "$1@$2");
    var parts = clusters(text);
    if (counting === "x") return parts.reduce(function (sum, c) { return sum + xWeight(c); }, 0) + links * 23;
    return parts.length + links * 23;
  }

  function refresh() {
    var box = document.getElementById("id_text");
    if (!box) return;
    var text = box.value.trim();
    var mention = prefix.trim().toLowerCase();
    var full = (mention && text.toLowerCase().indexOf(mention) !== -1 ? "" : prefix) + text + suffix;
    var size = length(full);
    var over = size - max;
    counter.querySelector("[data-count]").textContent = counter.getAttribute("data-template")
      .replace("{count}", String(size)).replace("{max}", String(max));
    counter.querySelector("[data-over]").textContent = over > 0
      ? " · " + counter.getAttribute("data-over-template").replace("{over}", String(over)) : "";
    counter.classList.toggle("over", over > 0);
  }

  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "id_text") refresh();
  });
  document.body.addEventListener("htmx:afterSwap", refresh);
  refresh();
})();
