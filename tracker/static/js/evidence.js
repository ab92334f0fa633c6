/* Evidence panel (area: evidence): upload by choosing or dragging files, one request per
   file with its own progress bar; refresh the list afterwards; preview images and PDFs in
   a dialog. Without this script the same forms post normally and every link works. */
(function () {
  "use strict";

  function messages(panel) {
    var el = panel.querySelector("[data-evidence-messages]");
    return el ? el.dataset : {};
  }

  function queueItem(list, file) {
    var li = document.createElement("li");
    li.className = "evidence-queue-item";
    var name = document.createElement("div");
    name.className = "small evidence-queue-name";
    name.textContent = file.name;
    var bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", file.name);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    var fill = document.createElement("div");
    fill.className = "progress-bar";
    bar.appendChild(fill);
    var note = document.createElement("div");
    note.className = "small evidence-queue-note";
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(note);
    list.appendChild(li);
    return {
      progress: function (pct) {
        bar.setAttribute("aria-valuenow", String(pct));
        fill.style.width = pct + "%";  // CSSOM, not an inline style attribute: allowed by CSP
      },
      finish: function (ok, text) {
        fill.classList.add(ok ? "bg-success" : "bg-danger");
        if (!ok) { this.progress(100); }
        note.textContent = text;
        note.classList.add(ok ? "text-success" : "text-danger");
      }
    };
  }

  function errorText(xhr, msg) {
    try {
      var body = JSON.parse(xhr.responseText);
      var details = [];
      if (body.fields) {
        Object.keys(body.fields).forEach(function (k) { details = details.concat(body.fields[k]); });
      }
      return details.length ? details.join(" ") : (body.message || msg.failed);
    } catch (e) {
      return msg.failed + " (" + xhr.status + ")";
    }
  }

  function sendOne(form, file, row, msg) {
    return new Promise(function (resolve) {
      var data = new FormData();
      ["csrf_token", "type", "item", "description"].forEach(function (name) {
        var field = form.elements.namedItem(name);
        if (field && field.value !== undefined) { data.append(name, field.value); }
      });
      data.append("file", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { row.progress(Math.round(event.loaded * 100 / event.total)); }
      });
      xhr.addEventListener("load", function () {
        var ok = xhr.status >= 200 && xhr.status < 300;
        if (ok) { row.progress(100); }
        row.finish(ok, ok ? msg.done : msg.failed + ": " + errorText(xhr, msg));
        resolve(ok);
      });
      xhr.addEventListener("error", function () {
        row.finish(false, msg.network);
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function refresh(panel) {
    return fetch(panel.dataset.panelUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["[data-evidence-list]", "[data-evidence-required]"].forEach(function (sel) {
          var fresh = doc.querySelector(sel);
          var old = panel.querySelector(sel);
          if (fresh && old) { old.replaceWith(document.importNode(fresh, true)); }
        });
      });
  }

  function bindUpload(panel) {
    var form = panel.querySelector("[data-evidence-upload]");
    if (!form) { return; }
    var msg = messages(panel);
    var input = form.querySelector("input[type=file]");
    var drop = form.querySelector("[data-evidence-drop]");
    var list = form.querySelector("[data-evidence-queue]");
    var maxBytes = parseInt(msg.maxBytes || "0", 10);

    function upload(files) {
      var chain = Promise.resolve(true);
      var any = false;
      Array.prototype.forEach.call(files, function (file) {
        var row = queueItem(list, file);
        if (maxBytes && file.size > maxBytes) {  // spares the wait; the server checks anyway
          row.finish(false, msg.tooLarge);
          return;
        }
        any = true;
        row.progress(0);
        chain = chain.then(function () { return sendOne(form, file, row, msg); });
      });
      if (any) { chain.then(function () { return refresh(panel); }); }
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var files = input && input.files ? Array.prototype.slice.call(input.files) : [];
      if (!files.length) {
        var li = document.createElement("li");
        li.className = "small text-danger";
        li.textContent = msg.choose;
        list.appendChild(li);
        return;
      }
      upload(files);
      if (input) { input.value = ""; }
    });

    if (drop) {
      ["dragenter", "dragover"].forEach(function (type) {
        drop.addEventListener(type, function (event) {
          event.preventDefault();
          drop.classList.add("evidence-drop-active");
        });
      });
      ["dragleave", "drop"].forEach(function (type) {
        drop.addEventListener(type, function () { drop.classList.remove("evidence-drop-active"); });
      });
      drop.addEventListener("drop", function (event) {
        event.preventDefault();
        if (event.dataTransfer && event.dataTransfer.files.length) {
          upload(event.dataTransfer.files);  // dropping is choosing and sending at once
        }
      });
    }
  }

  function bindPreview(panel) {
    var modalEl = panel.querySelector("[data-evidence-modal]");
    if (!modalEl || !window.bootstrap) { return; }
    var modal = new window.bootstrap.Modal(modalEl);
    var body = modalEl.querySelector("[data-evidence-modal-body]");
    var title = modalEl.querySelector("[data-evidence-modal-title]");
    panel.addEventListener("click", function (event) {
      var link = event.target.closest("[data-evidence-preview]");
      if (!link) { return; }
      event.preventDefault();
      body.textContent = "";
      title.textContent = link.dataset.title || "";
      var view;
      if (link.dataset.kind === "pdf") {
        view = document.createElement("iframe");
        view.className = "evidence-preview-pdf";
        view.title = link.dataset.title || "";
      } else {
        view = document.createElement("img");
        view.className = "img-fluid evidence-preview-image";
        view.alt = link.dataset.title || "";
      }
      view.src = link.href;
      body.appendChild(view);
      modal.show();
    });
    modalEl.addEventListener("hidden.bs.modal", function () { body.textContent = ""; });
  }

  function init() {
    document.querySelectorAll("[data-evidence-panel]").forEach(function (panel) {
      bindUpload(panel);
      bindPreview(panel);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
