/* The main menu (templates/_partials/nav.html) is a <details> element: below 992px
   (phones, tablets) it folds behind its "Menu" button and needs no script at all. This file only adds comfort:
   - wider screens keep it open (app.css does so where ::details-content is supported;
     older browsers get the `open` attribute from here);
   - Escape closes the folded menu and puts the focus back on its button. */
(function () {
  "use strict";
  var menu = document.getElementById("main-menu");
  if (!menu || !window.matchMedia) { return; }
  var wide = window.matchMedia("(min-width: 992px)");
  function follow() { menu.open = wide.matches; }
  if (wide.matches) { menu.open = true; }
  if (wide.addEventListener) { wide.addEventListener("change", follow); }
  menu.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open && !wide.matches) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
})();
