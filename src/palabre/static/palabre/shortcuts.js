/* Shared by the pages with keyboard shortcuts (review queue, inbox): whether a key press is typing,
   and the help dialog. Loaded before the page's own script. */
window.PalabreShortcuts = (function () {
  "use strict";

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    if (tag !== "input") return false;
    var type = (target.getAttribute("type") || "text").toLowerCase();
    return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
  }

  function toggleHelp(help) {
    if (!help) return;
    if (help.open) help.close();
    else if (help.showModal) help.showModal();
    else help.setAttribute("open", "");
  }

  return { isTyping: isTyping, toggleHelp: toggleHelp };
})();
