// The portal's own script (loaded after htmx, both deferred). Everything works without it; it only
// makes htmx requests carry the CSRF token and lets forms show their error answers in place.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // An "Undo" beside a change's message is offered for a minute (data-undo-until: unix seconds); the server
  // refuses a late one anyway (app/services/undo.py).
  function expireUndo() {
    document.querySelectorAll("form[data-undo-until]:not([data-expiring])").forEach(function (form) {
      form.setAttribute("data-expiring", "");
      var left = Number(form.getAttribute("data-undo-until")) * 1000 - Date.now();
      setTimeout(function () { form.remove(); }, Math.max(0, left));
    });
  }
  document.addEventListener("DOMContentLoaded", expireUndo);
  document.addEventListener("htmx:afterSettle", expireUndo);
  document.addEventListener("festivals:swapped", expireUndo);

  // flask-wtf checks the X-CSRFToken header on every unsafe request htmx sends.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // A failed form answers 422 with the form and its messages: swap it in like a success. Forms marked
  // data-swap-errors also show the "expired form" (400) and "too many attempts" (429) notes in place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    var optedIn = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-swap-errors]");
    if (status === 422 || status === 409 || (optedIn && (status === 400 || status === 429))) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A field check (data-check) answers for the value it sent: when the field changed since, the answer is
  // stale and would show the old value again, so it is dropped (the newer value's check is queued behind it).
  function checkedValue(block) {
    var field = block.querySelector("input, textarea, select");
    return field ? field.value : "";
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var block = event.detail.elt;
    if (block && block.hasAttribute && block.hasAttribute("data-check")) { block.dataset.sent = checkedValue(block); }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var block = event.detail.elt;
    if (block && block.hasAttribute && block.hasAttribute("data-check") && checkedValue(block) !== block.dataset.sent) {
      event.detail.shouldSwap = false;
    }
  });
})();

// Image upload: the chosen file goes straight to the file server with a short-lived token from the app;
// the form then records the file server's answer (hash and URL) in the app.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function errorText(body, fallback) {
    return (body && body.error && (body.error.message || body.error)) || fallback;
  }

  async function upload(input) {
    var form = input.closest("form");
    var status = form.querySelector("[data-upload-status]");
    var submit = form.querySelector("[data-upload-submit]");
    var preview = form.querySelector("[data-upload-preview]");
    var file = input.files && input.files[0];
    submit.disabled = true;
    if (!file) { return; }
    status.textContent = "Uploading " + file.name + "…";
    try {
      var tokenAnswer = await fetch(form.dataset.tokenUrl, {
        method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}
      });
      if (!tokenAnswer.ok) { throw new Error("You may have been logged out: reload the page."); }
      var token = (await tokenAnswer.json()).access_token;
      var body = new FormData();
      body.append("image", file);
      var answer = await fetch(form.dataset.filesUrl.replace(/\/$/, "") + "/images/upload", {
        method: "POST", headers: {"Authorization": "Bearer " + token}, body: body
      });
      var result = await answer.json().catch(function () { return null; });
      if (!answer.ok) { throw new Error(errorText(result, "The file server refused the file (" + answer.status + ").")); }
      var stored = result.data[0];
      form.querySelector("[data-upload-hash]").value = stored.image_hash;
      form.querySelector("[data-upload-ref]").value = stored.image_ref;
      preview.src = stored.image_ref + "?w=320";
      preview.hidden = false;
      status.textContent = "Uploaded. Add a caption if you like, then save.";
      submit.disabled = false;
    } catch (error) {
      status.textContent = "Not uploaded: " + error.message;
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-upload-file]")) {
      upload(event.target);
    }
  });
  // A file chosen while the page was still loading (before this script ran) had its change event unheard.
  document.querySelectorAll("[data-upload-file]").forEach(function (input) {
    if (input.files && input.files.length) { upload(input); }
  });
})();
