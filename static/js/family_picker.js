// The environment and family picker (templates/environments/_family_picker.html): ticking a
// family ticks its environment; where one environment is chosen (radio buttons), choosing one
// unticks the families of the others, which would not be played.
(function () {
  "use strict";
  document.querySelectorAll("[data-family-picker]").forEach(function (picker) {
    picker.addEventListener("change", function (event) {
      const group = event.target.closest(".env-group");
      if (!group || !event.target.checked) return;
      const environment = group.querySelector(".env-check input");
      if (event.target.closest(".family-checks")) environment.checked = true;
      if (environment.type !== "radio") return;
      picker.querySelectorAll(".env-group").forEach(function (other) {
        if (other === group) return;
        other.querySelectorAll(".family-checks input:checked").forEach(function (box) { box.checked = false; });
      });
    });
  });
})();
