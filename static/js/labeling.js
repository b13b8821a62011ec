// The labeling workbench and the review page: one decision on screen, every action on a key.
// The server renders each item as a panel; this script keeps the answers being given, steps
// through trajectories, and swaps in the next panel (returned by the submit itself) without a
// page load. Keys: see the ? dialog (labeling/views.py keys_for lists them).
(function () {
  "use strict";
  const bench = document.getElementById("workbench");
  const review = document.getElementById("review");
  const root = bench || review;
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const slot = document.getElementById("wb-panel");
  const flash = document.getElementById("wb-flash");
  const leaseLabel = document.getElementById("wb-lease");
  let panel = null;
  let state = null;
  let busy = false;
  let flashTimer = null;
  let skipReason = null;
  // The submission U can still undo: its undo URL and when its lease ends.
  let lastSubmitted = null;
  const undoButton = document.getElementById("wb-undo");

  // --- talking to the server ------------------------------------------------------------

  async function post(url, body, accept) {
    const options = {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: accept },
      body: JSON.stringify(body || {}),
    };
    let response;
    try {
      response = await fetch(url, options);
    } catch (networkError) {
      // Once more: the idempotency key makes a submit that did land count once.
      response = await fetch(url, options);
    }
    const type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") !== -1) {
      const payload = await response.json();
      if (!response.ok) {
        const error = new Error(payload.error ? payload.error.message : response.statusText);
        error.payload = payload.error || {};
        throw error;
      }
      return { json: payload, response: response };
    }
    if (!response.ok) throw new Error("The server could not do that (" + response.status + "). Try again.");
    return { html: await response.text(), response: response };
  }

  function showFlash(message, kind) {
    if (!flash) return;
    flash.textContent = message;
    flash.className = "alert flash alert-" + (kind || "success");
    flash.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(function () { flash.hidden = true; }, 1800);
  }

  async function loadNext() {
    if (!bench) return;
    try {
      const result = await post(bench.dataset.nextUrl, {}, "text/html");
      mount(result.html);
    } catch (error) {
      slot.innerHTML = "";
      showFlash(error.message, "error");
    }
  }

  // --- mounting a panel -----------------------------------------------------------------

  function mount(html) {
    slot.innerHTML = html;
    // Scripts in swapped-in HTML do not run by themselves (the demonstrate panel's play.js).
    slot.querySelectorAll("script[src]").forEach(function (old) {
      const script = document.createElement("script");
      script.src = old.src;
      old.remove();
      document.body.appendChild(script);
    });
    start(slot.querySelector("#panel"));
    applyZoom();
    window.scrollTo(0, 0);
    root.focus({ preventScroll: true });
  }

  function start(element) {
    panel = element;
    state = {
      position: 0,
      positions: Number(panel && panel.dataset.positions) || 0,
      steps: Number(panel && panel.dataset.steps) || 0,
      ratings: [],
      notes: {},
      questions: [],
      active: 0,
      // Whether the "still missing" messages are on screen: they are kept up to date, and go
      // once everything is answered.
      problemsShown: false,
      shownAt: performance.now(),
    };
    if (!panel || panel.dataset.empty) { updateLease(); return; }
    for (let i = 0; i < state.steps; i++) state.ratings.push(null);
    panel.querySelectorAll("fieldset.question").forEach(function (el) {
      state.questions.push({
        el: el,
        name: el.dataset.name,
        type: el.dataset.type,
        required: el.dataset.required === "true",
        value: null,
        choice: null,
        strength: null,
        checks: {},
        // Rubrics: the check that 1 (yes) and 2 (no) answer.
        cursor: 0,
        selected: [],
        // first_error: the marked step (null: no step went wrong; undefined: not answered yet).
        step: undefined,
        category: null,
      });
    });
    panel.querySelectorAll(".replay-step[data-bid]").forEach(function (step) {
      // A refused action's bid is whatever the actor wrote: escaped, it cannot break the selector.
      const acted = step.querySelector('.replay-stage [data-bid="' + CSS.escape(step.dataset.bid) + '"]');
      if (acted) acted.classList.add("acted");
    });
    const total = panel.querySelector(".step-total");
    if (total) total.textContent = state.steps;
    const initial = document.getElementById("initial-answers");
    if (initial) applyInitial(JSON.parse(initial.textContent || "{}"));
    state.active = firstKeyed();
    watchEpisode();
    showPosition(0);
    paint();
    updateLease();
  }

  function applyInitial(answers) {
    state.questions.forEach(function (q) {
      const value = answers[q.name];
      if (value === undefined || value === null) return;
      if (q.type === "step_rating") {
        (value.ratings || []).forEach(function (r, i) { if (i < state.ratings.length) state.ratings[i] = r; });
        Object.assign(state.notes, value.notes || {});
      } else if (q.type === "preference") {
        q.choice = value.choice; q.strength = value.strength || null;
      } else if (q.type === "rubric") {
        q.checks = Object.assign({}, value);
      } else if (q.type === "multiple_choice") {
        q.selected = value.slice();
      } else if (q.type === "text") {
        q.el.querySelector("textarea").value = value;
      } else if (q.type === "first_error") {
        q.step = value.step; q.category = value.category || null;
        q.el.querySelector(".first-error-note").value = value.note || "";
      } else {
        q.value = value;
      }
    });
  }

  // A demonstrate panel: play.js marks the episode finished; show that it can be submitted, at
  // the top and above the outcome, beside the site (a person who scrolled down the site sees
  // the top no more, and a long list of checks would push anything below it out of sight).
  function watchEpisode() {
    const play = panel.querySelector("#play");
    const badge = panel.querySelector("#demo-status");
    if (!play || !badge) return;
    function showSubmit() {
      const finished = panel.querySelector("#demo-finished");
      const outcome = play.querySelector("#outcome-slot") || play.querySelector("#outcome");
      if (finished && outcome && !play.querySelector(".demo-finished")) outcome.before(finished.content.cloneNode(true));
    }
    if (play.dataset.status !== "running") { showSubmit(); return; }
    const observer = new MutationObserver(function () {
      if (play.dataset.status !== "running") {
        badge.dataset.finished = "true";
        badge.textContent = "Finished: press Ctrl+Enter to submit";
        showSubmit();
        observer.disconnect();
      }
    });
    observer.observe(play, { attributes: true, attributeFilter: ["data-status"] });
  }

  // --- stepping through trajectories ----------------------------------------------------

  function showPosition(position) {
    if (!state.positions) return;
    state.position = Math.max(0, Math.min(position, state.positions - 1));
    panel.querySelectorAll(".trajectory").forEach(function (trajectory) {
      const length = Number(trajectory.dataset.length);
      const shown = state.position < length ? String(state.position) : "end";
      trajectory.querySelectorAll(".replay-step").forEach(function (step) {
        step.hidden = step.dataset.position !== shown;
      });
    });
    panel.querySelectorAll(".chip").forEach(function (chip) {
      if (Number(chip.dataset.goto) === state.position) chip.setAttribute("aria-current", "step");
      else chip.removeAttribute("aria-current");
    });
    const note = panel.querySelector(".step-note");
    if (note) {
      note.value = state.notes[String(state.position)] || "";
      note.disabled = state.position >= state.steps;
    }
    paint();
  }

  function rateStep(rating) {
    if (!state.steps || state.position >= state.steps) return;
    state.ratings[state.position] = rating;
    showPosition(state.position + 1);
  }

  // X: the step shown is the first that went wrong; its category comes next, on 1 to 9.
  function markFirstError() {
    const q = state.questions.find(function (item) { return item.type === "first_error"; });
    if (!q || state.position >= state.steps) return false;
    if (q.step !== state.position) q.category = null;
    q.step = state.position;
    state.active = keyed().indexOf(q);
    return true;
  }

  // G: no step went wrong.
  function noFirstError() {
    const q = state.questions.find(function (item) { return item.type === "first_error"; });
    if (!q) return false;
    q.step = null;
    q.category = null;
    state.active = keyed().indexOf(q);
    advance();
    return true;
  }

  // --- the replay frame: scrolled and zoomed by keyboard -------------------------------
  // PageDown / Space scroll the page shown from anywhere; F moves into it, where the arrows,
  // Home / End and + / - (zoom) act on it, and Esc leaves it.

  const ZOOMS = [0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2];
  let zoomAt = ZOOMS.indexOf(1);
  const LINE_PX = 40;

  function shownFrames() {
    if (!panel) return [];
    return Array.prototype.slice.call(panel.querySelectorAll(".replay-step:not([hidden]) .replay-stage"));
  }

  function scrollFrame(frame, key, shift) {
    const page = Math.max(frame.clientHeight - LINE_PX, LINE_PX);
    if (key === "PageDown" || (key === " " && !shift)) frame.scrollBy(0, page);
    else if (key === "PageUp" || key === " ") frame.scrollBy(0, -page);
    else if (key === "ArrowDown") frame.scrollBy(0, LINE_PX);
    else if (key === "ArrowUp") frame.scrollBy(0, -LINE_PX);
    else if (key === "ArrowRight") frame.scrollBy(LINE_PX, 0);
    else if (key === "ArrowLeft") frame.scrollBy(-LINE_PX, 0);
    else if (key === "Home") frame.scrollTo(0, 0);
    else if (key === "End") frame.scrollTo(0, frame.scrollHeight);
    else return false;
    return true;
  }

  function zoom(delta) {
    zoomAt = delta === 0 ? ZOOMS.indexOf(1) : Math.max(0, Math.min(zoomAt + delta, ZOOMS.length - 1));
    applyZoom();
  }

  function applyZoom() {
    if (!panel) return;
    const level = ZOOMS[zoomAt];
    panel.querySelectorAll(".replay-page").forEach(function (page) { page.style.zoom = level === 1 ? "" : String(level); });
    panel.querySelectorAll(".zoom-level").forEach(function (label) { label.textContent = Math.round(level * 100) + "%"; });
  }

  function enterFrame() {
    const frame = shownFrames()[0];
    if (!frame) return false;
    frame.focus();
    return true;
  }

  // A key pressed while a frame has the focus: true when the frame used it.
  function onFrameKey(event, frame) {
    const key = event.key;
    if (key === "+" || key === "=") zoom(1);
    else if (key === "-") zoom(-1);
    else if (key === "0") zoom(0);
    else if (!scrollFrame(frame, key, event.shiftKey)) return false;
    return true;
  }

  // --- questions ------------------------------------------------------------------------

  function keyed() {
    return state.questions.filter(function (q) { return q.type !== "step_rating"; });
  }

  function firstKeyed() {
    const list = keyed();
    const open = list.findIndex(function (q) { return !answered(q); });
    return open === -1 ? 0 : open;
  }

  function answered(q) {
    if (q.type === "outcome_rating" || q.type === "single_choice") return q.value !== null;
    if (q.type === "preference") return q.choice !== null && (q.choice === "tie" || q.strength !== null || !q.el.querySelector(".strength"));
    if (q.type === "rubric") return q.el.querySelectorAll("[data-check]").length === Object.keys(q.checks).length;
    if (q.type === "multiple_choice") return q.selected.length > 0;
    if (q.type === "text") return q.el.querySelector("textarea").value.trim() !== "";
    if (q.type === "first_error") return q.step === null || (q.step !== undefined && q.category !== null);
    return true;
  }

  function activeQuestion() {
    return keyed()[state.active] || null;
  }

  function advance() {
    const list = keyed();
    for (let i = state.active + 1; i < list.length; i++) {
      if (!answered(list[i])) { state.active = i; return; }
    }
  }

  function choose(q, number) {
    if (!q) return;
    if (q.type === "rubric") {
      const rows = q.el.querySelectorAll("[data-check]");
      if (number > 2 || !rows[q.cursor]) return;
      answerCheck(q, q.cursor, number === 1);
      return;
    }
    if (q.type === "first_error") {
      const categories = q.el.querySelectorAll("[data-category]");
      if (typeof q.step !== "number" || !categories[number - 1]) return;
      q.category = categories[number - 1].dataset.category;
      advance();
      return;
    }
    if (q.type === "preference") {
      const strengths = q.el.querySelectorAll("[data-strength]");
      if (q.choice && q.choice !== "tie" && number <= strengths.length) {
        q.strength = number;
        advance();
      }
      return;
    }
    const buttons = q.el.querySelectorAll(q.type === "rubric" ? "[data-check]" : "[data-value]");
    const target = buttons[number - 1];
    if (!target) return;
    if (q.type === "outcome_rating") { q.value = Number(target.dataset.value); advance(); }
    else if (q.type === "single_choice") { q.value = target.dataset.value; advance(); }
    else if (q.type === "multiple_choice") { toggle(q.selected, target.dataset.value); }
  }

  // Answer one rubric check, then go to the next unanswered one, or on to the next question.
  function answerCheck(q, index, value) {
    const rows = Array.prototype.slice.call(q.el.querySelectorAll("[data-check]"));
    q.checks[rows[index].dataset.check] = value;
    const order = rows.slice(index + 1).concat(rows.slice(0, index + 1));
    const open = order.find(function (row) { return q.checks[row.dataset.check] === undefined; });
    if (open) { q.cursor = rows.indexOf(open); return; }
    q.cursor = Math.min(index + 1, rows.length - 1);
    state.active = keyed().indexOf(q);
    advance();
  }

  // ↑ / ↓: through a rubric's checks, then on to the neighbouring question.
  function moveQuestion(delta) {
    const q = activeQuestion();
    if (q && q.type === "rubric") {
      const to = q.cursor + delta;
      if (to >= 0 && to < q.el.querySelectorAll("[data-check]").length) { q.cursor = to; return; }
    }
    state.active = Math.max(0, Math.min(state.active + delta, Math.max(keyed().length - 1, 0)));
    const now = activeQuestion();
    if (now && now !== q && now.type === "rubric") {
      now.cursor = delta > 0 ? 0 : now.el.querySelectorAll("[data-check]").length - 1;
    }
  }

  function toggle(list, value) {
    const at = list.indexOf(value);
    if (at === -1) list.push(value); else list.splice(at, 1);
  }

  function prefer(choice) {
    const q = state.questions.find(function (item) { return item.type === "preference"; });
    if (!q) return;
    q.choice = choice;
    if (choice === "tie") q.strength = null;
    state.active = keyed().indexOf(q);
    if (answered(q)) advance();
  }

  function paint() {
    if (!state) return;
    const active = activeQuestion();
    state.questions.forEach(function (q) {
      q.el.classList.toggle("is-active", q === active);
      if (q.type === "step_rating") {
        const rating = state.position < state.steps ? state.ratings[state.position] : undefined;
        q.el.querySelectorAll("[data-rating]").forEach(function (b) {
          b.setAttribute("aria-pressed", String(Number(b.dataset.rating) === rating));
          b.disabled = state.position >= state.steps;
        });
        const current = q.el.querySelector(".current-step");
        if (current) current.textContent = state.position < state.steps ? state.position + 1 : "end";
        const count = q.el.querySelector(".rated-count");
        if (count) count.textContent = state.ratings.filter(function (r) { return r !== null; }).length;
      } else if (q.type === "preference") {
        q.el.querySelectorAll("[data-choice]").forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.choice === q.choice)); });
        const row = q.el.querySelector(".strength");
        if (row) row.setAttribute("aria-disabled", String(!q.choice || q.choice === "tie"));
        q.el.querySelectorAll("[data-strength]").forEach(function (b) { b.setAttribute("aria-pressed", String(Number(b.dataset.strength) === q.strength)); });
      } else if (q.type === "rubric") {
        q.el.querySelectorAll("[data-check]").forEach(function (li, index) {
          li.classList.toggle("is-current", q === active && index === q.cursor);
          const value = q.checks[li.dataset.check];
          li.querySelectorAll("[data-check-value]").forEach(function (b) { b.setAttribute("aria-pressed", String(value !== undefined && String(value) === b.dataset.checkValue)); });
        });
      } else if (q.type === "first_error") {
        const marked = typeof q.step === "number";
        q.el.querySelector('[data-first-error="mark"]').setAttribute("aria-pressed", String(marked && q.step === state.position));
        q.el.querySelector('[data-first-error="none"]').setAttribute("aria-pressed", String(q.step === null));
        q.el.querySelectorAll("[data-category]").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b.dataset.category === q.category));
          b.disabled = !marked;
        });
        q.el.querySelector(".current-step").textContent = state.position < state.steps ? state.position + 1 : "end";
        q.el.querySelector(".first-error-marked").textContent = q.step === null ? "No step went wrong."
          : marked ? "First wrong step: " + (q.step + 1) + (q.category ? "." : "; now press 1–9 for what went wrong.") : "Nothing marked yet.";
        panel.querySelectorAll(".chip").forEach(function (chip) { chip.classList.toggle("first-error", marked && Number(chip.dataset.goto) === q.step); });
      } else if (q.type === "multiple_choice") {
        q.el.querySelectorAll("[data-value]").forEach(function (b) { b.setAttribute("aria-pressed", String(q.selected.indexOf(b.dataset.value) !== -1)); });
      } else if (q.type !== "text") {
        q.el.querySelectorAll("[data-value]").forEach(function (b) { b.setAttribute("aria-pressed", String(String(q.value) === b.dataset.value)); });
      }
    });
    panel.querySelectorAll(".chip").forEach(function (chip) {
      const position = Number(chip.dataset.goto);
      chip.classList.remove("rated-1", "rated-0", "rated--1");
      if (position < state.steps && state.ratings[position] !== null) chip.classList.add("rated-" + state.ratings[position]);
    });
    if (state.problemsShown) showProblems(missing());
  }

  function collect() {
    const answers = {};
    state.questions.forEach(function (q) {
      if (q.type === "step_rating") {
        const notes = {};
        Object.keys(state.notes).forEach(function (k) { if (state.notes[k].trim()) notes[k] = state.notes[k].trim(); });
        answers[q.name] = { ratings: state.ratings.slice() };
        if (Object.keys(notes).length) answers[q.name].notes = notes;
      } else if (q.type === "preference") {
        if (q.choice) {
          answers[q.name] = { choice: q.choice };
          if (q.choice !== "tie" && q.strength) answers[q.name].strength = q.strength;
        }
      } else if (q.type === "rubric") {
        if (Object.keys(q.checks).length) answers[q.name] = Object.assign({}, q.checks);
      } else if (q.type === "first_error") {
        if (q.step !== undefined) {
          answers[q.name] = { step: q.step };
          if (q.category) answers[q.name].category = q.category;
          const note = q.el.querySelector(".first-error-note").value.trim();
          if (note) answers[q.name].note = note;
        }
      } else if (q.type === "multiple_choice") {
        answers[q.name] = q.selected.slice();
      } else if (q.type === "text") {
        const text = q.el.querySelector("textarea").value.trim();
        if (text) answers[q.name] = text;
      } else if (q.value !== null) {
        answers[q.name] = q.value;
      }
    });
    return answers;
  }

  // What is still missing, said per question, before bothering the server.
  function missing() {
    const problems = [];
    state.questions.forEach(function (q) {
      if (!q.required) return;
      if (q.type === "step_rating") {
        const unrated = [];
        state.ratings.forEach(function (r, i) { if (r === null) unrated.push(i + 1); });
        if (unrated.length) problems.push({ q: q, message: "Rate every step: step " + unrated.slice(0, 6).join(", ") + (unrated.length > 6 ? " …" : "") + " not rated yet.", step: unrated[0] - 1 });
      } else if (q.type === "multiple_choice") {
        if (q.selected.length < Number(q.el.dataset.min || 0)) problems.push({ q: q, message: "Choose at least " + q.el.dataset.min + "." });
      } else if (!answered(q)) {
        let message = "This question needs an answer.";
        if (q.type === "preference" && q.choice) message = "Say how much better (1–3).";
        else if (q.type === "first_error") message = q.step === undefined ? "Mark the first step that went wrong (X) or say none did (G)." : "Say what went wrong at step " + (q.step + 1) + " (1–9).";
        problems.push({ q: q, message: message });
      }
    });
    return problems;
  }

  // Show what is still missing, or clear the messages once nothing is.
  function showProblems(problems) {
    clearErrors();
    state.problemsShown = problems.length > 0;
    if (!problems.length) return;
    const fields = {};
    problems.forEach(function (p) { fields[p.q.name] = [p.message]; });
    showError(problems.map(function (p) { return p.q.el.querySelector("legend").textContent.trim() + ": " + p.message; }).join(" "), fields);
  }

  function revealError() {
    const box = panel && panel.querySelector(".panel-error");
    if (box && !box.hidden) box.scrollIntoView({ block: "nearest" });
  }

  function clearErrors() {
    state.problemsShown = false;
    panel.querySelectorAll(".question").forEach(function (el) { el.classList.remove("has-error"); });
    panel.querySelectorAll(".q-error").forEach(function (el) { el.hidden = true; el.textContent = ""; });
    panel.querySelectorAll(".panel-error").forEach(function (el) { el.hidden = true; el.textContent = ""; });
  }

  function showError(message, fields) {
    const box = panel.querySelector(".panel-error");
    if (box) { box.textContent = message; box.hidden = false; }
    Object.keys(fields || {}).forEach(function (field) {
      const name = field.replace(/^answers\./, "");
      const el = panel.querySelector('fieldset.question[data-name="' + name + '"]');
      if (!el) return;
      el.classList.add("has-error");
      const line = el.querySelector(".q-error");
      line.textContent = fields[field].join(" ");
      line.hidden = false;
    });
  }

  // --- submit and skip ------------------------------------------------------------------

  async function submit() {
    if (busy || !panel || panel.dataset.empty) return;
    if (panel.dataset.expired) { loadNext(); return; }
    const problems = missing();
    if (problems.length) {
      showProblems(problems);
      revealError();
      if (problems[0].step !== undefined) showPosition(problems[0].step);
      const index = keyed().indexOf(problems[0].q);
      if (index !== -1) { state.active = index; paint(); }
      return;
    }
    clearErrors();
    busy = true;
    panel.querySelectorAll('[data-command="submit"]').forEach(function (b) { b.disabled = true; });
    try {
      if (review) await adjudicate(); else await sendJudgment();
    } catch (error) {
      const payload = error.payload || {};
      if (payload.code === "lease_expired") {
        panel.dataset.expired = "true";
        showError(error.message + " Press Enter for the next item.", payload.fields);
      } else {
        showError(error.message, payload.fields);
      }
      revealError();
    } finally {
      busy = false;
      if (panel) panel.querySelectorAll('[data-command="submit"]').forEach(function (b) { b.disabled = false; });
    }
  }

  async function sendJudgment() {
    const submitted = { url: panel.dataset.undoUrl, expiresAt: panel.dataset.expiresAt };
    const result = await post(panel.dataset.submitUrl, {
      answers: collect(),
      idempotency_key: panel.dataset.idempotencyKey,
      time_spent_ms: Math.round(performance.now() - state.shownAt),
    }, "text/html");
    if (result.response.headers.get("X-Judgment-Replayed") !== "true") count(1);
    lastSubmitted = submitted;
    mount(result.html);
    updateUndo();
    showFlash("Saved. Here is the next one (U undoes it).");
  }

  function updateUndo() {
    if (lastSubmitted && new Date(lastSubmitted.expiresAt) <= new Date()) lastSubmitted = null;
    if (undoButton) undoButton.hidden = !lastSubmitted;
  }

  // Bring back the last submission, its answers filled in; the item shown instead goes back.
  async function undo() {
    if (busy || !lastSubmitted) return;
    busy = true;
    try {
      const result = await post(lastSubmitted.url, {}, "text/html");
      count(-1);
      mount(result.html);
      showFlash("Your last answer is back: change it and submit again.", "info");
    } catch (error) {
      showFlash(error.message, "error");
    } finally {
      lastSubmitted = null;
      busy = false;
      updateUndo();
    }
  }

  // O: submit the first error, then finish the task by hand from just before the marked step.
  async function takeOver() {
    if (busy || !panel || !panel.dataset.takeoverUrl) return false;
    const q = state.questions.find(function (item) { return item.type === "first_error"; });
    if (!q) return false;
    if (typeof q.step !== "number" || !q.category) {
      showProblems([{ q: q, message: "Mark the first wrong step (X) and what went wrong (1–9), then take over (O)." }]);
      return true;
    }
    const problems = missing();
    if (problems.length) { showProblems(problems); revealError(); return true; }
    busy = true;
    try {
      await post(panel.dataset.submitUrl, {
        answers: collect(),
        idempotency_key: panel.dataset.idempotencyKey,
        time_spent_ms: Math.round(performance.now() - state.shownAt),
      }, "text/html");
      const result = await post(panel.dataset.takeoverUrl, { step: q.step, category: q.category }, "application/json");
      window.location.href = result.json.play_url;
    } catch (error) {
      showError(error.message, (error.payload || {}).fields);
      revealError();
      busy = false;
    }
    return true;
  }

  async function adjudicate() {
    const note = panel.querySelector(".adjudication-note");
    await post(root.dataset.submitUrl, { answers: collect(), note: note ? note.value : "" }, "application/json");
    showFlash("Label recorded. Opening the next item…", "success");
    // The next page says what was recorded, in words.
    window.location.href = root.dataset.nextUrl + "&recorded=" + encodeURIComponent(root.dataset.item);
  }

  function count(by) {
    ["wb-today", "wb-session"].forEach(function (id) {
      const el = document.getElementById(id);
      if (el) el.textContent = Math.max(0, Number(el.textContent) + by);
    });
  }

  function openSkip() {
    if (!panel || panel.dataset.empty || !panel.dataset.skipUrl) return;
    skipReason = null;
    const dialog = document.getElementById("wb-skip");
    dialog.querySelectorAll("[data-reason]").forEach(function (b) { b.setAttribute("aria-checked", "false"); });
    document.getElementById("wb-skip-note").value = "";
    document.getElementById("wb-skip-error").hidden = true;
    dialog.showModal();
    dialog.querySelector("[data-reason]").focus();
  }

  function pickReason(index) {
    const buttons = document.querySelectorAll("#wb-skip [data-reason]");
    if (!buttons[index]) return;
    skipReason = buttons[index].dataset.reason;
    buttons.forEach(function (b, i) { b.setAttribute("aria-checked", String(i === index)); });
    if (skipReason === "other") document.getElementById("wb-skip-note").focus();
  }

  async function confirmSkip() {
    const error = document.getElementById("wb-skip-error");
    const note = document.getElementById("wb-skip-note").value.trim();
    if (!skipReason) { error.textContent = "Choose a reason (1–4)."; error.hidden = false; return; }
    if (skipReason === "other" && !note) { error.textContent = "Say why in the note."; error.hidden = false; document.getElementById("wb-skip-note").focus(); return; }
    if (busy) return;
    busy = true;
    try {
      const result = await post(panel.dataset.skipUrl, { reason: skipReason, note: note }, "text/html");
      document.getElementById("wb-skip").close();
      mount(result.html);
      showFlash("Skipped.", "info");
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
    } finally {
      busy = false;
    }
  }

  // --- the lease clock ------------------------------------------------------------------

  function updateLease() {
    if (!leaseLabel) return;
    if (!panel || !panel.dataset.expiresAt) { leaseLabel.textContent = ""; return; }
    const left = Math.round((new Date(panel.dataset.expiresAt) - new Date()) / 1000);
    if (left <= 0) {
      leaseLabel.textContent = "Time is up: your answer still counts if the item needs it";
      leaseLabel.className = "lease-late";
      return;
    }
    const minutes = Math.floor(left / 60);
    leaseLabel.textContent = "Time left " + minutes + ":" + String(left % 60).padStart(2, "0");
    leaseLabel.className = left < 60 ? "lease-late" : "muted";
  }
  setInterval(function () { updateLease(); updateUndo(); }, 1000);

  // --- keys -----------------------------------------------------------------------------

  function openDialog() {
    return document.querySelector("dialog[open]");
  }

  function command(name) {
    if (name === "help") document.getElementById("wb-help").showModal();
    else if (name === "instructions") document.getElementById("wb-instructions").showModal();
    else if (name === "submit") submit();
    else if (name === "skip") openSkip();
    else if (name === "undo") undo();
    else if (name === "takeover") takeOver();
    else if (name === "confirm-skip") confirmSkip();
    else if (name === "close") { const d = openDialog(); if (d) d.close(); root.focus({ preventScroll: true }); }
    else if (name === "reload") loadNext();
    else if (name === "home" && bench) window.location.href = bench.dataset.homeUrl;
  }

  function onDialogKey(event, dialog) {
    if (dialog.id !== "wb-skip") return;
    const typing = event.target.tagName === "TEXTAREA";
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      confirmSkip();
    } else if (!typing && /^[1-9]$/.test(event.key)) {
      event.preventDefault();
      pickReason(Number(event.key) - 1);
    }
  }

  document.addEventListener("keydown", function (event) {
    const dialog = openDialog();
    if (dialog) { onDialogKey(event, dialog); return; }
    const target = event.target;
    const typing = target.matches && target.matches("input, textarea, select, [contenteditable]");
    const inSite = target.closest && target.closest("#env-stage");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); submit(); return; }
    if (event.key === "Escape") {
      const inFrame = target.closest && target.closest(".replay-stage");
      if (typing || inSite || inFrame) { target.blur(); root.focus({ preventScroll: true }); event.preventDefault(); }
      else if (panel && panel.dataset.empty) command("home");
      return;
    }
    if (typing || inSite || event.ctrlKey || event.metaKey || event.altKey) return;
    if (!panel) return;
    const key = event.key;
    const frame = target.closest && target.closest(".replay-stage");
    if (frame && panel.contains(frame)) {
      if (onFrameKey(event, frame)) { event.preventDefault(); return; }
    }
    const onControl = target.matches && target.matches("button, a[href]");
    let handled = true;
    if (key === "?") command("help");
    else if (key === "PageDown" || key === "PageUp" || (key === " " && !onControl)) {
      const frames = shownFrames();
      frames.forEach(function (shown) { scrollFrame(shown, key, event.shiftKey); });
      handled = frames.length > 0;
    }
    else if ((key === "f" || key === "F") && !panel.dataset.empty) handled = enterFrame();
    else if (key === "i" || key === "I") command("instructions");
    else if ((key === "u" || key === "U") && lastSubmitted) undo();
    else if (panel.dataset.empty) { if (key === "r" || key === "R") command("reload"); else handled = false; }
    else if (key === "s" || key === "S") { if (bench) openSkip(); else handled = false; }
    else if (key === "Enter") { if (target.closest && target.closest("#play")) handled = false; else submit(); }
    else if (key === "ArrowRight" || key === "l") showPosition(state.position + 1);
    else if (key === "ArrowLeft" || key === "h") showPosition(state.position - 1);
    else if (key === "Home") showPosition(0);
    else if (key === "End") showPosition(state.positions - 1);
    else if (key === "+" || key === "=") rateStep(1);
    else if (key === "0") rateStep(0);
    else if (key === "-") rateStep(-1);
    else if (key === "n" || key === "N") { const note = panel.querySelector(".step-note:not([disabled]), .first-error-note"); if (note) note.focus(); else handled = false; }
    else if (key === "x" || key === "X") handled = markFirstError();
    else if (key === "g" || key === "G") handled = noFirstError();
    else if ((key === "o" || key === "O") && bench && panel.dataset.takeoverUrl) takeOver();
    else if (key === "a" || key === "A") prefer("A");
    else if (key === "b" || key === "B") prefer("B");
    else if (key === "t" || key === "T") prefer("tie");
    else if (key === "ArrowDown") moveQuestion(1);
    else if (key === "ArrowUp") moveQuestion(-1);
    else if (/^[1-9]$/.test(key)) choose(activeQuestion(), Number(key));
    else if (key === "c" || key === "C") {
      const q = activeQuestion();
      const box = (q && q.type === "text" ? q.el : panel).querySelector(".text-answer");
      if (box) box.focus(); else handled = false;
    }
    else handled = false;
    if (handled) { event.preventDefault(); paint(); }
  });

  root.addEventListener("click", function (event) {
    const button = event.target.closest("button, a[data-command]");
    if (!button || !root.contains(button)) return;
    if (button.dataset.command) { event.preventDefault(); command(button.dataset.command); return; }
    if (!panel || !state) return;
    const fieldset = button.closest("fieldset.question");
    if (button.dataset.goto !== undefined) showPosition(Number(button.dataset.goto));
    else if (fieldset) {
      const q = state.questions.find(function (item) { return item.el === fieldset; });
      if (button.dataset.rating !== undefined) rateStep(Number(button.dataset.rating));
      else if (button.dataset.firstError === "mark") markFirstError();
      else if (button.dataset.firstError === "none") noFirstError();
      else if (button.dataset.category) {
        const index = Array.prototype.indexOf.call(fieldset.querySelectorAll("[data-category]"), button);
        choose(q, index + 1);
      }
      else if (button.dataset.choice) prefer(button.dataset.choice);
      else if (button.dataset.strength) { state.active = keyed().indexOf(q); choose(q, Number(button.dataset.strength)); }
      else if (button.dataset.checkValue) {
        const rows = Array.prototype.slice.call(fieldset.querySelectorAll("[data-check]"));
        answerCheck(q, rows.indexOf(button.closest("[data-check]")), button.dataset.checkValue === "true");
      }
      else if (button.dataset.value !== undefined) {
        state.active = keyed().indexOf(q);
        const index = Array.prototype.indexOf.call(fieldset.querySelectorAll("[data-value]"), button);
        choose(q, index + 1);
      }
    } else return;
    button.blur();
    paint();
  });

  document.addEventListener("click", function (event) {
    const button = event.target.closest("dialog button");
    if (!button) return;
    if (button.dataset.command) command(button.dataset.command);
    else if (button.dataset.reason) pickReason(Array.prototype.indexOf.call(document.querySelectorAll("#wb-skip [data-reason]"), button));
  });

  document.addEventListener("input", function (event) {
    if (event.target.classList.contains("step-note") && state) state.notes[String(state.position)] = event.target.value;
    if (event.target.classList.contains("text-answer") && state && state.problemsShown) showProblems(missing());
  });

  // The key bar is fixed over the bottom of the window: the page and the answers column stop
  // above it, however many lines it wraps to.
  const keybar = root.querySelector(".keybar");
  function fitKeybar() {
    if (keybar) document.documentElement.style.setProperty("--keybar-height", keybar.offsetHeight + "px");
  }
  window.addEventListener("resize", fitKeybar);
  fitKeybar();

  if (bench) loadNext(); else { start(document.getElementById("panel")); applyZoom(); }
})();
