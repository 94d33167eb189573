// rq-dashboard under the app's CSP and CSRF rules (loaded after jQuery and underscore, before
// the dashboard's own page script):
// - _.template(text) compiles with new Function, which the CSP forbids: hand back the
//   precompiled template (templates.js) of the <script type="text/template"> holding `text`;
// - every jQuery request carries the app's CSRF token (its requeue / delete / empty posts).
(function () {
  "use strict";
  var names = {};
  document.querySelectorAll('script[type="text/template"]').forEach(function (tpl) {
    names[tpl.innerHTML] = tpl.getAttribute("name");
  });
  _.template = function (text) {
    var compiled = window.RQ_TEMPLATES[names[text]];
    if (!compiled) { throw new Error("rq-dashboard template not precompiled: " + names[text]); }
    return compiled;
  };
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { $.ajaxSetup({headers: {"X-CSRFToken": meta.getAttribute("content")}}); }
})();
