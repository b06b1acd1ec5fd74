// The post page: ask before a change that cannot be taken back or that sends an approved post back
// for approval (a new time, a new text), never silently. Forms work without it; it only asks.
(function () {
  "use strict";
  function changed(form, selector) {
    var fields = form.querySelectorAll(selector);
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value !== fields[i].defaultValue) return true;
    }
    return false;
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var questions = [];
    if (form.dataset.confirm) questions.push(form.dataset.confirm);
    if (form.dataset.confirmTime && changed(form, "input[name$='scheduled_at']")) {
      questions.push(form.dataset.confirmTime);
    }
    if (form.dataset.confirmText && changed(form, "textarea[name$='text']")) {
      questions.push(form.dataset.confirmText);
    }
    if (questions.length && !window.confirm(questions.join("\n"))) event.preventDefault();
  });
})();
