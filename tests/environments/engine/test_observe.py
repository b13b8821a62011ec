"""Observation modes: the pruned axtree, the diff since the last page, and character budgets."""

import itertools
import re

import pytest

from environments.engine import Element, Page, get_environment, parse_action
from environments.engine.observe import (
    OBSERVATION_MODES,
    fit_text,
    observe,
    page_diff,
    page_to_pruned,
)
from environments.engine.page import axtree_line, page_from_json, page_to_axtree, page_to_json
from tests.environments.engine.episodes import ENV_IDS, longest_pages, solver_episodes


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_the_pruned_longest_pages_keep_every_element_an_agent_needs(env_id):
    for page in longest_pages(env_id):
        pruned = page_to_pruned(page)
        lines = {line.strip() for line in pruned.split("\n")}
        assert len(pruned) <= len(page_to_axtree(page))
        for el in page.iter():
            if el.bid is not None or el.role in ("heading", "alert", "text"):
                assert axtree_line(el) in lines, axtree_line(el)
        # Menu links stay clickable.
        for link in page.find("navigation").find_all("link"):
            assert axtree_line(link) in lines
        # Deterministic, and the same from the stored JSON of the page.
        assert page_to_pruned(page_from_json(page_to_json(page))) == pruned


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_bid_the_solver_acts_on_is_in_the_pruned_page(env_id):
    env = get_environment(env_id)
    for family, seed, states, actions in solver_episodes(env_id):
        for state, action in zip(states, actions, strict=False):
            bid = parse_action(action).args.get("bid")
            if bid is not None:
                assert f"[{bid}] " in page_to_pruned(env.render(state)), (family, seed, action)


def table_page(rows: int) -> Page:
    header = Element("row", children=[Element("cell", "Date"), Element("cell", "Amount")])
    body = [
        Element(
            "row",
            children=[
                Element("cell", f"Jan {n + 1}"),
                Element("cell", f"${n}.00"),
                Element("cell", children=[Element("button", "Dispute")]),
            ],
        )
        for n in range(rows)
    ]
    return Page(
        "Activity",
        "/bank/history",
        [
            Element("navigation", "Main menu", children=[Element("link", "Accounts")]),
            Element("section", children=[Element("heading", "Activity"), Element("text")]),
            Element("table", "Transactions", children=[header, *body]),
        ],
    )


def test_a_table_is_a_line_a_row_and_is_cut_after_its_first_rows():
    pruned = page_to_pruned(table_page(30), table_rows=5)
    assert pruned.split("\n") == [
        "page 'Activity' url='/bank/history'",
        "  navigation 'Main menu'",
        "    [1] link 'Accounts'",
        # The unnamed section is dropped and its heading rises; its empty text goes.
        "  heading 'Activity'",
        "  table 'Transactions'",
        "    row 'Date | Amount'",
        "    row 'Jan 1 | $0.00'",
        "      [2] button 'Dispute'",
        "    row 'Jan 2 | $1.00'",
        "      [3] button 'Dispute'",
        "    row 'Jan 3 | $2.00'",
        "      [4] button 'Dispute'",
        "    row 'Jan 4 | $3.00'",
        "      [5] button 'Dispute'",
        "    row 'Jan 5 | $4.00'",
        "      [6] button 'Dispute'",
        "    (… 25 more rows)",
    ]
    assert "(…" not in page_to_pruned(table_page(20))
    assert page_to_pruned(table_page(22)).endswith("(… 2 more rows)")


def test_the_diff_of_a_new_page_is_the_whole_pruned_page():
    env = get_environment("bank")
    _, _, states, _ = solver_episodes("bank-v1")[0]
    first = env.render(states[0])
    assert page_diff(None, first) == page_to_pruned(first)
    for before, after in itertools.pairwise(states):
        old, new = env.render(before), env.render(after)
        if old.url != new.url:
            assert page_diff(old, new) == page_to_pruned(new)
            return
    pytest.fail("the solver never changed page")


def test_the_diff_of_the_same_page_shows_only_what_changed():
    env = get_environment("bank")
    task = env.make_task("pay_bill", 3)
    state = env.reset(3, task)
    before = env.render(state)
    typed = env.step(state, "fill('1', 'jdoe')")
    diff = page_diff(before, env.render(typed))
    assert diff.split("\n") == [
        f"diff of page {page_to_pruned(before).split(' url=')[0].removeprefix('page ')} "
        "(~ changed, - removed, + added):",
        "~ " + axtree_line(env.render(typed).get("1")),
    ]
    assert "value='jdoe'" in diff
    wrong = env.step(
        env.step(typed, "fill('2', 'not the password')"), f"click('{find_bid(typed, 'Sign in')}')"
    )
    diff = page_diff(env.render(typed), env.render(wrong))
    assert any(line.startswith("+ alert ") for line in diff.split("\n"))
    unchanged = page_diff(env.render(wrong), env.render(env.step(wrong, "noop()")))
    assert unchanged.endswith("nothing changed since the last observation")


def find_bid(state: dict, name: str) -> str:
    return get_environment("bank").render(state).find("button", name).bid


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_a_diff_is_never_longer_than_the_pruned_page(env_id):
    env = get_environment(env_id)
    for _, _, states, _ in solver_episodes(env_id):
        pages = [env.render(state) for state in states]
        for previous, page in zip([None, *pages], pages, strict=False):
            assert len(page_diff(previous, page)) <= len(page_to_pruned(page))


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("budget", [1, 40, 120, 500, 2000])
def test_a_budget_cuts_at_a_line_and_says_what_was_left_out(env_id, budget):
    for page in longest_pages(env_id):
        for mode in OBSERVATION_MODES:
            full = observe(page, mode)
            fitted = observe(page, mode, max_chars=budget)
            assert len(fitted) <= budget
            if len(full) <= budget:
                assert fitted == full
                continue
            *kept, note = fitted.split("\n")
            match = re.fullmatch(
                r"\(… ([\d,]+) more characters in ([\d,]+) lines? left out\)", note
            )
            if match is None:  # too small a budget for the note: a plain cut
                assert kept == [] and fitted == full[:budget]
                continue
            head = "\n".join(kept)
            assert full.startswith(head + "\n" if kept else "")
            left = full[len(head) + 1 :] if kept else full
            assert int(match[1].replace(",", "")) == len(left)
            assert int(match[2].replace(",", "")) == left.count("\n") + 1


def test_no_budget_and_bad_budgets():
    assert fit_text("a\nb", None) == "a\nb"
    assert fit_text("a\nb", 3) == "a\nb"
    with pytest.raises(ValueError, match="at least 1"):
        fit_text("a", 0)


def test_observe_is_the_entry_point_of_every_mode():
    page = longest_pages("bank-v1")[0]
    assert observe(page, "axtree") == page_to_axtree(page)
    assert observe(page, "pruned") == page_to_pruned(page)
    assert observe(page, "diff", previous=page).endswith(
        "nothing changed since the last observation"
    )
    with pytest.raises(ValueError, match="'screenshot'"):
        observe(page, "screenshot")
