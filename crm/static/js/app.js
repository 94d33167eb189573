// Small behaviours htmx does not cover. No inline scripts (CSP), no eval.
(function () {
  "use strict";

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var p = document.createElement("p");
    p.className = "toast toast-" + (level || "success");
    p.textContent = message;
    region.appendChild(p);
    setTimeout(function () { p.remove(); }, 6000);
  }

  // Server-sent toasts: HX-Trigger: {"toast": {"message": "...", "level": "success"}}
  document.addEventListener("toast", function (event) {
    showToast(event.detail.message, event.detail.level);
  });

  // Flashed messages are re-added after load so screen readers announce them too.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(function (p) {
      var level = (p.className.match(/toast-(\w+)/) || [])[1];
      p.remove();
      setTimeout(function () { showToast(p.textContent, level); }, 100);
    });
  });

  // Destructive buttons ask first: <form data-confirm="Archive this customer?">
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });

  // After a swap, move focus to a new error summary or tab heading for keyboard users.
  document.addEventListener("htmx:afterSettle", function (event) {
    var focus = document.querySelector("#main [data-autofocus]") ||
      (event.detail.target.id === "tab-panel" && event.detail.target.querySelector("h2"));
    if (focus) {
      focus.removeAttribute("data-autofocus");
      focus.focus();
    }
  });

  // Keep tab links' aria-current in step with the panel shown.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "tab-panel") return;
    var path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
    document.querySelectorAll(".tabs a").forEach(function (a) {
      if (a.getAttribute("href") === path) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
  });

  // Network or server errors on htmx requests get a visible message instead of silence.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (/"toast"/.test(event.detail.xhr.getResponseHeader("HX-Trigger") || "")) return;  // said already
    showToast(status === 400 ? "This page has expired. Reload it and try again." :
      status === 403 ? "Your role does not allow that." :
      status === 404 ? "That record no longer exists." :
      status === 413 ? "That file is too large for this form." :
      "Something went wrong (" + status + "). Try again.", "error");
  });
  // A table wider than the screen scrolls sideways inside its .table-wrap: make that region
  // reachable by keyboard and named for screen readers (only while it does scroll).
  function reachableScrollers(root) {
    (root || document).querySelectorAll(".table-wrap").forEach(function (wrap) {
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      if (scrolls && !wrap.hasAttribute("tabindex")) {
        var table = wrap.querySelector("table");
        var caption = table && table.querySelector("caption");
        var named = table && table.getAttribute("aria-labelledby");
        var label = (caption && caption.textContent.trim()) ||
          (named && document.getElementById(named) && document.getElementById(named).textContent.trim()) ||
          (table && table.getAttribute("aria-label")) || "Table";
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", label.slice(0, 80) + " (scrolls sideways)");
      } else if (!scrolls && wrap.getAttribute("role") === "region" && wrap.dataset.server === undefined) {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }
  reachableScrollers();
  document.addEventListener("htmx:afterSettle", function (event) { reachableScrollers(event.detail.target); });
  var resizing;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () { reachableScrollers(); }, 200);
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("The server could not be reached. Check the connection and try again.", "error");
  });
})();
