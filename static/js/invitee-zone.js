// Booking pages: the time-zone picker. Without JavaScript it is a plain <select> grouped by
// region and a "Show" button. With it: the times switch to the browser's own zone on the
// first visit, the browser's zone is offered first, a search box narrows the list, and
// picking a zone shows the times at once (htmx swaps the picker; else the form submits).
(function () {
  var detected;
  try { detected = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { detected = null; }

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  function submit(form) {
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }
  function option(select, zone) {
    var options = select.querySelectorAll("optgroup:not([data-zone-first]) option");
    for (var i = 0; i < options.length; i++) if (options[i].value === zone) return options[i];
    return null;
  }

  function setUp() {
    var form = document.querySelector("form[data-zone-form]");
    if (!form || form.hasAttribute("data-ready")) return;
    form.setAttribute("data-ready", "");
    var select = form.querySelector("select[data-zone-select]");
    var search = form.querySelector("[data-zone-search]");
    var button = form.querySelector("[data-zone-submit]");
    if (!select) return;
    if (button) button.hidden = true;

    if (form.hasAttribute("data-zone-default") && detected && detected !== select.value && option(select, detected)) {
      var url = new URL(window.location.href);
      url.searchParams.set("tz", detected);
      window.location.replace(url.toString());
      return;
    }
    // The browser's own zone first, next to the one the times are shown in.
    var first = select.querySelector("optgroup[data-zone-first]");
    var mine = detected && detected !== select.value && option(select, detected);
    if (first && mine) {
      var copy = mine.cloneNode(true);
      copy.selected = false;
      first.appendChild(copy);
    }
    select.addEventListener("change", function () { submit(form); });
    if (!search) return;

    // The search box: keep the options whose name, city, offset or time match every word.
    var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup:not([data-zone-first])"));
    var pristine = groups.map(function (group) { return group.cloneNode(true); });
    search.hidden = false;
    search.addEventListener("input", function () {
      var words = fold(search.value).split(/\s+/).filter(Boolean);
      groups.forEach(function (group) { group.remove(); });
      groups = [];
      pristine.forEach(function (group) {
        var copy = group.cloneNode(false);
        Array.prototype.forEach.call(group.children, function (opt) {
          var text = fold(opt.value.replace(/_/g, " ") + " " + opt.textContent);
          if (words.every(function (word) { return text.indexOf(word) !== -1; })) {
            copy.appendChild(opt.cloneNode(true));
          }
        });
        if (copy.children.length) { select.appendChild(copy); groups.push(copy); }
      });
    });
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();  // Enter picks the first match rather than sending the search
      var match = groups.length && groups[0].querySelector("option");
      if (match) { select.value = match.value; submit(form); }
    });
  }

  setUp();
  document.addEventListener("htmx:load", setUp);  // htmx swapped in a new picker
})();
