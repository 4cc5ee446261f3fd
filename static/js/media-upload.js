// Upload with a progress bar: posts the form's file to the API with XHR so upload progress
// can be shown. Without JavaScript the form posts to the page itself and still works.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var progress = document.getElementById("upload-progress");
  var statusLine = document.getElementById("upload-status");
  var errorBox = document.getElementById("upload-error");
  var submit = document.getElementById("upload-submit");

  function showError(message) {
    errorBox.textContent = "";
    var paragraph = document.createElement("p");
    paragraph.textContent = message;
    errorBox.appendChild(paragraph);
  }

  function problemMessage(xhr) {
    try {
      var problem = JSON.parse(xhr.responseText);
      if (problem && problem.detail) {
        return problem.detail;
      }
    } catch (ignored) {
      // Not JSON: fall through to the generic message.
    }
    if (xhr.status === 413) {
      return "The file is too large.";
    }
    return "The upload failed (HTTP " + xhr.status + "). Please try again.";
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files || input.files.length === 0) {
      return;
    }
    event.preventDefault();
    errorBox.textContent = "";
    // The server refuses oversized bodies without reading them, which browsers often report
    // as a dropped connection; saying so before sending is clearer.
    var maxBytes = Number(form.dataset.maxBytes);
    if (maxBytes && input.files[0].size > maxBytes) {
      showError("The file is larger than the " + form.dataset.maxUpload + " upload limit.");
      return;
    }
    var data = new FormData();
    data.append("file", input.files[0]);
    // "Analyse after upload" and the like: the API starts them once the file is accepted.
    form.querySelectorAll("input[data-follow-up]").forEach(function (choice) {
      if (choice.checked) {
        data.append(choice.name, "true");
      }
    });
    var token = form.querySelector("input[name=csrfmiddlewaretoken]");

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.apiUrl);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) {
      xhr.setRequestHeader("X-CSRFToken", token.value);
    }
    xhr.upload.addEventListener("progress", function (progressEvent) {
      if (progressEvent.lengthComputable) {
        var percent = Math.round((progressEvent.loaded / progressEvent.total) * 100);
        progress.value = percent;
        statusLine.textContent = percent < 100 ? "Uploading… " + percent + "%" : "Checking the audio…";
      }
    });
    xhr.addEventListener("load", function () {
      submit.disabled = false;
      if (xhr.status === 201) {
        var media = JSON.parse(xhr.responseText);
        var detailUrl = form.dataset.detailUrl.replace(/\/0{8}-0{4}-0{4}-0{4}-0{12}\/$/, "/" + media.id + "/");
        var followUps = media.follow_ups || {};
        var refusals = [];
        var names = Object.keys(followUps);
        for (var index = 0; index < names.length; index += 1) {
          var outcome = followUps[names[index]];
          if (outcome.status === "started") {
            statusLine.textContent = "Uploaded; starting…";
            window.location.assign(outcome.page_url);
            return;
          }
          refusals.push(outcome.detail);
        }
        if (refusals.length) {
          // The upload stands: say why nothing started and where the file is.
          progress.hidden = true;
          statusLine.textContent = "";
          showError("The file is kept, but nothing was started: " + refusals.join(" "));
          var link = document.createElement("a");
          link.href = detailUrl;
          link.textContent = "Open the uploaded file";
          errorBox.appendChild(link);
          return;
        }
        statusLine.textContent = "Done.";
        window.location.assign(detailUrl);
        return;
      }
      progress.hidden = true;
      statusLine.textContent = "";
      showError(problemMessage(xhr));
    });
    xhr.addEventListener("error", function () {
      submit.disabled = false;
      progress.hidden = true;
      statusLine.textContent = "";
      showError("The connection was lost during the upload. Please try again.");
    });
    progress.value = 0;
    progress.hidden = false;
    submit.disabled = true;
    statusLine.textContent = "Uploading…";
    xhr.send(data);
  });
})();
