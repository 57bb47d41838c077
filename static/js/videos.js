// Video upload (templates/portal/_video.html): the chosen file goes straight to the file server with a
// short-lived token from the app, with a progress bar (XMLHttpRequest: fetch reports no upload progress);
// the form then records the file server's answer and shows the poster it makes.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function send(url, token, file, progress) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open("POST", url);
      request.setRequestHeader("Authorization", "Bearer " + token);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { progress.value = Math.round(100 * event.loaded / event.total); }
      });
      request.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(request.responseText); } catch (ignored) { body = null; }
        if (request.status >= 200 && request.status < 300 && body && body.data) { resolve(body.data[0]); return; }
        reject(new Error((body && body.error) || "The file server refused the file (" + request.status + ")."));
      });
      request.addEventListener("error", function () { reject(new Error("The connection to the file server failed.")); });
      request.addEventListener("timeout", function () { reject(new Error("The upload took too long.")); });
      request.timeout = 30 * 60 * 1000;
      var body = new FormData();
      body.append("video", file);
      request.send(body);
    });
  }

  async function upload(input) {
    var form = input.closest("form");
    var status = form.querySelector("[data-video-status]");
    var submit = form.querySelector("[data-video-submit]");
    var poster = form.querySelector("[data-video-poster]");
    var progress = form.querySelector("[data-video-progress]");
    var file = input.files && input.files[0];
    submit.disabled = true;
    if (!file) { return; }
    status.textContent = "Uploading " + file.name + "…";
    progress.value = 0;
    progress.hidden = false;
    try {
      var tokenAnswer = await fetch(form.dataset.tokenUrl, {
        method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrfToken()}
      });
      if (!tokenAnswer.ok) { throw new Error("You may have been logged out: reload the page."); }
      var token = (await tokenAnswer.json()).access_token;
      var stored = await send(form.dataset.filesUrl.replace(/\/$/, "") + "/videos/upload", token, file, progress);
      form.querySelectorAll("[data-video-field]").forEach(function (field) {
        field.value = stored[field.dataset.videoField];
      });
      poster.src = stored.video_ref + "/poster?w=320";
      poster.hidden = false;
      status.textContent = "Uploaded (" + Math.round(stored.video_duration) + " s, " + stored.video_width + "×" +
        stored.video_height + "). Save to keep it.";
      submit.disabled = false;
    } catch (error) {
      status.textContent = "Not uploaded: " + error.message;
    } finally {
      progress.hidden = true;
    }
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-video-file]")) {
      upload(event.target);
    }
  });
  // A file chosen while the page was still loading (before this script ran) had its change event unheard.
  document.querySelectorAll("[data-video-file]").forEach(function (input) {
    if (input.files && input.files.length) { upload(input); }
  });
})();
