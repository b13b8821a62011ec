"""The service desk's seeded data: agents in three groups (one on call in each), customer
organisations with a plan and contacts, knowledge-base articles (some give a figure per plan),
macros, and a ticket queue with new unassigned tickets, duplicates and SLA due times.

Everything derives from the seed ("now" included), so every process builds the same world;
worlds are cached and shared, so nothing may modify them."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from environments.engine.kit import WorldRandom

GROUPS = ("Tier 1", "Tier 2", "Billing")
PLANS = ("Free", "Pro", "Enterprise")
PRIORITIES = ("P1", "P2", "P3", "P4")
STATUSES = ("New", "Open", "Pending", "Solved")
OPEN_STATUSES = ("New", "Open", "Pending")
CATEGORIES = ("Outage", "Bug", "Billing", "Access", "How-to")
REGIONS = ("Americas", "Europe", "Asia Pacific")
# First-response SLA by plan, in hours from the ticket's creation.
SLA_HOURS = {"Enterprise": 4, "Pro": 8, "Free": 24}
SUBJECTS = {
    "Outage": (
        "Dashboard not loading",
        "API returning 503 errors",
        "Sync stopped overnight",
        "Login page times out",
    ),
    "Bug": (
        "Export has wrong dates",
        "Search ignores filters",
        "Notifications sent twice",
        "Report totals do not add up",
    ),
    "Billing": (
        "Charged twice this month",
        "Need a copy of an invoice",
        "Update our billing address",
        "Refund for unused seats",
    ),
    "Access": (
        "Locked out after password reset",
        "Single sign-on login fails",
        "Cannot add a new user",
        "Two-factor codes not arriving",
    ),
    "How-to": (
        "How to export all tickets",
        "Setting up webhooks",
        "Changing notification settings",
    ),
}
# Articles that give one figure per plan: (title, unit, section).
FIGURE_ARTICLES = (
    ("API rate limits", "requests per minute", "Developers"),
    ("Seats included in each plan", "user seats", "Account"),
    ("File upload limit", "MB per file", "Using the product"),
    ("Data retention", "days of history", "Account"),
    ("Sandbox environments", "sandboxes", "Developers"),
)
GENERAL_ARTICLES = (
    ("Resetting a password", "Account", "Open the sign-in page and choose Forgot password."),
    ("Exporting invoices", "Billing", "Invoices are under Settings, Billing, History."),
    ("Setting up single sign-on", "Account", "Add your identity provider under Security."),
    ("Incident updates", "Using the product", "Follow the status page for live updates."),
)
# name: (the public reply it posts, the status it sets, the resolution note when it solves)
MACROS = {
    "Ask for logs": (
        "Could you send us the logs from the time of the problem? We will look at them.",
        "Pending",
        "",
    ),
    "Password reset instructions": (
        "You can reset your password from the sign-in page with Forgot password.",
        "Solved",
        "Sent password reset instructions.",
    ),
    "Invoice copy sent": (
        "We have attached a copy of the invoice you asked for.",
        "Solved",
        "Sent a copy of the invoice.",
    ),
    "Investigating": (
        "Thank you for reporting this. Our team is investigating and will update you soon.",
        "Open",
        "",
    ),
    "Waiting on customer": (
        "We need a little more information from you before we can continue.",
        "Pending",
        "",
    ),
}
ORGS = 10
FIRST_TICKET = 1001


def is_open(ticket: dict) -> bool:
    """New, open or pending, and not merged into another ticket."""
    return not ticket["merged_into"] and ticket["status"] in OPEN_STATUSES


def triage(category: str, plan: str) -> tuple[str, str]:
    """The desk's triage rules (the Rules page says them): (priority, group)."""
    group = "Billing" if category == "Billing" else "Tier 1"
    if category == "Bug":
        return ("P2" if plan == "Enterprise" else "P3"), group
    return {"Outage": "P1", "Access": "P2", "Billing": "P3", "How-to": "P4"}[category], group


def escalation_refusal(plan: str, priority: str) -> str | None:
    """Why the escalation rules decline a Tier 1 ticket's escalation (the plan or the
    priority that stands in the way), or None when they allow it."""
    if plan != "Enterprise":
        return plan
    return None if priority in ("P1", "P2") else priority


def build_world(seed: int) -> dict:
    return _generate(seed)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


@lru_cache(maxsize=256)
def _generate(seed: int) -> dict:
    w = WorldRandom(seed, "helpdesk")
    now = datetime.fromisoformat(f"{w.today()}T{w.randint(9, 16):02d}:00")
    people = w.people(9 + ORGS * 3)
    groups = ["Tier 1"] * 4 + ["Tier 2"] * 3 + ["Billing"] * 2
    agents = [
        {"id": f"a{i}", "name": p["name"], "email": p["email"], "group": g, "on_call": False}
        for i, (p, g) in enumerate(zip(people[:9], groups, strict=True), start=1)
    ]
    for group in GROUPS:
        pick = w.choice([a for a in agents if a["group"] == group])
        agents = [{**a, "on_call": True} if a is pick else a for a in agents]
    plans = w.shuffled(["Enterprise"] * 4 + ["Pro"] * 4 + ["Free"] * 2)
    orgs = []
    for i, (name, plan) in enumerate(zip(w.companies(ORGS), plans, strict=True), start=1):
        contacts = [
            {"name": p["name"], "email": p["email"]} for p in people[9 + (i - 1) * 3 : 9 + i * 3]
        ]
        orgs.append(
            {
                "id": f"o{i}",
                "name": name,
                "plan": plan,
                "region": w.choice(REGIONS),
                "contacts": contacts,
            }
        )
    articles = []
    for title, unit, section in FIGURE_ARTICLES:
        free = w.randint(1, 9) * 5
        pro = free * w.randint(2, 6)
        figures = {"Free": free, "Pro": pro, "Enterprise": pro * w.randint(2, 5)}
        articles.append(
            {
                "id": f"kb{len(articles) + 1}",
                "title": title,
                "section": section,
                "unit": unit,
                "figures": figures,
                "body": f"How many {unit} each plan includes.",
            }
        )
    for title, section, body in GENERAL_ARTICLES:
        articles.append(
            {
                "id": f"kb{len(articles) + 1}",
                "title": title,
                "section": section,
                "unit": "",
                "figures": {},
                "body": body,
            }
        )
    tickets = _tickets(w, now, agents, orgs, articles)
    return {
        "now": _stamp(now),
        "me": agents[0]["id"],
        "agents": agents,
        "orgs": orgs,
        "articles": articles,
        "tickets": tickets,
    }


def _tickets(
    w: WorldRandom, now: datetime, agents: list[dict], orgs: list[dict], articles: list[dict]
) -> list[dict]:
    tickets: list[dict] = []

    def add(org: dict, category: str, subject: str, *, new: bool, requester: dict | None = None,
            created: datetime | None = None, topic: str = "") -> dict:  # fmt: skip
        requester = requester or w.choice(org["contacts"])
        created = created or now - timedelta(hours=w.randint(1, 60), minutes=15 * w.randint(0, 3))
        if new:
            priority, group, assignee, status = "", "", "", "New"
        else:
            priority = w.choice(PRIORITIES)
            group = "Billing" if category == "Billing" else w.choice(("Tier 1", "Tier 1", "Tier 2"))
            assignee = w.choice([a["id"] for a in agents if a["group"] == group])
            status = w.choice(("Open", "Open", "Pending", "Solved"))
        text = w.sentence(8, 14)
        if topic:
            title = next(a["title"] for a in articles if a["id"] == topic)
            text = f'I read the article "{title}" but could not find the figure for our plan.'
        ticket = {
            "id": str(FIRST_TICKET + len(tickets)),
            "subject": subject,
            "org": org["id"],
            "requester": requester["name"],
            "email": requester["email"],
            "category": category,
            "priority": priority,
            "group": group,
            "assignee": assignee,
            "status": status,
            "created": _stamp(created),
            "due": _stamp(created + timedelta(hours=SLA_HOURS[org["plan"]])),
            "topic": topic,
            "resolution": "Resolved." if status == "Solved" else "",
            "merged_into": "",
            "comments": [{"author": requester["name"], "kind": "customer", "text": text}],
        }
        tickets.append(ticket)
        return ticket

    def reopen(ticket: dict) -> dict:
        """The ticket just added, made open (a pair to merge, a question to answer)."""
        tickets[-1] = {**ticket, "status": "Open", "resolution": ""}
        return tickets[-1]

    def random_ticket(new: bool) -> dict:
        category = w.choice(CATEGORIES)
        return add(w.choice(orgs), category, w.choice(SUBJECTS[category]), new=new)

    for _ in range(14):
        random_ticket(new=False)
    # Duplicates: a later ticket of the same requester and subject, and the same subject from
    # another organisation beside it.
    for org in w.sample(orgs, 3):
        category = w.choice(("Outage", "Bug", "Access"))
        subject = w.choice(SUBJECTS[category])
        first = reopen(add(org, category, subject, new=False))
        requester = {"name": first["requester"], "email": first["email"]}
        later = datetime.fromisoformat(first["created"]) + timedelta(minutes=30 * w.randint(1, 6))
        reopen(add(org, category, subject, new=False, requester=requester, created=min(later, now)))
        other = w.choice([o for o in orgs if o is not org])
        add(other, category, subject, new=False)
    # Questions the knowledge base answers, one per figure article at most.
    for article in w.sample([a for a in articles if a["figures"]], 3):
        title = f"Question about {article['title'].lower()}"
        reopen(add(w.choice(orgs), "How-to", title, new=False, topic=article["id"]))
    # Four or five to triage: a solver takes 30 to 36 steps, within an agent's 40 tool calls.
    for _ in range(w.randint(4, 5)):
        random_ticket(new=True)
    for _ in range(4):
        random_ticket(new=False)
    order = w.shuffled(range(len(tickets)))
    # Ticket numbers follow creation time, as a real desk numbers them.
    ranked = sorted(tickets, key=lambda t: (t["created"], order[int(t["id"]) - FIRST_TICKET]))
    renumber = {t["id"]: str(FIRST_TICKET + i) for i, t in enumerate(ranked)}
    return [{**t, "id": renumber[t["id"]]} for t in ranked]
