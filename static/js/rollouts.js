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
    const variants = form.querySelectorAll('input[name="variants"]:checked').length || 1;
    const episodes = families * seeds * variants;
    preview.textContent = plural(episodes, "episode") + " (" + parts.join("; ") + "; " +
      plural(seeds, "seed") + " each" + (variants > 1 ? ", in " + variants + " variants" : "") +
      "), " + Math.min(episodes, parseInt(form.elements.concurrency.value, 10) || 1) + " at once.";
  }

  // family_picker.js has ticked a family's environment before the change reaches the form.
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
