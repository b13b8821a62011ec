// The campaign builder: questions and sources set with form controls, written as JSON into the
// form's schema and sources fields (which stay editable as an advanced view), with a live
// preview of the contractor's questions rendered by the server from the workbench's own
// template. Without this script the JSON fields are the form.
(function () {
  "use strict";
  const form = document.getElementById("campaign-form");
  const dataNode = document.getElementById("builder-data");
  if (!form || !dataNode) return;
  const data = JSON.parse(dataNode.textContent);
  const schemaField = form.elements.schema;
  const sourcesField = form.elements.sources;
  const kindField = form.elements.kind;
  const questionsBox = document.getElementById("schema-builder");
  const sourcesBox = document.getElementById("sources-builder");
  const addType = document.getElementById("add-question-type");
  const previewBox = document.getElementById("schema-preview");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  let kind = kindField.value;
  let schema = [];
  let sources = {};
  let previewTimer = null;

  // A new question's starting point; the values of its options follow their labels until typed.
  const DEFAULTS = {
    step_rating: { name: "steps", prompt: "Was each step a good move?", notes: true },
    outcome_rating: { name: "outcome", prompt: "How well was the task done?", min: 1, max: 5, min_label: "", max_label: "" },
    preference: { name: "preference", prompt: "Which did the task better?", strength: true },
    rubric: { name: "checks", prompt: "Tick what holds", checks: [{ name: "goal_met", label: "Did what the task asked", _auto: true }] },
    single_choice: { name: "choice", prompt: "Choose one", options: [{ value: "yes", label: "Yes", _auto: true }, { value: "no", label: "No", _auto: true }] },
    multiple_choice: { name: "issues", prompt: "Choose all that apply", options: [{ value: "slow", label: "Slow", _auto: true }, { value: "wrong", label: "Wrong", _auto: true }], min_selected: 0 },
    text: { name: "comment", prompt: "Anything to add?", required: false, max_length: 1000 },
    first_error: { name: "first_error", prompt: "Which step went wrong first, and how?", categories: data.error_categories },
  };

  // --- small helpers --------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "checked" || key === "disabled" || key === "hidden") node[key] = attrs[key];
      else if (key === "value") node.value = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function slug(text) {
    const cleaned = String(text).toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 40);
    return /^[a-z]/.test(cleaned) ? cleaned : (cleaned ? "q_" + cleaned : "");
  }

  function clone(value) {
    return JSON.parse(JSON.stringify(value));
  }

  // Keys starting with "_" are the builder's own (which values follow their label).
  function serialisable(value) {
    return JSON.stringify(value, function (key, item) { return key.charAt(0) === "_" ? undefined : item; }, 2);
  }

  function same(a, b) {
    return serialisable(a) === serialisable(b);
  }

  function uniqueName(base) {
    const taken = schema.map(function (q) { return q.name; });
    if (taken.indexOf(base) === -1) return base;
    for (let n = 2; ; n++) if (taken.indexOf(base + "_" + n) === -1) return base + "_" + n;
  }

  // Options and checks may be written as plain strings; the builder edits objects.
  function normalise(question) {
    ["options", "checks"].forEach(function (key) {
      if (!Array.isArray(question[key])) return;
      const ident = key === "checks" ? "name" : "value";
      question[key] = question[key].map(function (item) {
        if (typeof item === "string") { const row = { label: item.replace(/_/g, " ") }; row[ident] = item; return row; }
        return item;
      });
    });
    return question;
  }

  // --- writing the JSON fields and asking for the preview -------------------------------

  function writeSchemaField() {
    schemaField.value = serialisable(schema);
    showJsonError(schemaField, "");
  }

  function writeSchema() {
    writeSchemaField();
    schedulePreview();
  }

  function writeSources() {
    sourcesField.value = serialisable(sources);
    showJsonError(sourcesField, "");
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 250);
  }

  async function preview() {
    const body = new URLSearchParams({ kind: kind, schema: schemaField.value });
    try {
      const response = await fetch(previewBox.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
        body: body,
      });
      if (response.ok) previewBox.innerHTML = await response.text();
    } catch (error) {
      // The preview is a convenience: the form still validates on save.
    }
  }

  // --- the questions ----------------------------------------------------------------------

  function field(labelText, input, hint) {
    return el("label", { class: "builder-field" }, [
      el("span", { text: labelText }), input, hint ? el("small", { class: "muted", text: hint }) : null,
    ]);
  }

  function textInput(question, key, attrs) {
    const input = el("input", Object.assign({ type: "text", value: question[key] === undefined ? "" : question[key], "data-key": key }, attrs || {}));
    input.addEventListener("input", function () { question[key] = input.value; writeSchema(); });
    return input;
  }

  function numberInput(question, key, fallback) {
    const input = el("input", { type: "number", value: question[key] === undefined ? fallback : question[key], "data-key": key });
    input.addEventListener("input", function () {
      const number = parseInt(input.value, 10);
      if (isNaN(number)) delete question[key]; else question[key] = number;
      writeSchema();
    });
    return input;
  }

  function checkbox(question, key, fallback, labelText) {
    const input = el("input", { type: "checkbox", checked: question[key] === undefined ? fallback : question[key], "data-key": key });
    input.addEventListener("change", function () { question[key] = input.checked; writeSchema(); });
    return el("label", { class: "check builder-check" }, [input, document.createTextNode(" " + labelText)]);
  }

  // The options of a choice question, or the checks of a rubric: a row each, with its key.
  function rows(question, key) {
    const ident = key === "checks" ? "name" : "value";
    const list = question[key] = question[key] || [];
    const box = el("div", { class: "builder-rows", "data-rows": key });
    list.forEach(function (row, index) {
      const noun = key === "checks" ? "Check " : key === "categories" ? "Category " : "Option ";
      const labelInput = el("input", { type: "text", value: row.label || "", "aria-label": noun + (index + 1), class: "row-label" });
      const identInput = el("input", { type: "text", value: row[ident] || "", "aria-label": ident, class: "row-ident code" });
      labelInput.addEventListener("input", function () {
        // A value nobody typed follows its label.
        if (row._auto || !row[ident]) { row._auto = true; row[ident] = slug(labelInput.value); identInput.value = row[ident]; }
        row.label = labelInput.value;
        writeSchema();
      });
      identInput.addEventListener("input", function () { row._auto = false; row[ident] = identInput.value; writeSchema(); });
      const remove = el("button", { type: "button", class: "small-button", text: "Remove" });
      remove.addEventListener("click", function () { list.splice(index, 1); renderQuestions(); writeSchema(); });
      box.appendChild(el("div", { class: "builder-row" }, [
        el("kbd", { text: String(index + 1), title: "The contractor's key for it" }), labelInput, identInput, remove,
      ]));
    });
    const adds = { checks: "Add a check", categories: "Add an error category", options: "Add an option" };
    const add = el("button", { type: "button", class: "small-button", text: adds[key], disabled: list.length >= data.max_keyed });
    add.addEventListener("click", function () {
      const row = { label: "", _auto: true };
      row[ident] = "";
      list.push(row);
      renderQuestions();
      const inputs = questionsBox.querySelectorAll('[data-name="' + question.name + '"] .row-label');
      if (inputs.length) inputs[inputs.length - 1].focus();
      writeSchema();
    });
    box.appendChild(add);
    return box;
  }

  function settings(question) {
    const type = question.type;
    if (type === "step_rating") return [checkbox(question, "notes", true, "Allow a note on each step")];
    if (type === "preference") return [checkbox(question, "strength", true, "Ask how much better (1 slightly, 2 clearly, 3 much)")];
    if (type === "outcome_rating") {
      return [el("div", { class: "builder-inline" }, [
        field("Lowest", numberInput(question, "min", 1)), field("Highest", numberInput(question, "max", 5)),
        field("Lowest means", textInput(question, "min_label", { placeholder: "e.g. failed" })),
        field("Highest means", textInput(question, "max_label", { placeholder: "e.g. perfect" })),
      ]), el("small", { class: "muted", text: "At most 9 points: each is a number key." })];
    }
    if (type === "rubric") return [rows(question, "checks")];
    if (type === "first_error") {
      return [el("small", { class: "muted", text: "The error taxonomy: the contractor marks the first wrong step (X), then its category by its key." }), rows(question, "categories")];
    }
    if (type === "single_choice") return [rows(question, "options")];
    if (type === "multiple_choice") {
      return [rows(question, "options"), el("div", { class: "builder-inline" }, [
        field("At least", numberInput(question, "min_selected", 0)),
        field("At most", numberInput(question, "max_selected", (question.options || []).length)),
      ])];
    }
    if (type === "text") {
      return [el("div", { class: "builder-inline" }, [
        field("Shortest", numberInput(question, "min_length", 0)), field("Longest", numberInput(question, "max_length", 2000)),
      ])];
    }
    return [];
  }

  function move(index, delta) {
    const to = index + delta;
    if (to < 0 || to >= schema.length) return;
    const moved = schema.splice(index, 1)[0];
    schema.splice(to, 0, moved);
    renderQuestions();
    writeSchema();
    const again = questionsBox.querySelectorAll(".builder-question")[to];
    const button = again && again.querySelector(delta < 0 ? '[data-move="up"]' : '[data-move="down"]');
    if (button && !button.disabled) button.focus();
  }

  function renderQuestions() {
    questionsBox.innerHTML = "";
    if (!schema.length) questionsBox.appendChild(el("p", { class: "muted", text: "No questions yet: add one below." }));
    schema.forEach(function (question, index) {
      const up = el("button", { type: "button", class: "small-button", "data-move": "up", text: "↑ Up", disabled: index === 0 });
      const down = el("button", { type: "button", class: "small-button", "data-move": "down", text: "↓ Down", disabled: index === schema.length - 1 });
      const remove = el("button", { type: "button", class: "small-button danger", text: "Remove" });
      up.addEventListener("click", function () { move(index, -1); });
      down.addEventListener("click", function () { move(index, 1); });
      remove.addEventListener("click", function () { schema.splice(index, 1); renderQuestions(); writeSchema(); });
      const allowed = (data.types[kind] || []).indexOf(question.type) !== -1;
      const card = el("fieldset", { class: "builder-question" + (allowed ? "" : " has-error"), "data-name": question.name, "data-type": question.type }, [
        el("legend", { text: (index + 1) + ". " + (data.type_titles[question.type] || question.type) }),
        el("div", { class: "builder-tools" }, [up, down, remove]),
        allowed ? null : el("p", { class: "q-error", text: "A " + kind + " campaign cannot ask this; remove it." }),
        el("div", { class: "builder-inline" }, [
          field("Question", textInput(question, "prompt", { class: "q-prompt" })),
          field("Name", textInput(question, "name", { class: "q-name code", pattern: "[a-z][a-z0-9_]*" }), "in the answers and exports"),
        ]),
        checkbox(question, "required", true, "An answer is required"),
      ].concat(settings(question)));
      questionsBox.appendChild(card);
    });
    addType.innerHTML = "";
    (data.types[kind] || []).forEach(function (type) {
      const taken = (type === "step_rating" || type === "first_error") && schema.some(function (q) { return q.type === type; });
      addType.appendChild(el("option", { value: type, text: data.type_titles[type], disabled: taken }));
    });
  }

  document.getElementById("add-question").addEventListener("click", function () {
    const type = addType.value;
    if (!type) return;
    const question = Object.assign({ type: type }, clone(DEFAULTS[type]));
    question.name = uniqueName(question.name);
    schema.push(question);
    renderQuestions();
    writeSchema();
    const cards = questionsBox.querySelectorAll(".builder-question");
    cards[cards.length - 1].querySelector(".q-prompt").focus();
  });

  // --- the sources ------------------------------------------------------------------------

  function environment(id) {
    return data.environments.find(function (env) { return env.id === id; });
  }

  function listToggle(key, value, on) {
    const list = (sources[key] || []).filter(function (item) { return item !== value; });
    if (on) list.push(value);
    if (list.length) sources[key] = list; else delete sources[key];
  }

  function checks(key, values, titles) {
    return el("div", { class: "builder-checks", "data-sources": key }, values.map(function (value, index) {
      const input = el("input", { type: "checkbox", value: value, checked: (sources[key] || []).indexOf(value) !== -1 });
      input.addEventListener("change", function () { listToggle(key, value, input.checked); writeSources(); });
      return el("label", { class: "check builder-check" }, [input, document.createTextNode(" " + (titles ? titles[index] : value))]);
    }));
  }

  function sourcesNumber(labelText, value, onInput) {
    const input = el("input", { type: "number", value: value });
    input.addEventListener("input", function () { onInput(parseFloat(input.value)); writeSources(); });
    return field(labelText, input);
  }

  function renderSources() {
    sourcesBox.innerHTML = "";
    const select = el("select", { id: "sources-environment" }, [
      el("option", { value: "", text: kind === "demonstrate" ? "Choose an environment" : "Any environment" }),
    ].concat(data.environments.map(function (env) {
      return el("option", { value: env.id, text: env.title + " (" + env.id + ")" });
    })));
    select.value = sources.environment || "";
    select.addEventListener("change", function () {
      if (select.value) sources.environment = select.value; else delete sources.environment;
      delete sources.families;
      if (kind === "demonstrate" && !select.value) delete sources.seeds;
      renderSources();
      writeSources();
    });
    sourcesBox.appendChild(field("Environment", select));
    const env = environment(sources.environment);
    if (env) {
      sourcesBox.appendChild(el("p", { class: "builder-caption", text: "Families (none ticked: every family)" }));
      sourcesBox.appendChild(checks("families", env.families.map(function (f) { return f.name; }), env.families.map(function (f) { return f.title; })));
    }
    if (kind === "demonstrate") {
      if (!env) return;
      if (Array.isArray(sources.seeds)) {
        sourcesBox.appendChild(el("p", { class: "builder-caption", text: "Seeds " + sources.seeds.join(", ") + " (edit them in the JSON)" }));
        return;
      }
      const seeds = sources.seeds = sources.seeds || { start: 0, count: 10 };
      sourcesBox.appendChild(el("div", { class: "builder-inline" }, [
        sourcesNumber("First seed", seeds.start, function (v) { seeds.start = isNaN(v) ? 0 : v; }),
        sourcesNumber("Seeds per family", seeds.count, function (v) { seeds.count = isNaN(v) ? 1 : v; }),
      ]));
      return;
    }
    sourcesBox.appendChild(el("p", { class: "builder-caption", text: "Played by (none ticked: anyone)" }));
    sourcesBox.appendChild(checks("actor_kinds", data.actor_kinds, ["agents", "contractors"]));
    sourcesBox.appendChild(el("p", { class: "builder-caption", text: "Started from (none ticked: anywhere)" }));
    sourcesBox.appendChild(checks("episode_sources", data.episode_sources));
    if (kind === "compare") {
      sourcesBox.appendChild(sourcesNumber("Pairs per task", sources.pairs_per_task || 1, function (v) { sources.pairs_per_task = isNaN(v) ? 1 : v; }));
    }
    const subscribed = el("input", { type: "checkbox", id: "sources-rollouts", checked: !!sources.rollouts });
    const mode = el("select", { id: "sources-rollouts-mode" }, data.rollout_modes.map(function (m) {
      return el("option", { value: m, text: { all: "every episode", failures: "failed episodes", successes: "solved episodes" }[m] });
    }));
    const rate = el("input", { type: "number", id: "sources-rollouts-rate", min: "1", max: "100" });
    const current = sources.rollouts || { mode: "all", sample_rate: 1 };
    mode.value = current.mode;
    rate.value = Math.round(current.sample_rate * 100);
    function subscription() {
      if (subscribed.checked) sources.rollouts = { mode: mode.value, sample_rate: Math.min(100, Math.max(1, parseFloat(rate.value) || 100)) / 100 };
      else delete sources.rollouts;
      mode.disabled = rate.disabled = !subscribed.checked;
      writeSources();
    }
    [subscribed, mode, rate].forEach(function (input) { input.addEventListener("change", subscription); input.addEventListener("input", subscription); });
    mode.disabled = rate.disabled = !subscribed.checked;
    sourcesBox.appendChild(el("div", { class: "builder-rollouts" }, [
      el("label", { class: "check builder-check" }, [subscribed, document.createTextNode(" Take rollout episodes as they finish")]),
      el("div", { class: "builder-inline" }, [field("Which", mode), field("Percent sampled", rate)]),
    ]));
  }

  // --- the JSON views, and changing kind --------------------------------------------------

  function showJsonError(textarea, message) {
    const box = document.getElementById(textarea.id + "-json-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  // JSON.parse names a character position; people want a line and a column.
  function jsonProblem(text, error) {
    const match = /position (\d+)/.exec(error.message);
    if (!match) return "Not valid JSON: " + error.message;
    const before = text.slice(0, Number(match[1])).split("\n");
    return "Not valid JSON: line " + before.length + ", column " + (before[before.length - 1].length + 1) + ": " + error.message.replace(/ in JSON at position.*$/, "") + ".";
  }

  function readJson(textarea, fallback) {
    if (!textarea.value.trim()) return fallback;
    try {
      return JSON.parse(textarea.value);
    } catch (error) {
      showJsonError(textarea, jsonProblem(textarea.value, error));
      return undefined;
    }
  }

  schemaField.addEventListener("input", function () {
    const parsed = readJson(schemaField, []);
    if (parsed === undefined) return;
    showJsonError(schemaField, "");
    if (Array.isArray(parsed)) { schema = parsed.map(function (q) { return normalise(q || {}); }); renderQuestions(); }
    schedulePreview();
  });
  sourcesField.addEventListener("input", function () {
    const parsed = readJson(sourcesField, {});
    if (parsed === undefined) return;
    showJsonError(sourcesField, "");
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) { sources = parsed; renderSources(); }
  });

  kindField.addEventListener("change", function () {
    const before = data.examples[kind];
    const after = data.examples[kind = kindField.value];
    const untouched = !schema.length || (same(schema, before.schema.map(normalise)) && same(sources, before.sources));
    if (untouched || window.confirm("Replace the questions and sources with the example for this kind?")) {
      schema = clone(after.schema).map(normalise);
      sources = clone(after.sources);
      writeSchema();
      writeSources();
    } else {
      schedulePreview();
    }
    renderQuestions();
    renderSources();
  });

  // --- start ------------------------------------------------------------------------------

  const initialSchema = readJson(schemaField, []);
  const initialSources = readJson(sourcesField, {});
  schema = (Array.isArray(initialSchema) ? initialSchema : []).map(function (q) { return normalise(q || {}); });
  sources = initialSources && typeof initialSources === "object" && !Array.isArray(initialSources) ? initialSources : {};
  form.classList.add("has-builder");
  renderQuestions();
  renderSources();
  // The page came with the preview of the schema it holds.
  if (Array.isArray(initialSchema)) writeSchemaField();
  if (initialSources && !Array.isArray(initialSources)) writeSources();
})();
