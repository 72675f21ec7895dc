// Booking pages: show the times in the browser's own time zone on the first visit, and
// reload as soon as another zone is picked. Without JavaScript the "Show" button does both.
(function () {
  var form = document.querySelector("form[data-zone-form]");
  if (!form) return;
  var select = form.querySelector("select[name=tz]");
  var button = form.querySelector("[data-zone-submit]");
  if (button) button.hidden = true;
  select.addEventListener("change", function () { form.submit(); });
  if (!form.hasAttribute("data-zone-default")) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!zone || zone === select.value) return;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) {
      var url = new URL(window.location.href);
      url.searchParams.set("tz", zone);
      window.location.replace(url.toString());
      return;
    }
  }
})();
