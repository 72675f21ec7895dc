// The meeting-type page (/meeting-types/{id}). Without JavaScript every button posts the
// form and the page comes back with the change (not yet saved); with it:
// - the question buttons (move up, move down, remove, add) act in place, and the rows are
//   numbered again so that saving sends them in their new order;
// - "Add an online meeting link" is unticked when Where becomes in person or phone, unless
//   the organizer has touched the box (and ticked again if Where goes back);
// - picking a colour chooses "This colour".
(function () {
  "use strict";
  var form = document.querySelector("form[data-type-form]");
  if (!form) return;

  // --- Where, and the online meeting link -------------------------------------------
  var where = form.querySelector("#f-location_kind");
  var box = form.querySelector("#f-add_online_meeting");
  var touched = form.querySelector("[data-online-touched]");
  var note = form.querySelector("[data-online-note]");
  if (where && box && touched && note) {
    var noLink = (where.getAttribute("data-no-link") || "").split(" ");
    var untickedByUs = false;
    box.addEventListener("change", function () {
      touched.value = "1"; // the organizer's own choice from now on
      untickedByUs = false;
      note.textContent = "";
    });
    where.addEventListener("change", function () {
      if (touched.value === "1") return;
      var needsNone = noLink.indexOf(where.value) !== -1;
      if (needsNone && box.checked) {
        box.checked = false;
        untickedByUs = true;
        note.textContent = note.getAttribute("data-unticked");
      } else if (!needsNone && untickedByUs) {
        box.checked = true;
        untickedByUs = false;
        note.textContent = "";
      }
    });
  }

  // --- Colour -----------------------------------------------------------------------
  var colour = form.querySelector("#f-color");
  var pick = form.querySelector("#f-color-pick");
  if (colour && pick) {
    colour.addEventListener("input", function () { pick.checked = true; });
  }

  // --- Questions --------------------------------------------------------------------
  var list = form.querySelector("[data-questions]");
  var template = form.querySelector("template[data-question-template]");
  var addButton = form.querySelector("[data-q-add]");
  var status = form.querySelector("[data-q-status]");
  if (!list || !template) return;
  var max = parseInt(list.getAttribute("data-max"), 10) || 20;

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll("[data-question]"));
  }

  function say(key, number) {
    if (!status) return;
    var text = list.getAttribute("data-said-" + key) || "";
    status.textContent = text.replace("%(number)s", String(number));
  }

  function filled(row) {
    var label = row && row.querySelector("input[name$=_label]");
    return !!(label && label.value.trim());
  }

  // Names, ids and numbers follow each row's place: q0_label, q1_label, …
  function renumber() {
    var all = rows();
    all.forEach(function (row, i) {
      row.id = "q-" + i;
      row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/\bq\d+_/g, "q" + i + "_").replace(/\be-q\d+\b/g, "e-q" + i));
        });
      });
      row.querySelectorAll("[data-q-number]").forEach(function (el) { el.textContent = String(i + 1); });
      row.querySelectorAll("[data-q-action]").forEach(function (button) {
        var act = button.getAttribute("data-q-action");
        button.value = "q_" + act + "_" + i;
        button.disabled = (act === "up" && i === 0) || (act === "down" && !filled(all[i + 1]));
      });
    });
    if (addButton) addButton.hidden = all.length > max;
  }

  function focusIn(row, action) {
    var button = row.querySelector("[data-q-action='" + action + "']");
    if (button && !button.disabled) { button.focus(); return; }
    var other = row.querySelector("[data-q-action='" + (action === "up" ? "down" : "up") + "']");
    (other && !other.disabled ? other : row.querySelector("input[type=text]")).focus();
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("[data-q-action]");
    if (!button || button.disabled) return;
    event.preventDefault();
    var row = button.closest("[data-question]");
    var action = button.getAttribute("data-q-action");
    if (action === "remove") {
      var next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      if (!rows().length) list.appendChild(template.content.firstElementChild.cloneNode(true));
      renumber();
      say("removed");
      var target = next && next.isConnected ? next : rows()[0];
      target.querySelector("input[type=text]").focus();
      return;
    }
    if (action === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (action === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    }
    renumber();
    say(action, rows().indexOf(row) + 1);
    focusIn(row, action);
  });

  // A question written in the empty row can be moved at once.
  list.addEventListener("input", function (event) {
    if (event.target.matches("input[name$=_label]")) renumber();
  });

  if (addButton) {
    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      if (rows().length > max) return;
      var row = template.content.firstElementChild.cloneNode(true);
      list.appendChild(row);
      renumber();
      say("added", rows().length);
      row.querySelector("input[type=text]").focus();
    });
  }
})();
