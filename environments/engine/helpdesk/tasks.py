"""The service desk's task families. Each draws from the world its seed builds and verifies the
final state: what must have changed, and that nothing else did (every ticket field the actor
can change is covered by the collateral check)."""

from __future__ import annotations

import re
from collections import Counter

from environments.engine.base import Check, Outcome
from environments.engine.kit import WorldRandom, by_id
from environments.engine.tasks import (
    TaskFamily,
    check_amount,
    check_no_collateral,
    diff_records,
    whole_numbers_in,
)

from .world import GROUPS, MACROS, build_world, escalation_refusal, is_open, triage

ENV = "helpdesk-v1"
RECORDS = ["tickets", "orgs", "agents", "articles"]
KB_NOTE = "Answered from the knowledge base"
REFUSALS = ("cannot", "can't", "can not", "unable", "not allowed", "not eligible", "decline")


def _collateral(initial: dict, final: dict, allowed: list[tuple[str, str, str]]) -> Check:
    return check_no_collateral(diff_records(initial, final, RECORDS), allowed)


def _rng(seed: int, family: str) -> WorldRandom:
    return WorldRandom(seed, f"{ENV}/{family}")


def _org(world: dict, oid: str) -> dict:
    return by_id(world["orgs"], oid)


def _on_call(world: dict, group: str) -> dict:
    return next(a for a in world["agents"] if a["group"] == group and a["on_call"])


def _distinct(world: dict) -> list[dict]:
    """Open tickets that their subject and customer name alone."""
    pairs = Counter((t["subject"], t["org"]) for t in world["tickets"])
    return [t for t in world["tickets"] if is_open(t) and pairs[(t["subject"], t["org"])] == 1]


def _said(initial: dict, kind: str, text: str) -> dict:
    """A comment the signed-in agent adds."""
    return {"author": by_id(initial["agents"], initial["me"])["name"], "kind": kind, "text": text}


def _agent(world: dict, aid: str) -> str:
    return next((a["name"] for a in world["agents"] if a["id"] == aid), aid) if aid else "nobody"


def _quoted(texts: list[str]) -> str:
    return "; ".join(f"“{t}”" for t in texts) or "nothing"


def _new_comments(initial: dict, final: dict, tid: str) -> list[dict]:
    """The comments added to a ticket; when an earlier one was changed, a marker that no
    check accepts (a desk never edits what was said)."""
    before = by_id(initial["tickets"], tid)["comments"]
    after = by_id(final["tickets"], tid)["comments"]
    if after[: len(before)] != before:
        return [{"author": "", "kind": "edited", "text": "an earlier comment was changed"}]
    return after[len(before) :]


class TriageQueue(TaskFamily):
    """Triage the queue: give every new, unassigned ticket the priority, group and assignee the
    desk's rules prescribe (priority by category and, for bugs, the customer's plan from the
    customer records; group by category; the group's agent on call). The verifier wants the
    priority, the group and the assignee of each of those tickets (four or five) set exactly
    so (one check each, over all the tickets), and nothing else changed."""

    name = "triage_queue"
    env = ENV
    title = "Triage the new tickets"
    max_steps = 80
    goal = (
        "Triage the queue: give every new unassigned ticket the priority, group and assignee "
        "that the desk's rules prescribe."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        expected = []
        for t in world["tickets"]:
            if t["status"] == "New" and not t["assignee"]:
                priority, group = triage(t["category"], _org(world, t["org"])["plan"])
                agent = _on_call(world, group)["id"]
                expected.append(
                    {"id": t["id"], "priority": priority, "group": group, "assignee": agent}
                )
        return {"tickets": expected, "count": len(expected)}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        checks, allowed = [], []
        for key in ("priority", "group", "assignee"):
            wrong = [
                f"#{want['id']}"
                for want in params["tickets"]
                if by_id(final["tickets"], want["id"])[key] != want[key]
            ]
            detail = f"wrong on {', '.join(wrong)}" if wrong else "all as the rules say"
            checks.append(Check(f"{key}_set", not wrong, detail))
            allowed += [("tickets", want["id"], key) for want in params["tickets"]]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class ApplyMacro(TaskFamily):
    """Apply a named macro to a ticket named by its subject and customer (the same subject
    may exist for another customer). The verifier wants one new public reply with the macro's
    text and the macro's status on that ticket, and nothing else changed."""

    name = "apply_macro"
    env = ENV
    title = "Apply a macro"
    max_steps = 20
    goal = 'Apply the macro "{macro}" to the ticket "{subject}" from {customer}.'

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        ticket = w.choice(_distinct(world))
        macro = w.choice([m for m, (_, status, _) in MACROS.items() if status != ticket["status"]])
        return {
            "id": ticket["id"],
            "subject": ticket["subject"],
            "customer": _org(world, ticket["org"])["name"],
            "macro": macro,
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        reply, status, resolution = MACROS[params["macro"]]
        new = _new_comments(initial, final, params["id"])
        texts = [c["text"] for c in new]
        ok = new == [_said(initial, "reply", reply)]
        ticket = by_id(final["tickets"], params["id"])
        # A macro that solves also writes its resolution note.
        got = (ticket["status"], ticket["resolution"] if resolution else "")
        checks = [
            Check("macro_reply", ok, f"new comments: {_quoted(texts)}"),
            Check(
                "status",
                got == (status, resolution),
                f"the ticket is {got[0]}" + (f", with the note “{got[1]}”" if got[1] else ""),
            ),
        ]
        allowed = [("tickets", params["id"], "comments"), ("tickets", params["id"], "status")]
        if resolution:
            allowed.append(("tickets", params["id"], "resolution"))
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class MergeDuplicate(TaskFamily):
    """Merge a ticket into the earlier ticket of the same requester with the same subject (the
    same subject exists for another customer, whose ticket the desk refuses to merge). The
    verifier wants the ticket merged into that earlier one, the merge noted on the earlier
    ticket, and nothing else changed."""

    name = "merge_duplicate"
    env = ENV
    title = "Merge a duplicate ticket"
    max_steps = 30
    goal = (
        "Ticket #{source} repeats an earlier ticket of the same requester. Merge it into that "
        "earlier ticket."
    )

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        groups: dict[tuple, list[dict]] = {}
        for t in world["tickets"]:
            groups.setdefault((t["org"], t["requester"], t["subject"]), []).append(t)
        pairs = [g for g in groups.values() if len(g) == 2 and all(map(is_open, g))]
        if not pairs:
            # Every duplicate met a third ticket of the same requester and subject (a seed in
            # a few thousand): the second of such a group repeats exactly one earlier ticket.
            pairs = [g[:2] for g in groups.values() if len(g) > 2 and all(map(is_open, g[:2]))]
        target, source = w.choice(pairs)
        return {"source": source["id"], "target": target["id"]}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        source, target = params["source"], params["target"]
        into = by_id(final["tickets"], source)["merged_into"]
        closing = _new_comments(initial, final, source)
        merged = into == target and closing == [_said(initial, "note", f"Merged into #{target}.")]
        notes = _new_comments(initial, final, target)
        noted = notes == [_said(initial, "note", f"Merged from #{source}.")]
        checks = [
            Check("merged", merged, f"#{source} merged into {f'#{into}' if into else 'nothing'}"),
            Check("target_noted", noted, f"#{target} got {_quoted([c['text'] for c in notes])}"),
        ]
        allowed = [
            ("tickets", source, "merged_into"),
            ("tickets", source, "comments"),
            ("tickets", target, "comments"),
        ]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class AnswerFromKb(TaskFamily):
    """Answer a ticket's question from the knowledge base: the ticket names an article, the
    customer record gives the plan, the article gives the figure for each plan. The verifier
    wants one new public reply naming exactly that figure, the ticket solved with the given
    resolution note, and nothing else changed."""

    name = "answer_from_kb"
    env = ENV
    title = "Answer a ticket from the knowledge base"
    max_steps = 40
    goal = (
        "Ticket #{id} asks a question the knowledge base answers. Reply to the customer with the "
        'figure for their plan, then solve the ticket with the resolution note "{note}".'
    )

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        ticket = w.choice([t for t in world["tickets"] if t["topic"] and is_open(t)])
        plan = _org(world, ticket["org"])["plan"]
        figure = by_id(world["articles"], ticket["topic"])["figures"][plan]
        return {"id": ticket["id"], "note": KB_NOTE, "figure": figure}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _new_comments(initial, final, params["id"])
        me = _said(initial, "reply", "")["author"]
        replies = [c["text"] for c in new if c["kind"] == "reply" and c["author"] == me]
        if len(new) == 1 and len(replies) == 1:
            figure = check_amount(replies[0], params["figure"] * 100, name="reply_figure")
        else:
            figure = Check("reply_figure", False, f"{len(new)} new comments, one reply wanted")
        ticket = by_id(final["tickets"], params["id"])
        checks = [
            figure,
            Check("solved", ticket["status"] == "Solved", f"the ticket is {ticket['status']}"),
            Check(
                "resolution_note",
                ticket["resolution"] == params["note"],
                f"the note is {_quoted([ticket['resolution']] if ticket['resolution'] else [])}",
            ),
        ]
        allowed = [("tickets", params["id"], k) for k in ("comments", "status", "resolution")]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class CountBreached(TaskFamily):
    """Answer how many open tickets of a group have breached their SLA (the queue's filters
    count them). The verifier wants that whole number, alone, and nothing changed."""

    name = "count_breached"
    env = ENV
    title = "Count breached tickets"
    max_steps = 15
    goal = (
        "How many open tickets in the {group} group have breached their SLA? "
        "Answer with the number."
    )

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        group = w.choice(GROUPS)
        count = sum(
            t["group"] == group and is_open(t) and t["due"] < world["now"] for t in world["tickets"]
        )
        return {"group": group, "count": count}

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        # Whole numbers only: "3.25" is not a count, and an answer naming two numbers fails.
        numbers = whole_numbers_in(final["answer"])
        ok = numbers == [str(params["count"])]
        named = ", ".join(numbers) or "no whole number"
        checks = [Check("answer", ok, f"the answer names {named}, expected {params['count']}")]
        checks.append(_collateral(initial, final, []))
        return Outcome.from_checks(checks)


class EscalationRequest(TaskFamily):
    """A customer asks to escalate a Tier 1 ticket to Tier 2: escalate it when the rules allow
    (Enterprise plan and priority P1 or P2: group Tier 2, assignee the Tier 2 agent on call),
    otherwise change nothing and decline, saying why. The verifier wants, when allowed, that
    group and assignee; when not, an answer that declines and names the reason (the plan, or
    the priority for an Enterprise customer); and nothing else changed either way."""

    name = "escalation_request"
    env = ENV
    title = "Handle an escalation request"
    max_steps = 30
    goal = (
        "{requester} from {customer} asks that ticket #{id} be escalated to Tier 2. Escalate it "
        "if the desk's rules allow it; otherwise change nothing and tell me why."
    )

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        allowed, refused = [], []
        for t in world["tickets"]:
            if t["group"] == "Tier 1" and t["priority"] and is_open(t):
                reason = escalation_refusal(_org(world, t["org"])["plan"], t["priority"])
                (refused if reason else allowed).append((t, reason))
        # Even seeds allow, odd seeds decline, so both kinds are in every run of the checker.
        pool = (allowed if seed % 2 == 0 else refused) or allowed or refused
        ticket, reason = w.choice(pool)
        return {
            "id": ticket["id"],
            "requester": ticket["requester"],
            "customer": _org(world, ticket["org"])["name"],
            "allowed": reason is None,
            "reason": reason or "",
            "assignee": _on_call(world, "Tier 2")["id"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        # One check either way, so the family's checks (and reward rubric) are the same for
        # every seed.
        ticket = by_id(final["tickets"], params["id"])
        if params["allowed"]:
            escalated = ticket["group"] == "Tier 2" and ticket["assignee"] == params["assignee"]
            check = Check(
                "request_handled",
                escalated,
                f"the ticket is with {ticket['group'] or 'no group'}, "
                f"{_agent(final, ticket['assignee'])}; "
                f"the rules send it to Tier 2, {_agent(final, params['assignee'])}",
            )
            allowed = [("tickets", params["id"], k) for k in ("group", "assignee")]
        else:
            answer = (final["answer"] or "").casefold()
            declines = any(word in answer for word in REFUSALS)
            reason = re.search(rf"\b{params['reason'].casefold()}\b", answer) is not None
            check = Check(
                "request_handled",
                declines and reason,
                f"the answer {'declines' if declines else 'does not decline'} and "
                f"{'names' if reason else 'does not name'} the reason ({params['reason']})",
            )
            allowed = []
        checks = [check, _collateral(initial, final, allowed)]
        return Outcome.from_checks(checks)


class AssignTicket(TaskFamily):
    """Assign a ticket, named by its subject and customer, to an agent of another group (the
    desk refuses an assignee outside the ticket's group, so the group moves too). The verifier
    wants that assignee and their group on the ticket, and nothing else changed."""

    name = "assign_ticket"
    env = ENV
    title = "Assign a ticket"
    max_steps = 25
    goal = 'Assign the ticket "{subject}" from {customer} to {agent}.'

    def params(self, seed: int) -> dict:
        w, world = _rng(seed, self.name), build_world(seed)
        ticket = w.choice(_distinct(world))
        agent = w.choice([a for a in world["agents"] if a["group"] != ticket["group"]])
        return {
            "id": ticket["id"],
            "subject": ticket["subject"],
            "customer": _org(world, ticket["org"])["name"],
            "agent": agent["name"],
            "agent_id": agent["id"],
            "group": agent["group"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        ticket = by_id(final["tickets"], params["id"])
        checks = [
            Check(
                "assignee",
                ticket["assignee"] == params["agent_id"],
                f"the assignee is {_agent(final, ticket['assignee'])}",
            ),
            Check(
                "group",
                ticket["group"] == params["group"],
                f"the group is {ticket['group'] or 'none'}",
            ),
        ]
        allowed = [("tickets", params["id"], k) for k in ("group", "assignee")]
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


FAMILIES = {
    f.name: f
    for f in (
        TriageQueue(),
        ApplyMacro(),
        MergeDuplicate(),
        AnswerFromKb(),
        CountBreached(),
        EscalationRequest(),
        AssignTicket(),
    )
}
