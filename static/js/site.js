// Behaviour shared by every page, loaded from a file because the CSP forbids inline script:
// copy buttons, confirmations before destructive forms, the theme toggle and the phone menu.
// Every page still works without it: forms submit, the theme follows the system setting.
(function () {
  "use strict";

  // A button with data-copy-target="ID" copies that element's text and says so politely.
  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      var status = document.getElementById(button.getAttribute("data-copy-status"));
      if (!source || !navigator.clipboard) {
        return;
      }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent.trim()).then(
          function () {
            if (status) { status.textContent = "Copied to the clipboard."; }
          },
          function () {
            if (status) { status.textContent = "Could not copy: select the key and copy it."; }
          }
        );
      });
    });
  }

  // A form with data-confirm="question" submits only once the person agrees.
  function setUpConfirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  // On a phone the navigation folds behind a Menu button (CSS shows the button only there).
  function setUpMenu() {
    var header = document.querySelector(".site-header");
    var button = header && header.querySelector(".menu-toggle");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // The server renders "system" when no theme was chosen; the toggle then offers the opposite
  // of what the system shows.
  function setUpThemeToggle() {
    var button = document.querySelector(".theme-toggle");
    if (!button || document.documentElement.dataset.theme !== "system" || !window.matchMedia) {
      return;
    }
    var dark = window.matchMedia("(prefers-color-scheme: dark)");
    function label() {
      button.value = dark.matches ? "light" : "dark";
      button.textContent = dark.matches ? "Light theme" : "Dark theme";
    }
    label();
    dark.addEventListener("change", label);
  }

  document.documentElement.classList.add("js");
  setUpMenu();
  setUpThemeToggle();
  setUpCopyButtons();
  setUpConfirmations();
})();
