// The play page: every click, fill, selection and tick on the environment's page is sent as
// the matching action through the agent API, and the page is replaced by the one it returns.
(function () {
  "use strict";
  const play = document.getElementById("play");
  if (!play) return;
  const stage = document.getElementById("env-stage");
  const errorBox = document.getElementById("play-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let shownAt = performance.now();
  let finished = play.dataset.status !== "running";
  // Actions go one at a time, in the order the person made them.
  let queue = Promise.resolve();

  function newKey() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  async function post(url, body) {
    const options = {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    };
    let response;
    try {
      response = await fetch(url, options);
    } catch (networkError) {
      // Once more with the same idempotency key: a step that did land is not applied twice.
      response = await fetch(url, options);
    }
    const payload = await response.json();
    if (!response.ok) throw new Error(payload.error ? payload.error.message : response.statusText);
    return payload;
  }

  function send(action) {
    if (finished) return queue;
    const thinkMs = Math.round(performance.now() - shownAt);
    const body = { action: action, observation_mode: "html", think_ms: thinkMs, idempotency_key: newKey() };
    queue = queue
      .then(() => post(play.dataset.stepUrl, body))
      .then(render)
      .catch((error) => showError(error.message));
    return queue;
  }

  function render(result) {
    showError("");
    const focusedBid = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.bid : null;
    stage.innerHTML = result.observation.content;
    document.getElementById("page-url").textContent = result.observation.url;
    document.getElementById("step-count").textContent = result.step + 1;
    shownAt = performance.now();
    const again = focusedBid && stage.querySelector('[data-bid="' + focusedBid + '"]');
    if (again) again.focus();
    if (result.status !== "running") finish();
  }

  async function finish() {
    finished = true;
    play.dataset.status = "finished";
    stage.setAttribute("inert", "");
    const controls = document.getElementById("play-controls");
    if (controls) controls.remove();
    const response = await fetch(play.dataset.outcomeUrl, { credentials: "same-origin" });
    document.getElementById("outcome-slot").innerHTML = await response.text();
    const heading = document.querySelector("#outcome h2");
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }

  function action(name, args) {
    return { name: name, args: args };
  }

  stage.addEventListener("click", (event) => {
    const target = event.target.closest("a[data-bid], button[data-bid]");
    if (!target || !stage.contains(target)) return;
    event.preventDefault();
    send(action("click", { bid: target.dataset.bid }));
  });

  stage.addEventListener("change", (event) => {
    const el = event.target;
    if (!el.dataset || !el.dataset.bid) return;
    if (el.type === "checkbox") {
      send(action(el.checked ? "check" : "uncheck", { bid: el.dataset.bid }));
    } else if (el.tagName === "SELECT") {
      send(action("select_option", { bid: el.dataset.bid, options: el.value }));
    } else if (el.value !== el.defaultValue) {
      send(action("fill", { bid: el.dataset.bid, value: el.value }));
      el.defaultValue = el.value;
    }
  });

  // Enter in a field fills it and presses its form's first button, as a real form submits.
  stage.addEventListener("keydown", (event) => {
    const el = event.target;
    if (event.key !== "Enter" || el.tagName !== "INPUT" || el.type === "checkbox") return;
    event.preventDefault();
    if (el.value !== el.defaultValue) {
      send(action("fill", { bid: el.dataset.bid, value: el.value }));
      el.defaultValue = el.value;
    }
    const form = el.closest("form");
    const button = form && form.querySelector("button[data-bid]");
    if (button) send(action("click", { bid: button.dataset.bid }));
  });

  stage.addEventListener("submit", (event) => event.preventDefault());

  const sendAnswer = document.getElementById("send-answer");
  if (sendAnswer) {
    sendAnswer.addEventListener("click", () => {
      const text = document.getElementById("answer").value.trim();
      send(action("send_msg_to_user", { text: text || "done" }));
    });
  }
  const abandon = document.getElementById("abandon");
  if (abandon) {
    abandon.addEventListener("click", () => {
      if (!window.confirm("Give up this task? The episode ends as abandoned.")) return;
      queue = queue
        .then(() => post(play.dataset.abandonUrl, {}))
        .then(finish)
        .catch((error) => showError(error.message));
    });
  }
})();
