// The rollout form: the model's fields only for the chat policy, and how many episodes the
// ticks and numbers plan, before anything is started.
(function () {
  "use strict";
  const form = document.getElementById("rollout-form");
  if (!form) return;
  const chatFields = document.getElementById("chat-fields");
  const preview = document.getElementById("rollout-preview");

  function plural(count, word, many) {
    return count.toLocaleString("en") + " " + (count === 1 ? word : many || word + "s");
  }

  function update() {
    const policy = form.querySelector('input[name="policy"]:checked');
    chatFields.hidden = !policy || policy.value !== "chat";
    const seeds = Math.max(0, parseInt(form.elements.count.value, 10) || 0);
    let families = 0;
    const parts = [];
    form.querySelectorAll(".env-group").forEach(function (group) {
      if (!group.querySelector(".env-check input").checked) return;
      const all = group.querySelectorAll(".family-checks input").length;
      const ticked = group.querySelectorAll(".family-checks input:checked").length;
      const playing = ticked || all;
      families += playing;
      parts.push(group.dataset.env + ": " + (ticked ? plural(ticked, "family", "families") : "all " + plural(all, "family", "families")));
    });
    if (!families) {
      preview.textContent = "Tick at least one environment.";
      return;
    }
    preview.textContent = plural(families * seeds, "episode") + " (" + parts.join("; ") + "; " +
      plural(seeds, "seed") + " each), " + Math.min(families * seeds, parseInt(form.elements.concurrency.value, 10) || 1) + " at once.";
  }

  // Ticking a family ticks its environment.
  form.addEventListener("change", function (event) {
    const group = event.target.closest(".env-group");
    if (group && event.target.checked && event.target.closest(".family-checks")) {
      group.querySelector(".env-check input").checked = true;
    }
    update();
  });
  form.addEventListener("input", update);
  update();
})();
