// The festival editor's time zone and the timetable's editor (loaded on every portal page; it acts only
// where its elements are). Everything here has a no-JavaScript way too: the zone defaults to UTC, a block
// opens the events page's editor, and each block has a "Move" form.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // A new festival's time zone defaults to the browser's.
  function defaultZone() {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (error) { return; }
    document.querySelectorAll("input[data-browser-zone]").forEach(function (input) {
      if (!input.value && zone) { input.value = zone; }
    });
  }
  document.addEventListener("DOMContentLoaded", defaultZone);
  document.addEventListener("htmx:afterSettle", defaultZone);

  // The times' hints name the zone the form's zone field shows ("Local time (Europe/Berlin)"), also while
  // it is typed: the server named the zone it knew when it rendered the page.
  function nameZone(input) {
    var zone = input.value.trim() || "UTC";
    input.form.querySelectorAll("input[type=datetime-local]").forEach(function (time) {
      var hint = document.getElementById(time.id + "-hint");
      if (hint) { hint.textContent = "Local time (" + zone + ")"; }
    });
  }
  function nameZones() { document.querySelectorAll("input[data-browser-zone]").forEach(nameZone); }
  document.addEventListener("DOMContentLoaded", nameZones);
  document.addEventListener("htmx:afterSettle", nameZones);
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("input[data-browser-zone]")) { nameZone(event.target); }
  });

  // Click a block: its editor opens in the dialog (htmx fills the dialog's body).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "tt-dialog-body") {
      var dialog = document.getElementById("tt-dialog");
      if (dialog && !dialog.open) { dialog.showModal(); }
      var first = dialog && dialog.querySelector("input:not([type=hidden])");
      if (first) { first.focus(); }
    }
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close-dialog]");
    if (close) { close.closest("dialog").close(); }
  });

  // Drag a block to another time or stage: snapped to the grid's rows (5 minutes), posted to its move form.
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".tt-event");
    if (!block) { return; }
    dragged = {block: block, grabY: event.clientY - block.getBoundingClientRect().top};
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.eventId);
  });
  document.addEventListener("dragover", function (event) {
    if (dragged && event.target.closest && event.target.closest(".timetable")) { event.preventDefault(); }
  });
  document.addEventListener("drop", function (event) {
    var grid = dragged && event.target.closest && event.target.closest(".timetable");
    if (!grid) { return; }
    event.preventDefault();
    var body = grid.querySelector(".tt-body").getBoundingClientRect();
    var rows = Number(grid.dataset.rows);
    var row = Math.max(0, Math.round((event.clientY - dragged.grabY - body.top) / (body.height / rows)));
    var at = Number(grid.dataset.dayStart) + row * Number(grid.dataset.slot);
    var stage = null;
    grid.querySelectorAll(".tt-location").forEach(function (header) {
      var box = header.getBoundingClientRect();
      if (event.clientX >= box.left && event.clientX < box.right) { stage = header.dataset.stage; }
    });
    if (stage === null) { dragged = null; return; }
    move(dragged.block, at, stage);
    dragged = null;
  });

  async function move(block, at, stage) {
    var status = document.getElementById("tt-status");
    var form = new FormData();
    form.append("csrf_token", csrfToken());
    form.append("at", String(at));
    form.append("location", stage);
    status.textContent = "Moving…";
    var answer = await fetch(block.dataset.moveUrl, {
      method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}, body: form,
      redirect: "manual"  // the redirect's page would take the flash message the reload should show
    });
    if (answer.type === "opaqueredirect" || answer.ok) { window.location.reload(); return; }
    var page = new DOMParser().parseFromString(await answer.text(), "text/html");
    var problem = page.querySelector(".field-error, .form-error");
    status.textContent = "Not moved: " + (problem ? problem.textContent.trim() : "the server said " + answer.status + ".");
  }
})();
