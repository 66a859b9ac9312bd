// Ikrar: small progressive enhancements only; every page works without this file.
(function () {
  "use strict";

  // A "copy" button next to a read-only field (the enrolment link).
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.getAttribute("data-copied");
      });
    });
  });

  // A form sent back with an error opens at its message (macros.html `error_box`): it takes
  // the focus, so that a screen reader reads it first, and comes into view on a phone.
  var error = document.getElementById("form-error");
  if (error && !error.contains(document.activeElement)) {
    if (!error.hasAttribute("tabindex")) { error.setAttribute("tabindex", "-1"); }
    error.focus({ preventScroll: true });
    var box = error.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) { error.scrollIntoView({ block: "start" }); }
  }

  // Select the whole link when the field gets focus.
  document.querySelectorAll(".link-box").forEach(function (field) {
    field.addEventListener("focus", function () { field.select(); });
  });

  // A form whose submit button says what is happening: signing takes a moment,
  // and a second click must not send the form twice.
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter || form.querySelector("[data-busy]");
      if (!button || !button.hasAttribute("data-busy")) { return; }
      if (form.getAttribute("data-sent") === "1") { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
      button.setAttribute("aria-disabled", "true");
      button.textContent = button.getAttribute("data-busy");
    });
  });
})();
