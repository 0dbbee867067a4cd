// The demo page's Copy buttons: shown only where the browser can copy, so without
// JavaScript (or a clipboard) the read-only box and "select all" are all there is.
(function () {
  "use strict";

  function copyFrom(box) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(box.value);
    }
    // Plain-HTTP pages have no clipboard API: select the text and use the old command.
    box.focus();
    box.select();
    return document.execCommand("copy") ? Promise.resolve() : Promise.reject();
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var box = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector('[data-copy-status="' + box.id + '"]');
    button.hidden = false;
    button.addEventListener("click", function () {
      copyFrom(box).then(
        function () { status.textContent = "Copied."; },
        function () {
          box.focus();
          box.select();
          status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy.";
        }
      );
    });
  });
})();
