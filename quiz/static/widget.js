// Relax or Fill widget: keyboard and screen-reader care after htmx swaps.
// After a step is swapped in, focus moves to its heading (or to an error
// message) without scrolling the host page.
(function () {
  "use strict";

  function focusStep() {
    var main = document.getElementById("quiz");
    if (!main) return;
    var target = main.querySelector("[data-focus]") || main.querySelector("#step-heading");
    if (!target) return;
    target.focus({ preventScroll: true });
    // Bring the new step into view inside the widget only; never scroll ancestors.
    var top = target.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight) {
      window.scrollTo(0, Math.max(0, top + window.scrollY - 16));
    }
  }

  document.addEventListener("htmx:after:settle", focusStep);
})();
