// Relax or Fill loader. The snippet a webmaster pastes:
//   <div data-relax-or-fill></div>
//   <script src="https://QUIZ-HOST/embed.js" async></script>
// On an install serving several spas, data-spa="SLUG" on the script tag
// embeds that spa's quiz (/s/SLUG/quiz/); without it, the install's own.
// For each such container it inserts the widget's iframe, forwards the page's
// URL and utm_* tags (they reach the lead), follows the widget's height, and
// re-dispatches its anonymous events ("relax-or-fill:step", ":result",
// ":callback") on the container. No dependencies, no cookies, no globals.
// Served with comment lines and indentation stripped (quiz/embed.py): keep one
// statement per line and no comments after code.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !window.URL || !window.URLSearchParams) return;
  // The widget lives next to this script, wherever the app is mounted.
  var spa = me.getAttribute("data-spa") || "";
  if (spa && !/^[a-z0-9-]{3,40}$/.test(spa)) return;
  var home = new URL((spa ? "s/" + spa + "/" : "") + "quiz/", me.src);
  var origin = home.origin;
  var P = "relax-or-fill";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var STEPS = ["intro", "concern", "area", "goal"];
  // The iframe's title in each of the quiz's languages, and its default language:
  // filled in from the app's catalogs when the app serves this file (quiz/embed/loader.py).
  var TITLES = {};
  var DEFAULT_LANG = "en";
  var frames = [];

  // The widget's language: the container's data-lang, else the host page's own language.
  function language(box) {
    var lang = /^[a-z]{2,3}\b/i.exec(box.getAttribute("data-lang") || document.documentElement.lang || "");
    return lang ? lang[0].toLowerCase() : "";
  }

  // The language the widget will speak, for its title: the one asked for if the quiz
  // has it; with none asked, the first of the browser's it has (as the widget does).
  function titleLanguage(lang) {
    if (lang) return TITLES[lang] ? lang : DEFAULT_LANG;
    var wanted = navigator.languages || [navigator.language || ""];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i]).toLowerCase().split("-")[0];
      if (TITLES[code]) return code;
    }
    return DEFAULT_LANG;
  }

  function source(box) {
    var url = new URL(home.href);
    var here = new URL(location.href);
    var q = url.searchParams;
    here.hash = "";
    if (/^https?:$/.test(here.protocol)) q.set("page", here.href);
    if (document.referrer) q.set("ref", document.referrer);
    UTM.forEach(function (key) {
      var value = here.searchParams.get(key);
      if (value) q.set(key, value);
    });
    var accent = /^#?([0-9a-f]{6}|[0-9a-f]{3})$/i.exec(box.getAttribute("data-accent") || "");
    if (accent) q.set("accent", accent[1]);
    var lang = language(box);
    if (lang) q.set("lang", lang);
    return url.href;
  }

  // The iframe's first height: the container's data-height, or the min-height
  // the page's stylesheet reserved for it, or the first screen's height at the
  // container's width. The widget centres its first screen in it (quiz.css), so
  // the iframe keeps this size until the patient's first click: with the space
  // reserved, loading the widget never moves the spa's page (no layout shift).
  function firstHeight(box) {
    var asked = parseInt(box.getAttribute("data-height") || "", 10);
    if (asked >= 100 && asked <= 2000) return asked;
    var reserved = parseFloat(getComputedStyle(box).minHeight);
    if (reserved >= 100 && reserved <= 2000) return Math.round(reserved);
    var width = box.clientWidth;
    return width && width < 360 ? 480 : width && width < 600 ? 420 : 360;
  }

  function mount(box) {
    if (box.hasAttribute("data-" + P + "-ready")) return;
    box.setAttribute("data-" + P + "-ready", "");
    var frame = document.createElement("iframe");
    // Attributes first: the iframe starts loading when it enters the document.
    var own = box.getAttribute("data-title");
    var titled = titleLanguage(language(box));
    frame.title = own || TITLES[titled];
    // Our title's language, for screen readers on a page in another language.
    if (!own) frame.setAttribute("lang", titled);
    frame.setAttribute("loading", "lazy");
    var first = firstHeight(box);
    frame.style.cssText = "display:block;width:100%;border:0;height:" + first + "px";
    frame.src = source(box);
    box.textContent = "";
    box.appendChild(frame);
    frames.push({ frame: frame, box: box, first: first });
  }

  function scan() {
    var boxes = document.querySelectorAll("[data-" + P + "]");
    for (var i = 0; i < boxes.length; i++) mount(boxes[i]);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    var hit = null;
    if (event.origin !== origin || !data || typeof data !== "object" || data.version !== 1) return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].frame.contentWindow === event.source) hit = frames[i];
    }
    if (!hit) return;
    var frame = hit.frame;
    if (data.type === P + ":height") {
      var h = data.height;
      if (typeof h === "number" && h % 1 === 0 && h >= 100 && h <= 20000) {
        frame.style.height = h + "px";
        // The space reserved for the first screen follows the widget from now on.
        if (frame.getBoundingClientRect().height !== hit.first) hit.box.style.minHeight = "0";
      }
    } else if (data.type === P + ":scroll") {
      // A new step (top 0) or an error message lower down: show it, but only
      // if the reader cannot see it.
      var top = data.top;
      if (typeof top !== "number" || top % 1 !== 0 || top < 0 || top > 20000) return;
      var y = frame.getBoundingClientRect().top + top;
      if (y > -1 && y < window.innerHeight) return;
      if (top) window.scrollBy(0, y);
      else frame.scrollIntoView();
    } else if (data.type === P + ":event") {
      var detail = {};
      if (data.event === "step" && STEPS.indexOf(data.step) >= 0) detail.step = data.step;
      else if (data.event !== "result" && data.event !== "callback") return;
      hit.box.dispatchEvent(
        new CustomEvent(P + ":" + data.event, { bubbles: true, detail: detail })
      );
    }
  });

  scan();
  // The container may come after this script in the page.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", scan);
})();
