// The contractor's queue and the review queue: a number key opens that campaign, Enter the
// first one (or the first item to review), ? lists the keys.
(function () {
  "use strict";
  const help = document.getElementById("wb-help");
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (event.target.matches && event.target.matches("input, textarea, select")) return;
    const entries = document.querySelectorAll("[data-href][data-key]");
    if (event.key === "?" && help) {
      event.preventDefault();
      help.showModal();
    } else if (/^[1-9]$/.test(event.key)) {
      const entry = document.querySelector('[data-href][data-key="' + event.key + '"]');
      if (entry) { event.preventDefault(); window.location.href = entry.dataset.href; }
    } else if (event.key === "Enter" && event.target === document.body) {
      const first = entries[0] || document.getElementById("review-start");
      if (first) { event.preventDefault(); window.location.href = first.dataset.href || first.href; }
    }
  });
  document.addEventListener("click", function (event) {
    const button = event.target.closest("dialog [data-command='close']");
    if (button) button.closest("dialog").close();
  });
})();
