// Ikrar, the signing page: progressive enhancements only; the form works without this file.
(function () {
  "use strict";

  // A switch that shows the passphrase as typed, and hides it again: on a phone, in a
  // hall, a typo is easy to make and a wrong passphrase counts towards the lock.
  document.querySelectorAll("[data-reveal]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-reveal"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var shown = field.type === "password";
      field.type = shown ? "text" : "password";
      button.setAttribute("aria-pressed", shown ? "true" : "false");
      field.focus();
    });
    // The passphrase is always sent, and left behind, as a hidden field.
    if (field.form) {
      field.form.addEventListener("submit", function () {
        field.type = "password";
        button.setAttribute("aria-pressed", "false");
      });
    }
  });

  // After a refused attempt the page opens at the message (the form posts to #sign-box)
  // and ikrar.js gives it the focus; Chromium's scroll to the anchor, once the page has
  // loaded, takes that focus away again: give it back then.
  var message = document.getElementById("form-error");
  if (message) {
    var land = function () {
      message.focus({ preventScroll: true });
      message.scrollIntoView({ block: "nearest" });  // only when the anchor left it out of view
    };
    if (document.readyState === "complete") { land(); } else { window.addEventListener("load", land); }
  }
})();
