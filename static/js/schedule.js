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
      var form = dialog && dialog.querySelector("form[aria-label]");
      if (form) { document.getElementById("tt-dialog-head").textContent = form.getAttribute("aria-label"); }
      if (dialog && !dialog.open) { dialog.showModal(); }
      var first = dialog && dialog.querySelector("input:not([type=hidden])");
      if (first) { first.focus(); }
    }
  });
  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close-dialog]");
    if (close) { close.closest("dialog").close(); }
  });

  // Where a point of a day's grid is: the slot's moment (`every` seconds: 5 minutes for a drop, 15 for a click)
  // and the stage under it (null outside the stages' columns).
  // Rows grow where an event's text needs it, so a point's row comes from the rows' laid-out heights (the
  // grid's resolved grid-template-rows: the header row, then one height per 5-minute row).
  function rowAt(grid, clientY) {
    var heights = getComputedStyle(grid).gridTemplateRows.split(" ").slice(1).map(parseFloat);
    var y = clientY - grid.querySelector(".tt-body").getBoundingClientRect().top;
    for (var row = 0; row < heights.length - 1; row++) {
      if (y < heights[row]) { return row; }
      y -= heights[row];
    }
    return heights.length - 1;
  }
  function slotAt(grid, clientX, clientY, every) {
    var slot = Number(grid.dataset.slot);
    var row = rowAt(grid, clientY);
    var perSlot = Math.max(1, Math.round(every / slot));
    var stage = null;
    grid.querySelectorAll(".tt-location").forEach(function (header) {
      var box = header.getBoundingClientRect();
      if (clientX >= box.left && clientX < box.right) { stage = header.dataset.stage; }
    });
    return {at: Number(grid.dataset.dayStart) + (row - row % perSlot) * slot, stage: stage};
  }

  // Click an empty slot: the add form opens in the dialog with the slot's start and stage filled.
  document.addEventListener("click", function (event) {
    var grid = event.target.closest && event.target.closest(".timetable");
    if (!grid || event.target.closest(".tt-event, .tt-location, .tt-corner, .tt-hour") || !window.htmx) { return; }
    var slot = slotAt(grid, event.clientX, event.clientY, 15 * 60);
    if (slot.stage === null) { return; }
    var url = grid.dataset.newUrl + "?at=" + slot.at + "&stage=" + encodeURIComponent(slot.stage);
    window.htmx.ajax("GET", url, {target: "#tt-dialog-body", swap: "innerHTML"});
  });

  // Drag a block to another time or stage: while moving, a label on the grid says where it would land (time
  // and stage, snapped to the grid's 5-minute rows); the drop posts to the block's move form, and the
  // timetable is swapped in place (no page load), its message with the server's "Undo" (portal/undo.py).
  var dragged = null;
  function clock(grid, at) {
    var parts = grid.dataset.dayClock.split(":");
    var minutes = Number(parts[0]) * 60 + Number(parts[1]) + Math.round((at - Number(grid.dataset.dayStart)) / 60);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return pad(Math.floor(minutes / 60) % 24) + ":" + pad(minutes % 60);
  }
  function target(grid, event) {
    var rowHeight = grid.querySelector(".tt-body").getBoundingClientRect().height / Number(grid.dataset.rows);
    return slotAt(grid, event.clientX, event.clientY - dragged.grabY + rowHeight / 2, 5 * 60);
  }
  function dropLabel(grid) {
    var label = grid.querySelector(".tt-drop");
    if (!label) {
      label = document.createElement("div");
      label.className = "tt-drop";
      label.setAttribute("data-testid", "tt-drop");
      grid.appendChild(label);
    }
    return label;
  }
  function clearDrop() {
    document.querySelectorAll(".tt-drop").forEach(function (label) { label.remove(); });
  }
  document.addEventListener("dragstart", function (event) {
    var block = event.target.closest && event.target.closest(".tt-event");
    if (!block) { return; }
    dragged = {block: block, grabY: event.clientY - block.getBoundingClientRect().top};
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.eventId);
  });
  document.addEventListener("dragover", function (event) {
    var grid = dragged && event.target.closest && event.target.closest(".timetable");
    if (!grid) { return; }
    event.preventDefault();
    var spot = target(grid, event);
    var label = dropLabel(grid);
    label.textContent = spot.stage === null ? "Not on a stage" : clock(grid, spot.at) + " · " + (spot.stage || "No stage");
    var box = grid.getBoundingClientRect();
    label.style.top = (event.clientY - box.top - dragged.grabY) + "px";
    label.style.left = (event.clientX - box.left + 12) + "px";
  });
  document.addEventListener("dragend", clearDrop);
  document.addEventListener("drop", function (event) {
    var grid = dragged && event.target.closest && event.target.closest(".timetable");
    if (!grid) { return; }
    event.preventDefault();
    clearDrop();
    var spot = target(grid, event);
    var block = dragged.block;
    dragged = null;
    if (spot.stage === null) { return; }
    move(block.dataset.moveUrl, spot.at, spot.stage);
  });

  // Post a move; true when it was saved (the timetable is then swapped in place, with the saved message).
  function move(url, at, stage) {
    var form = new FormData();
    form.append("csrf_token", csrfToken());
    form.append("at", String(at));
    form.append("location", stage);
    return post(url, form, "Moving…", "Not moved: ");
  }

  // An undo offered on the timetable is posted the same way: the timetable swapped in place, no page load.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches(".undo-form") || !form.elements.back || form.elements.back.value !== "timetable") { return; }
    event.preventDefault();
    event.stopPropagation();  // in the capture phase: htmx's boost never sees it
    post(form.action, new FormData(form), "Undoing…", "Not undone: ");
  }, true);

  async function post(url, form, waiting, failed) {
    var status = document.getElementById("tt-status");
    if (status) { status.textContent = waiting; }
    var answer = await fetch(url, {
      method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}, body: form,
      redirect: "manual"  // the redirect's page would take the flash message the swapped page shows
    });
    if (answer.type === "opaqueredirect" || answer.ok) {
      var html = await (await fetch(window.location.pathname, {credentials: "same-origin"})).text();
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
      document.getElementById("main").replaceWith(fresh);
      if (window.htmx) { window.htmx.process(fresh); }
      document.dispatchEvent(new CustomEvent("festivals:swapped"));  // app.js: the new undo's minute starts
      return true;
    }
    var page = new DOMParser().parseFromString(await answer.text(), "text/html");
    var problem = page.querySelector(".field-error, .form-error");
    if (status) { status.textContent = failed + (problem ? problem.textContent.trim() : "the server said " + answer.status + "."); }
    return false;
  }
})();
