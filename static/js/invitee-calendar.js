// Booking pages: the month calendar as one keyboard stop. Tab reaches the chosen day; the
// arrow keys move between the days with room (left/right a day, up/down a week), Home and
// End to the month's first and last, Page Up/Down to the previous and next month; Enter
// picks. Without JavaScript every day with room is a plain link.
(function () {
  function days(grid) { return Array.prototype.slice.call(grid.querySelectorAll("a[data-date]")); }

  var refocus = false;  // a month was changed from the keyboard: focus lands in the new one

  function setUp() {
    document.querySelectorAll("[data-month-grid]").forEach(function (grid) {
      var all = days(grid);
      var current = grid.querySelector('a[aria-current="true"]') || all[0];
      all.forEach(function (a) { a.tabIndex = a === current ? 0 : -1; });
      if (refocus && current) current.focus();
    });
    refocus = false;
  }

  function shift(iso, by) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + by);
    return d.toISOString().slice(0, 10);
  }

  document.addEventListener("keydown", function (event) {
    var link = event.target.closest && event.target.closest("[data-month-grid] a[data-date]");
    if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
    var grid = link.closest("[data-month-grid]");
    var all = days(grid);
    var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[event.key];
    var target = null;
    if (step) {
      var month = link.dataset.date.slice(0, 7);
      var iso = shift(link.dataset.date, step);
      while (!target && iso.slice(0, 7) === month) {
        target = grid.querySelector('a[data-date="' + iso + '"]');
        iso = shift(iso, step);
      }
    } else if (event.key === "Home") {
      target = all[0];
    } else if (event.key === "End") {
      target = all[all.length - 1];
    } else if (event.key === "PageUp" || event.key === "PageDown") {
      var nav = document.getElementById(event.key === "PageUp" ? "m-prev" : "m-next");
      if (nav) { event.preventDefault(); refocus = true; nav.click(); }
      return;
    } else {
      return;
    }
    event.preventDefault();
    if (!target) return;
    all.forEach(function (a) { a.tabIndex = a === target ? 0 : -1; });
    target.focus();
  });

  setUp();
  document.addEventListener("htmx:load", setUp);  // htmx swapped in a new picker
})();
