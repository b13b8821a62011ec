"""Text that agents and contractors write (fill values, refused actions, answers, imported
lines, judgment comments, step notes, display names, names typed at sign-in) is shown escaped on
every page where graders, reviewers, managers and admins read it: literally, as text, and never
run as markup or script.

The data is made through the platform's own services and API; each page is then opened in a
real browser as the role that reads it. A page passes when no payload ran (`window.__pwned` is
unset, no dialog opened, no console or page error), no payload became markup (no script or
event handler carrying it, no `javascript:` link), and every hostile text it shows is in the DOM
as text. Adding a page is one line of PAGES.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from environments.engine import get_environment, page_to_axtree
from environments.imports import import_job_run
from environments.models import Episode
from environments.services import (
    StepRequest,
    episode_create,
    episodes_step,
    task_get_or_create,
)
from labeling import services as labeling_services
from labeling.queue import next_item_for
from rlplatform.models import Job, Role
from rlplatform.services import job_execute, user_create
from tests.conftest import browser_sign_in, key_client
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Each sets window.__pwned if it ever runs: as an element, from inside an attribute, or after
# breaking out of a textarea or a script block; the last one runs only as a link.
PAYLOADS = (
    "<script>__pwned=1</script>",
    "<img src=x onerror=__pwned=2>",
    '"></textarea></script><svg onload=__pwned=3>',
    "javascript:__pwned=4",
)
# No single quote, so that reprs and the action grammar's quoting show the payloads unchanged.
FIELDS = ("fill", "bid", "answer", "import", "family", "comment", "note", "name", "signin")
# Every free-text field carries all the payloads, tagged with the field's name so that a failure
# says which one a page lost. Two are short: an upload's name is cut at its last slash, and an
# import's report quotes an action's bid only up to 60 characters.
TEXT = {field: f"{field}: " + " ".join(PAYLOADS) for field in FIELDS} | {
    "file": "file<img src=x onerror=__pwned=5>.jsonl",
    "line": 'line"><svg onload=__pwned=6>',
}

FAMILY, SEED = "pay_bill", 3
USERNAME_FIELD = "1"  # the bid of the sign-in page's first text box in bank-v1's pay_bill


# --- the data: every field an agent or a contractor controls, made hostile --------------------


def agent_episode(task, user) -> Episode:
    """An agent's finished episode: a hostile fill, a refused click on a made-up bid (recorded,
    as rollouts and OpenEnv sessions record refusals) and a hostile answer."""
    episode = episode_create(task=task, user=user, actor_kind="agent", source="test")
    for action in (
        {"name": "fill", "args": {"bid": USERNAME_FIELD, "value": TEXT["fill"]}},
        f"click('{TEXT['bid']}')",
        {"name": "send_msg_to_user", "args": {"text": TEXT["answer"]}},
    ):
        episodes_step(requests=[StepRequest(episode.pk, action, record_refusal=True)])
    episode.refresh_from_db()
    assert episode.is_finished and episode.step_count == 3
    return episode


def imported_line() -> str:
    """A trajectory made elsewhere, with the observations its actor saw before each action."""
    env = get_environment("bank-v1")
    task = env.make_task(FAMILY, SEED)
    state = env.reset(task.seed, task)
    actions = [f"fill('{USERNAME_FIELD}', '{TEXT['import']}')", "send_msg_to_user('done')"]
    observations = []
    for action in actions:
        observations.append(page_to_axtree(env.render(state)))
        state = env.step(state, action)
    return json.dumps(
        {
            "environment": "bank-v1",
            "family": FAMILY,
            "seed": SEED,
            "actions": actions,
            "observations": observations,
        }
    )


def run_import(client, name: str, lines: list[str]) -> Job:
    """Upload a file through the API, then run its job here rather than on a worker."""
    upload = SimpleUploadedFile(name, "\n".join(lines).encode())
    response = client.post("/api/v1/imports/", {"file": upload}, format="multipart")
    assert response.status_code == 202, response.json()
    job_execute(job_id=response.json()["id"], handler=import_job_run)
    return Job.objects.get(pk=response.json()["id"])


def active_campaign(manager, name: str, schema: list, entries: list[dict], **settings):
    campaign = labeling_services.campaign_create(
        created_by=manager, name=name, kind=settings.pop("kind", "grade"), schema=schema, **settings
    )
    labeling_services.items_add(campaign=campaign, added_by=manager, entries=entries)
    return labeling_services.campaign_set_status(
        campaign=campaign, status="active", changed_by=manager
    )


STEPS_SCHEMA = [
    {"name": "steps", "type": "step_rating", "notes": True},
    {"name": "outcome", "type": "outcome_rating", "min": 1, "max": 5},
    {"name": "comment", "type": "text", "required": False},
]


@pytest.fixture
def seeded(admin_user, manager, reviewer) -> dict[str, int]:
    """Everything hostile, made through the services and the API; returns the ids pages need."""
    people = [
        user_create(
            username=username,
            password=PASSWORD,
            role=Role.CONTRACTOR,
            display_name=TEXT["name"],
            created_by=admin_user,
        )
        for username in ("grader", "second-grader", "agent-owner")
    ]
    grader, second_grader, agent_owner = people
    # Anyone may type a name at the sign-in page; a failed sign-in is audited under it.
    Client().post("/accounts/sign-in/", {"username": TEXT["signin"], "password": "wrong"})

    task = task_get_or_create(env_id="bank-v1", family=FAMILY, seed=SEED)
    by_api = agent_episode(task, agent_owner)
    agent = key_client(scopes=["agent"], owner=agent_owner)
    (imported,) = run_import(agent, "runs.jsonl", [imported_line()]).result["episodes"]
    rejected = run_import(
        agent,
        TEXT["file"],
        [
            json.dumps({"environment": "bank-v1", "family": TEXT["family"], "seed": 1}),
            json.dumps(
                {
                    "environment": "bank-v1",
                    "family": FAMILY,
                    "seed": 1,
                    "actions": [f"click('{TEXT['line']}')"],
                }
            ),
        ],
    )
    assert rejected.status == "failed"
    exporter = key_client(scopes=["export"], owner=agent_owner)
    response = exporter.post("/api/v1/exports/", {"kind": "trajectories"}, format="json")
    assert response.status_code == 202, response.json()

    steps = active_campaign(manager, "Steps", STEPS_SCHEMA, [{"episode": by_api.pk}])
    outcome = active_campaign(manager, "Outcome", STEPS_SCHEMA[1:], [{"episode": by_api.pk}])
    compare = active_campaign(
        manager,
        "Compare",
        [{"name": "preference", "type": "preference"}],
        [{"episode_a": by_api.pk, "episode_b": imported}],
        kind="compare",
    )
    disputed = active_campaign(
        manager,
        "Disputed",
        STEPS_SCHEMA,
        [{"episode": by_api.pk}],
        overlap=2,
        review_threshold=0.9,
        reviewers=[reviewer],
    )
    for person, outcome_given, steps_given in (
        (grader, 5, {"ratings": [1, -1, 0], "notes": {"1": TEXT["note"]}}),
        (second_grader, 1, {"ratings": [-1, 1, 1]}),
    ):
        labeling_services.judgment_submit(
            assignment=next_item_for(contractor=person, campaign=disputed),
            contractor=person,
            answers={"steps": steps_given, "outcome": outcome_given, "comment": TEXT["comment"]},
            idempotency_key=f"hostile-{person.pk}",
        )
    (item,) = disputed.items.all()
    assert item.review_status == "pending"

    # The manager's own play: a hostile fill made; the answer is typed in the browser.
    playing = episode_create(task=task, user=manager, actor_kind="contractor", source="browser")
    episodes_step(
        requests=[
            StepRequest(
                playing.pk, {"name": "fill", "args": {"bid": USERNAME_FIELD, "value": TEXT["fill"]}}
            )
        ]
    )
    return {
        "playing": playing.pk,
        "steps": steps.pk,
        "outcome": outcome.pk,
        "compare": compare.pk,
        "disputed": disputed.pk,
        "review_item": item.pk,
        "rejected_import": rejected.pk,
    }


# --- the pages ------------------------------------------------------------------------------


def send_answer(tab) -> None:
    """Finish the play in the browser: the outcome is fetched and swapped in by play.js."""
    tab.fill("#answer", TEXT["answer"])
    tab.click("#send-answer")
    tab.wait_for_selector("#outcome")


@dataclass(frozen=True)
class Visit:
    name: str
    role: str  # whose browser: the username of the person who reads the page
    path: str  # formatted with the seeded ids
    shows: tuple[str, ...]  # the fields whose hostile text the page must show
    ready: str = "main"  # present once the page shows what it shows
    act: Callable | None = None  # what the person does there before the checks


PANEL = "#panel[data-assignment]"  # the workbench swaps its item in after the page loads
PAGES = [
    Visit("play page and outcome", "manager", "/play/{playing}/", ("fill", "answer"),
          ready="#env-stage", act=send_answer),
    Visit("per-step grading", "grader", "/label/campaigns/{steps}/work/",
          ("fill", "bid", "answer", "name"), ready=PANEL),
    Visit("whole-trajectory grading", "grader", "/label/campaigns/{outcome}/work/",
          ("fill", "bid", "answer", "name"), ready=PANEL),
    Visit("side-by-side comparison", "grader", "/label/campaigns/{compare}/work/",
          ("fill", "bid", "answer", "import", "name"), ready=PANEL),
    Visit("review", "reviewer", "/label/review/{review_item}/",
          ("fill", "bid", "answer", "comment", "note"), ready="#panel"),
    Visit("campaign dashboard", "manager", "/label/manage/{disputed}/", ("name",)),
    Visit("imports", "admin", "/imports/", ("file", "family", "line")),
    Visit("import job", "admin", "/jobs/{rejected_import}/", ("file", "name")),
    Visit("jobs", "admin", "/jobs/", ("name",)),
    Visit("exports", "admin", "/exports/", ("name",)),
    Visit("users", "admin", "/users/", ("name",)),
    Visit("audit log", "admin", "/audit/", ("signin",)),
    Visit("admin home", "admin", "/", ("signin",)),
]  # fmt: skip

# The texts of `texts` that are nowhere in the page as text (text nodes outside scripts and
# styles, and the values of form fields).
MISSING_TEXT = """(texts) => {
  const shown = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest("script, style, template")) shown.push(node.data);
  }
  document.querySelectorAll("input, textarea").forEach((field) => shown.push(field.value));
  return texts.filter((text) => !shown.some((piece) => piece.includes(text)));
}"""

# Payloads that became markup, whether or not they ran: a script or an event handler that
# carries one, or a link to a javascript: URL.
INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    if (tag === "script" && !el.src && (!el.type || /javascript|module/i.test(el.type))
        && el.textContent.includes("__pwned")) found.push("<script>" + el.textContent);
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on") && attr.value.includes("__pwned")) {
        found.push(`<${tag} ${attr.name}="${attr.value}">`);
      } else if (["href", "src", "action", "formaction"].includes(attr.name)
                 && /^\\s*javascript:/i.test(attr.value)) {
        found.push(`<${tag} ${attr.name}="${attr.value}">`);
      }
    }
  }
  return found;
}"""


class Tab:
    """A signed-in browser tab that records what a hostile payload would leave behind."""

    def __init__(self, browser, live_server, username: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.events: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.events.append(f"page error: {error}"))
        self.page.on(
            "console",
            lambda message: (
                message.type == "error" and self.events.append(f"console error: {message.text}")
            ),
        )
        browser_sign_in(self.page, live_server, username)

    def _dialog(self, dialog) -> None:
        self.events.append(f"a {dialog.type} dialog opened: {dialog.message!r}")
        dialog.dismiss()

    def problems_on(self, url: str, visit: Visit) -> list[str]:
        self.events.clear()
        self.page.goto(url)
        try:
            self.page.wait_for_selector(visit.ready)
            if visit.act is not None:
                visit.act(self.page)
        except PlaywrightTimeoutError as error:
            shown = " ".join(self.page.inner_text("main").split())[:300]
            return [*self.events, f"{error.message.splitlines()[0]}; the page showed: {shown}"]
        # Images that fail to load fire their error handlers once the network is quiet.
        self.page.wait_for_load_state("networkidle")
        problems = list(self.events)
        pwned = self.page.evaluate("window.__pwned")
        if pwned is not None:
            problems.append(f"a payload ran: window.__pwned = {pwned!r}")
        problems += [f"markup injected: {found}" for found in self.page.evaluate(INJECTED)]
        missing = self.page.evaluate(MISSING_TEXT, [TEXT[field] for field in visit.shows])
        problems += [f"not shown as text: {text!r}" for text in missing]
        return problems


def test_hostile_text_is_shown_escaped_and_never_runs(browser, live_server, seeded):
    tabs: dict[str, Tab] = {}
    failures = []
    try:
        for visit in PAGES:
            if visit.role not in tabs:
                tabs[visit.role] = Tab(browser, live_server, visit.role)
            url = live_server.url + visit.path.format(**seeded)
            for problem in tabs[visit.role].problems_on(url, visit):
                failures.append(f"{visit.name} (as {visit.role}): {problem}")
    finally:
        for tab in tabs.values():
            tab.context.close()
    assert not failures, "\n".join(failures)
