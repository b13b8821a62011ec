// The play page: every click, fill, selection and tick on the environment's page is sent as
// the matching action through the agent API, and the page is replaced by the one it returns.
//
// A person types on while earlier actions are on their way, so:
// - a text field is sent as one fill of its whole value when the person leaves it, presses
//   Enter or pauses, never a keystroke at a time;
// - actions go one at a time, in the order the person made them;
// - a page the server returns never overwrites what the person has entered since: their values,
//   the focused field and its caret are carried over to it;
// - an action goes only to the page it was made on, since its bid may name another element on
//   any other: what was entered on a page that has since gone is dropped, and so is a click
//   made before another click's reply (the second click of a double click), even where that
//   reply keeps the address. A value entered on a page that stays is carried over, so it is
//   sent as shown.
(function () {
  "use strict";
  const play = document.getElementById("play");
  if (!play) return;
  const stage = document.getElementById("env-stage");
  const errorBox = document.getElementById("play-error");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  // A pause this long in a field's typing sends what is there.
  const PAUSE_MS = 2000;
  let shownAt = performance.now();
  let finished = play.dataset.status !== "running";
  let queue = Promise.resolve();
  // bid -> the value (or tick) the person gave a field that the server has not yet shown back.
  const entered = new Map();
  // bid -> the value of the last fill queued for it, until its reply arrives.
  const sent = new Map();
  let pauseTimer = null;
  // Replacing the stage blurs its focused field; that blur is not the person leaving it.
  let replacing = false;
  // Pages of another address shown so far, and replies to clicks: what an action was made on.
  let pagesShown = 0;
  let clicksAnswered = 0;

  function newKey() {
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function isTextField(el) {
    return (el.tagName === "INPUT" && el.type === "text") || el.tagName === "TEXTAREA";
  }

  function fieldOf(bid) {
    return stage.querySelector('[data-bid="' + CSS.escape(bid) + '"]');
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

  function send(act) {
    if (finished) return queue;
    const madeOn = { pages: pagesShown, clicks: clicksAnswered };
    queue = queue.then(async () => {
      if (finished) return;
      const gone = madeOn.pages !== pagesShown;
      const clickedOver = act.name === "click" && madeOn.clicks !== clicksAnswered;
      if (act.args.bid !== undefined && (gone || clickedOver)) {
        settled(act, false);
        return;
      }
      const thinkMs = Math.round(performance.now() - shownAt);
      const body = { action: act, observation_mode: "html", think_ms: thinkMs, idempotency_key: newKey() };
      try {
        render(await post(play.dataset.stepUrl, body), act);
        settled(act, true);
      } catch (error) {
        settled(act, false);
        showError(error.message);
      }
    });
    return queue;
  }

  // The value an action gives its field, or undefined for actions that give none.
  function carriedValue(act) {
    if (act.name === "fill") return act.args.value;
    if (act.name === "select_option") return act.args.options;
    if (act.name === "check" || act.name === "uncheck") return act.name === "check";
    return undefined;
  }

  // The reply to `act` has come (or it was refused): what it carried is no longer in flight,
  // and once applied the server's page shows it.
  function settled(act, applied) {
    const bid = act.args.bid;
    const value = carriedValue(act);
    if (value === undefined) return;
    if (sent.get(bid) === value) sent.delete(bid);
    if (applied && entered.get(bid) === value) entered.delete(bid);
  }

  // Queue a fill of the field's value, unless the server has it or a queued fill carries it.
  function sendField(el) {
    clearTimeout(pauseTimer);
    const bid = el.dataset.bid;
    const known = sent.has(bid) ? sent.get(bid) : el.defaultValue;
    if (finished || el.value === known) return;
    sent.set(bid, el.value);
    send({ name: "fill", args: { bid: bid, value: el.value } });
  }

  function render(result, act) {
    showError("");
    const content = result.observation.content;
    const shownUrl = stage.firstElementChild ? stage.firstElementChild.dataset.url : null;
    const active = document.activeElement;
    const focusedBid = active && stage.contains(active) ? active.dataset.bid : null;
    const caret = focusedBid && isTextField(active) ? [active.selectionStart, active.selectionEnd] : null;
    const hadFocus = focusedBid !== null || (active && stage.contains(active));

    replacing = true;
    stage.innerHTML = content;
    replacing = false;
    const samePage = stage.firstElementChild && stage.firstElementChild.dataset.url === shownUrl;
    if (!samePage) pagesShown += 1;
    if (act.name === "click") clicksAnswered += 1;
    if (!samePage) {
      // What was entered on another page belongs to no field here.
      entered.clear();
      sent.clear();
    }
    entered.forEach((value, bid) => {
      const el = fieldOf(bid);
      if (!el) return;
      if (el.type === "checkbox") el.checked = value;
      else el.value = value;
    });
    document.getElementById("page-url").textContent = result.observation.url;
    document.getElementById("step-count").textContent = result.step + 1;
    shownAt = performance.now();
    if (hadFocus) {
      const again = samePage && focusedBid ? fieldOf(focusedBid) : null;
      if (again) {
        again.focus();
        if (caret) again.setSelectionRange(caret[0], caret[1]);
      } else {
        stage.focus();
      }
    }
    if (result.status !== "running") finish();
  }

  async function finish() {
    finished = true;
    clearTimeout(pauseTimer);
    play.dataset.status = "finished";
    stage.setAttribute("inert", "");
    const controls = document.getElementById("play-controls");
    if (controls) controls.remove();
    const response = await fetch(play.dataset.outcomeUrl, { credentials: "same-origin" });
    document.getElementById("outcome-slot").innerHTML = await response.text();
    const heading = document.querySelector("#outcome h2");
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }

  stage.addEventListener("click", (event) => {
    const target = event.target.closest("a[data-bid], button[data-bid]");
    if (!target || !stage.contains(target)) return;
    event.preventDefault();
    send({ name: "click", args: { bid: target.dataset.bid } });
  });

  stage.addEventListener("input", (event) => {
    const el = event.target;
    if (!el.dataset || !el.dataset.bid || !isTextField(el)) return;
    entered.set(el.dataset.bid, el.value);
    clearTimeout(pauseTimer);
    const bid = el.dataset.bid;
    pauseTimer = setTimeout(() => {
      const current = fieldOf(bid);
      if (current) sendField(current);
    }, PAUSE_MS);
  });

  // A text field is sent when the person leaves it (Tab, a click elsewhere); a value carried
  // over to a replaced field fires no change event, so leaving is what counts.
  stage.addEventListener("focusout", (event) => {
    const el = event.target;
    if (replacing || !el.dataset || !el.dataset.bid || !isTextField(el)) return;
    sendField(el);
  });

  stage.addEventListener("change", (event) => {
    const el = event.target;
    if (replacing || !el.dataset || !el.dataset.bid) return;
    const bid = el.dataset.bid;
    if (el.type === "checkbox") {
      entered.set(bid, el.checked);
      send({ name: el.checked ? "check" : "uncheck", args: { bid: bid } });
    } else if (el.tagName === "SELECT") {
      entered.set(bid, el.value);
      send({ name: "select_option", args: { bid: bid, options: el.value } });
    }
  });

  // Enter in a field fills it and presses its form's first button, as a real form submits.
  stage.addEventListener("keydown", (event) => {
    const el = event.target;
    if (event.key !== "Enter" || el.tagName !== "INPUT" || !isTextField(el)) return;
    event.preventDefault();
    sendField(el);
    const form = el.closest("form");
    const button = form && form.querySelector("button[data-bid]");
    if (button) send({ name: "click", args: { bid: button.dataset.bid } });
  });

  stage.addEventListener("submit", (event) => event.preventDefault());

  const sendAnswer = document.getElementById("send-answer");
  if (sendAnswer) {
    sendAnswer.addEventListener("click", () => {
      const text = document.getElementById("answer").value.trim();
      send({ name: "send_msg_to_user", args: { text: text || "done" } });
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
