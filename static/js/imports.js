// CSV import: a progress indicator while the file uploads (with htmx, a boosted form reports upload
// progress) and while the server checks or saves the rows. Without JavaScript the forms post as usual.
(function () {
  "use strict";
  if (window.festivalsImportProgress) { return; }  // the page may load this script again after navigation
  window.festivalsImportProgress = true;

  function parts(form) {
    var box = form.querySelector("[data-import-progress]");
    return box ? {box: box, bar: box.querySelector("progress"), status: box.querySelector("[data-import-status]")} : null;
  }

  function rowsIn(form) {
    var text = form.querySelector("textarea, input[name=csv_text]");
    var count = text && text.value ? text.value.split("\n").filter(function (line) { return line.trim(); }).length - 1 : 0;
    return count > 1 ? count + " rows" : count === 1 ? "1 row" : "the rows";
  }

  function working(form, message) {
    var p = parts(form);
    if (!p) { return; }
    p.box.hidden = false;
    p.bar.removeAttribute("value");  // indeterminate: the server is at work
    p.status.textContent = message;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("[data-import-form]");
    if (form) {
      working(form, form.hasAttribute("data-import-saving") ? "Saving " + rowsIn(form) + "…" : "Sending the file…");
    }
  });

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target.closest && event.target.closest("[data-import-form]");
    var p = form && parts(form);
    if (!p || !event.detail.lengthComputable) { return; }
    if (event.detail.loaded < event.detail.total) {
      p.bar.max = event.detail.total;
      p.bar.value = event.detail.loaded;
      p.status.textContent = "Sending the file… " + Math.round(100 * event.detail.loaded / event.detail.total) + " %";
    } else if (!form.hasAttribute("data-import-saving")) {
      working(form, "Checking " + rowsIn(form) + "…");
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("[data-import-form]");
    var p = form && parts(form);
    if (p && !event.detail.successful) {
      p.bar.value = 0;
      p.status.textContent = "The server did not answer; try again.";
    }
  });

  // Without htmx (or before it loaded), a plain submission still shows that the server is at work.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("[data-import-form]");
    if (form && !window.htmx) {
      working(form, form.hasAttribute("data-import-saving") ? "Saving…" : "Checking the rows…");
    }
  });
})();
