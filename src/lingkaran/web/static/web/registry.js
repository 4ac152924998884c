/* Registration form: fill birth date and sex from the decoded NIK, unless the agent has typed them already. */
(function () {
  "use strict";
  function fromNik(el) { return el.dataset.fromNik === "1"; }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "nik-decoded") { return; }
    var info = target.querySelector("[data-birth-date]");
    if (!info) { return; }
    var birth = document.getElementById("id_birth_date");
    if (birth && info.dataset.birthDate && (!birth.value || fromNik(birth))) {
      birth.value = info.dataset.birthDate;
      birth.dataset.fromNik = "1";
    }
    var radios = Array.prototype.slice.call(document.querySelectorAll('input[name="sex"]'));
    var typed = radios.some(function (r) { return r.checked && !fromNik(r); });
    if (!typed) {
      radios.forEach(function (r) {
        r.checked = r.value === info.dataset.sex;
        r.dataset.fromNik = r.checked ? "1" : "";
      });
    }
  });

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el.id === "id_birth_date") { el.dataset.fromNik = ""; }
    if (el.name === "sex") {
      document.querySelectorAll('input[name="sex"]').forEach(function (r) { r.dataset.fromNik = ""; });
    }
  });

  /* After a refused submit, bring the summary of problems into view for screen readers and small screens. */
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
})();
