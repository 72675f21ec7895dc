// Preselect the browser's time zone in a <select data-detect-zone> that still shows the default.
(function () {
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  document.querySelectorAll("select[data-detect-zone]").forEach(function (select) {
    if (select.value !== "UTC" || !zone) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === zone) { select.value = zone; return; }
    }
  });
})();
