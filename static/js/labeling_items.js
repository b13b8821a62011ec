// The item browser: the header checkbox ticks every item on the page.
document.addEventListener("change", (event) => {
  if (!event.target.matches("[data-tick-all]")) return;
  for (const box of document.querySelectorAll('input[name="items"][form="bulk-form"]')) {
    box.checked = event.target.checked;
  }
});
