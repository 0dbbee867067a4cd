// Relax or Fill widget: keyboard and screen-reader care after htmx swaps, and
// the embedding side of the iframe.
// After a step is swapped in, focus moves to its heading (or to an error
// message) without scrolling the host page. Nothing moves the focus on load.
// When framed by an allowed page (EMBED_ORIGINS, rendered into
// <body data-embed-origins>, or the app itself), the widget tells the page's
// loader (embed.js) its content height and anonymous step events: which step,
// never the answers or the outcome.
(function () {
  "use strict";

  var P = "relax-or-fill";
  var MIN_HEIGHT = 100;
  var MAX_HEIGHT = 20000;
  var parentOrigin = findParentOrigin();
  var lastHeight = 0;
  var lastStep = "";

  // Returns the element it focused, if any, and whether the page asked for it
  // (data-focus: an error message, or a form opened in place). The request is
  // used once, so a later swap's own request wins over an earlier one still there.
  function focusStep() {
    var main = document.getElementById("quiz");
    if (!main) return null;
    var asked = main.querySelector("[data-focus]");
    var target = asked || main.querySelector("#step-heading");
    if (!target) return null;
    if (asked) asked.removeAttribute("data-focus");
    target.focus({ preventScroll: true });
    // Bring the new step into view inside the widget only; never scroll ancestors.
    var top = target.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight) {
      window.scrollTo(0, Math.max(0, top + window.scrollY - 16));
    }
    return { element: target, asked: !!asked };
  }

  function originOf(url) {
    try {
      return new URL(url).origin;
    } catch (e) {
      return "";
    }
  }

  // The framing page's origin, if it may hear from us; null otherwise.
  function findParentOrigin() {
    if (window.parent === window || !document.body) return null;
    var seen = "";
    var ancestors = location.ancestorOrigins;
    if (ancestors && ancestors.length) {
      seen = ancestors[0];
    } else {
      // No ancestorOrigins (Firefox): the page URL the loader passed, or the referrer.
      // Either may be wrong; postMessage's target origin makes sure only that origin hears.
      seen = originOf(new URLSearchParams(location.search).get("page") || "") ||
        originOf(document.referrer);
    }
    var allowed = (document.body.getAttribute("data-embed-origins") || "").split(/\s+/);
    allowed.push(location.origin);
    return seen && seen !== "null" && allowed.indexOf(seen) >= 0 ? seen : null;
  }

  function post(message) {
    if (!parentOrigin) return;
    message.version = 1;
    window.parent.postMessage(message, parentOrigin);
  }

  function postHeight() {
    // The body's own height: the document's would never shrink below the iframe's.
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    height = Math.min(MAX_HEIGHT, Math.max(MIN_HEIGHT, height));
    if (height !== lastHeight) {
      lastHeight = height;
      post({ type: P + ":height", height: height });
    }
  }

  function currentStep() {
    var main = document.getElementById("quiz");
    if (!main) return "";
    if (main.querySelector("#thanks")) return "callback";
    if (main.querySelector("#result")) return "result";
    var step = main.querySelector(".step");
    var match = step && /\bstep-(intro|concern|area|goal)\b/.exec(step.className);
    return match ? match[1] : "";
  }

  function announceStep() {
    var step = currentStep();
    if (!step || step === lastStep) return;
    lastStep = step;
    if (step === "result" || step === "callback") post({ type: P + ":event", event: step });
    else post({ type: P + ":event", event: "step", step: step });
  }

  function afterSwap() {
    var focused = focusStep();
    postHeight();
    announceStep();
    // Height first, then ask the page to show the widget's top (a new step) or
    // the focused message or form; the loader scrolls only if it is out of view.
    var top = 0;
    if (focused && focused.asked) {
      top = Math.round(focused.element.getBoundingClientRect().top + window.scrollY - 16);
    }
    post({ type: P + ":scroll", top: Math.min(MAX_HEIGHT, Math.max(0, top)) });
  }

  document.addEventListener("htmx:after:settle", afterSwap);

  if (parentOrigin) {
    postHeight();
    announceStep();
    window.addEventListener("load", postHeight);
    window.addEventListener("resize", postHeight);
    if (window.ResizeObserver) new ResizeObserver(postHeight).observe(document.body);
  }
})();
