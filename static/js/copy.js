// "Copy" buttons: <button type="button" data-copy="ID"> copies the value (or the text) of
// the element ID. The button says "Copied" for a moment (its data-copied text) and a polite
// live region tells screen readers the same. Without JavaScript the buttons stay hidden
// (give them the hidden attribute) and the text next to them is there to select by hand.
(function () {
  var live = null;

  function announce(text) {
    if (!live) {
      live = document.createElement("div");
      live.className = "visually-hidden";
      live.setAttribute("role", "status");
      live.setAttribute("aria-live", "polite");
      document.body.appendChild(live);
    }
    live.textContent = "";
    // A new text in the next frame, so the same words twice are announced twice.
    window.requestAnimationFrame(function () { live.textContent = text; });
  }

  function show(button, text, state) {
    if (!button.hasAttribute("data-label")) {
      button.setAttribute("data-label", button.textContent);
    }
    clearTimeout(button._copyTimer);
    button.textContent = text;
    button.classList.add(state);
    announce(text);
    button._copyTimer = setTimeout(function () {
      button.textContent = button.getAttribute("data-label");
      button.classList.remove(state);
    }, 2500);
  }

  function selectText(source) {
    if (source.select) {
      source.focus();
      source.select();
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent.trim();
    var copied = function () { show(button, button.getAttribute("data-copied") || "Copied", "copied"); };
    var failed = function () {
      // The browser would not let us: the text is selected for the person to copy.
      selectText(source);
      show(button, button.getAttribute("data-copy-failed") || "Press Ctrl+C to copy", "copy-failed");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, failed);
      return;
    }
    // Plain http on an intranet: no clipboard API, so select it and let the browser copy.
    selectText(source);
    var done = false;
    try { done = document.execCommand("copy"); } catch (e) { done = false; }
    if (done) { copied(); } else { failed(); }
  }

  function reveal() {
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (button) copy(button);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", reveal);
  } else {
    reveal();
  }
})();
