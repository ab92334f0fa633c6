/* Upload forms of the roll-up area: show the upload's progress for large files, then put
   the server's answer (preview or errors) in place of the page's main part. Without
   JavaScript the form posts as usual. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.import-form") || !window.XMLHttpRequest) { return; }
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files || !input.files.length) { return; }
    event.preventDefault();
    var bar = form.querySelector("progress");
    var button = form.querySelector('button[type="submit"]');
    if (bar) { bar.classList.remove("d-none"); bar.value = 0; }
    if (button) { button.disabled = true; }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (e) {
      if (bar && e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    });
    xhr.addEventListener("load", function () {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var fresh = doc.querySelector("main");
      var current = document.querySelector("main");
      if (fresh && current) {
        current.replaceWith(document.adoptNode(fresh));
        window.scrollTo(0, 0);
      } else {
        HTMLFormElement.prototype.submit.call(form);
      }
    });
    xhr.addEventListener("error", function () { HTMLFormElement.prototype.submit.call(form); });
    xhr.send(new FormData(form));
  });
})();
