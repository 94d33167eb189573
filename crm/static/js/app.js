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

  // Text with a length limit (data-maxlength, from the field macro): a counter under it once
  // the text nears the limit, so a long paste is seen to be too long instead of being cut
  // (the server refuses it with the same count). Screen readers hear the count after a pause.
  var counted = "[data-maxlength]";
  var quiet = {};

  function characters(field) {
    var sent = field.value.replace(/\r?\n/g, "\r\n");  // forms send a textarea's lines so
    return Array.from(sent).length;  // code points, as the server counts them
  }

  function count(field, loaded) {
    var limit = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!limit || !field.id) return;
    var counter = document.getElementById(field.id + "-count");
    if (!counter) {
      counter = document.createElement("p");
      counter.id = field.id + "-count";
      counter.className = "counter";
      var shown = document.createElement("span"), heard = document.createElement("span");
      shown.setAttribute("aria-hidden", "true");
      heard.className = "visually-hidden";
      heard.setAttribute("aria-live", "polite");
      counter.append(shown, heard);
      field.insertAdjacentElement("afterend", counter);
    }
    var length = characters(field), over = length - limit;
    var text = over > 0
      ? length.toLocaleString() + " characters: " + over.toLocaleString() + " too many (" +
        limit.toLocaleString() + " at most)"
      : length.toLocaleString() + " of " + limit.toLocaleString() + " characters";
    // Just after the server refused it, its message says the same: no second one until typed in.
    var refused = loaded && field.getAttribute("aria-invalid") === "true";
    counter.hidden = length < limit * 0.8 || refused;
    counter.classList.toggle("over", over > 0);
    counter.firstChild.textContent = text;
    clearTimeout(quiet[field.id]);
    quiet[field.id] = setTimeout(function () {
      counter.lastChild.textContent = counter.hidden ? "" : text;
    }, 800);
  }

  function countAll(root) {
    var fields = Array.from(root.querySelectorAll(counted));
    if (root.matches && root.matches(counted)) fields.push(root);
    fields.forEach(function (field) { count(field, true); });
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches(counted)) count(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () { countAll(document); });
  document.addEventListener("htmx:load", function (event) { countAll(event.detail.elt); });

  // A plain (not htmx) form that creates something (data-creates, the `creates` macro)
  // disables its buttons once it is sent, as hx-disabled-elt does for htmx forms; they work
  // again when the page comes back from the history. After the event, so the button pressed
  // is still sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.matches || !form.matches("form[data-creates]")) return;
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-creates] button").forEach(function (b) {
      b.disabled = false;
    });
  });

  // Enter in a one-line field of a form marked data-no-enter-submit (the quick log) does not
  // send it; its buttons still do, with Enter or Space.
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key !== "Enter" || field.tagName !== "INPUT" || !field.form) return;
    if (!field.form.hasAttribute("data-no-enter-submit")) return;
    if (!/^(submit|button|reset|image|file)$/.test(field.type)) event.preventDefault();
  });

  // A folded field (<details data-focus-on-open="#field">) takes the focus when it opens.
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    var selector = details.getAttribute && details.getAttribute("data-focus-on-open");
    var field = details.open && selector && details.querySelector(selector);
    if (field) field.focus();
  }, true);  // toggle does not bubble

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
  document.addEventListener("htmx:sendError", function () {
    showToast("The server could not be reached. Check the connection and try again.", "error");
  });
})();
