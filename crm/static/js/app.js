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
    // the tab whose address is the path or its longest prefix (an order of the Orders tab)
    var links = document.querySelectorAll(".tabs a"), best = null;
    links.forEach(function (a) {
      var href = a.getAttribute("href");
      if (path && (href === path || path.indexOf(href + "/") === 0)
          && (!best || href.length > best.getAttribute("href").length)) best = a;
    });
    links.forEach(function (a) {
      if (a === best) a.setAttribute("aria-current", "page");
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
  // The header search (layouts/staff.html): an ARIA combobox. Focus stays in the box; the
  // arrow keys move aria-activedescendant through the options htmx swapped in, Enter opens
  // the chosen one (or, with none chosen, submits to the results page), Escape closes. "/"
  // anywhere but in a field comes here. One live region says how many results there are.
  function siteSearch() {
    var input = document.getElementById("site-search-q");
    var panel = document.getElementById("site-search-results");
    var status = document.getElementById("site-search-status");
    if (!input || !panel) return;
    var form = input.form;
    var active = -1;

    function options() { return panel.querySelectorAll('[role="option"]'); }
    function isOpen() { return !panel.hidden; }
    function open() {
      if (!panel.firstElementChild) return;
      panel.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function choose(index) {  // -1: none
      var found = options();
      found.forEach(function (option) { option.setAttribute("aria-selected", "false"); });
      if (index < 0 || !found.length) {
        active = -1;
        input.removeAttribute("aria-activedescendant");
        return;
      }
      active = index % found.length;
      found[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", found[active].id);
      found[active].scrollIntoView({block: "nearest"});
    }
    function close() {
      panel.hidden = true;
      input.setAttribute("aria-expanded", "false");
      choose(-1);
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!options().length) return;
        event.preventDefault();
        var count = options().length, down = event.key === "ArrowDown";
        if (!isOpen()) { open(); choose(down ? 0 : count - 1); return; }
        choose(down ? (active + 1) % count : (active <= 0 ? count - 1 : active - 1));
      } else if (event.key === "Enter" && isOpen() && active >= 0) {
        event.preventDefault();
        window.location.assign(options()[active].href);
      } else if (event.key === "Escape") {
        if (isOpen()) { event.preventDefault(); close(); }
        else if (input.value) { event.preventDefault(); input.value = ""; panel.innerHTML = ""; status.textContent = ""; }
      }
    });
    input.addEventListener("input", function () {
      if (!input.value.trim()) { close(); panel.innerHTML = ""; status.textContent = ""; }
    });
    input.addEventListener("focus", function () { if (input.value.trim()) open(); });
    form.addEventListener("focusout", function (event) {
      if (!event.relatedTarget || !form.contains(event.relatedTarget)) close();
    });
    // Options are links: a click opens them; keep focus in the box while choosing with a mouse.
    panel.addEventListener("mousedown", function (event) {
      if (event.target.closest('[role="option"]')) event.preventDefault();
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== panel) return;
      choose(-1);
      if (!input.value.trim() || !panel.firstElementChild) { close(); status.textContent = ""; return; }
      var listbox = panel.querySelector('[role="listbox"]');
      status.textContent = listbox ? listbox.getAttribute("data-summary") : "";
      if (document.activeElement === input) open();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
      var target = event.target;
      if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
      event.preventDefault();
      input.focus();
      input.select();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", siteSearch);
  else siteSearch();

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

  // Click to edit, in place (macros/inline.html): after a section is swapped in, the focus
  // goes into its form (Edit), back to its Edit link (Save, Cancel), or to its heading
  // (data-inline-focus="heading", e.g. after Remove), unless an error summary took it.
  document.addEventListener("htmx:afterSettle", function () {
    var section = document.querySelector("[data-inline-focus]");
    if (!section) return;
    var mode = section.getAttribute("data-inline-focus");
    section.removeAttribute("data-inline-focus");
    var active = document.activeElement;
    if (active && active !== document.body && section.contains(active)) return;
    var target = mode === "form"
      ? section.querySelector("form [data-autofocus], form input:not([type=hidden]):not([disabled]), form select, form textarea")
      : mode === "read" && section.querySelector("[data-inline-edit]");
    target = target || section.querySelector("h2, h3, h4");
    if (target) target.focus();
  });
})();

// Phone layout (issue 14). The header's Menu button: at phone width the navigation, the search
// and the account fold behind it (a disclosure: aria-expanded, Escape closes). Only this script
// hides them, so without JavaScript they stay in view; on a wide screen they are always shown.
(function () {
  "use strict";

  var button = document.querySelector(".menu-button[aria-controls]");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  var narrow = window.matchMedia("(max-width: 640px)");

  function setOpen(open) {
    if (!menu) return;
    menu.hidden = !open && narrow.matches;
    button.setAttribute("aria-expanded", String(!menu.hidden));
  }

  if (menu) {
    button.hidden = false;
    setOpen(false);
    button.addEventListener("click", function () { setOpen(menu.hidden); });
    narrow.addEventListener("change", function () { setOpen(false); });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || event.defaultPrevented || menu.hidden || !narrow.matches) return;
      var inside = menu.contains(document.activeElement) || document.activeElement === button;
      if (!inside) return;
      event.preventDefault();
      setOpen(false);
      button.focus();
    });
    // "/" goes to the header search (siteSearch, above): open the menu first so it can.
    document.addEventListener("keydown", function (event) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || !menu.hidden) return;
      var target = event.target;
      if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
      setOpen(true);
    }, true);
  }

  // One live region for short summaries (layouts/base.html #announce); htmx answers fill it
  // out of band too ("12 customers"). Emptied first, so the same words are heard again.
  function announce(message) {
    var region = document.getElementById("announce");
    if (!region) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = message; }, 50);
  }

  // The customer's tabs: say which tab is shown (the panel itself is not a live region; the
  // focus moves to its heading, above), and keep the current tab in view in the sideways row.
  function showCurrentTab() {
    var list = document.querySelector(".tabs ul");
    var current = list && list.querySelector("a[aria-current]");
    if (!current || list.scrollWidth <= list.clientWidth) return;
    var box = list.getBoundingClientRect(), tab = current.getBoundingClientRect();
    if (tab.left < box.left || tab.right > box.right) {
      list.scrollLeft += tab.left - box.left - (box.width - tab.width) / 2;
    }
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "tab-panel") return;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (source && source.closest && source.closest(".tabs")) {
      announce(source.textContent.trim() + " tab");
      showCurrentTab();
    }
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", showCurrentTab);
  else showCurrentTab();

  // A "Print" link (<a data-print href="….pdf">) prints the page (its print CSS); without
  // JavaScript it opens the document's PDF, which prints as well.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-print]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    window.print();
  });
})();
