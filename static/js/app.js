// The portal's own script (loaded after htmx, both deferred). Everything works without it; it only
// makes htmx requests carry the CSRF token and lets forms show their error answers in place.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

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
})();
