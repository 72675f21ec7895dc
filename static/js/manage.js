// Manage pages (/b/...): show the times in another zone as soon as one is picked. Without
// JavaScript the "Show" button next to the list does the same.
(function () {
  var form = document.querySelector("form[data-zone-form]");
  if (!form) return;
  var button = form.querySelector("[data-zone-submit]");
  if (button) button.hidden = true;
  form.querySelector("select[name=tz]").addEventListener("change", function () { form.submit(); });
})();
