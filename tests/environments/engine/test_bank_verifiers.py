"""Wrong trajectories fail, each with a failed check that names why. Most are made by running
the scripted solver on altered params (the wrong amount, the distractor payee) and judging the
result against the real task."""

import pytest

from environments.engine.bank.formats import money
from tests.environments.engine.bank_steps import (
    BANK,
    answer,
    choose,
    click,
    fill,
    find,
    signed_in,
    solve,
)

SEEDS = [0, 3, 8, 21]


def failed(state, task) -> dict[str, str]:
    outcome = BANK.evaluate(state, task)
    assert not outcome.success and outcome.reward == 0.0
    return {c.name: c.detail for c in outcome.failed()}


@pytest.mark.parametrize("seed", SEEDS)
def test_pay_bill_with_the_wrong_amount_fails(seed):
    task = BANK.make_task("pay_bill", seed)
    wrong = task.params["amount_cents"] + 100
    why = failed(solve(task, amount_cents=wrong, full_due=False), task)
    assert why == {"amount": f"{money(wrong)} instead of {money(task.params['amount_cents'])}"}


@pytest.mark.parametrize("seed", SEEDS)
def test_paying_another_biller_fails(seed):
    task = BANK.make_task("pay_bill", seed)
    # The same-stem sibling ("Summit Electric" / "Summit Gas & Heating") when there is one.
    stem = task.params["biller"].split()[0]
    others = [b for b in BANK.reset(seed)["billers"] if b["name"] != task.params["biller"]]
    sibling = next((b for b in others if b["name"].startswith(stem + " ")), others[0])
    why = failed(solve(task, biller=sibling["name"], full_due=False), task)
    assert set(why) == {"biller"}
    assert why["biller"].startswith(f"paid {sibling['name']} instead of paid ")


def test_pay_bill_on_the_wrong_date_or_account_fails():
    task = BANK.make_task("pay_bill", 5)
    other_account = next(
        a["name"] for a in BANK.reset(5)["accounts"][:2] if a["id"] != task.params["account_id"]
    )
    assert set(failed(solve(task, account=other_account), task)) == {"from_account"}
    today = BANK.reset(5)["today"]
    assert set(failed(solve(task, date=today), task)) == {"date"}


def test_an_extra_unrequested_change_is_collateral_damage():
    task = BANK.make_task("pay_bill", 2)
    state = solve(task, stop_before_message=True)
    assert BANK.evaluate(state, task).success
    state = click(state, "button", "Cancel payment")  # an existing scheduled payment
    why = failed(state, task)
    assert set(why) == {"no_collateral_damage"}
    assert "payments p1 status changed from scheduled to cancelled" in why["no_collateral_damage"]


def test_paying_twice_fails():
    task = BANK.make_task("pay_bill", 4)
    state = solve(task, stop_before_message=True)
    amount = money(task.params["amount_cents"]).lstrip("$")
    state = choose(state, "Pay to", task.params["biller"] + " ••")
    state = choose(state, "Pay from", task.params["account"] + " ••")
    state = fill(state, "Amount", amount, role="number")
    state = fill(state, "Payment date (YYYY-MM-DD)", task.params["date"])
    state = click(state, "button", "Schedule payment")
    why = failed(state, task)
    assert why["one_payment"] == "2 payments were made; the task asks for one"
    assert "was added" in why["no_collateral_damage"]


@pytest.mark.parametrize("seed", SEEDS)
def test_transfer_of_the_wrong_amount_fails(seed):
    task = BANK.make_task("transfer_funds", seed)
    why = failed(solve(task, amount_cents=task.params["amount_cents"] - 1), task)
    assert set(why) == {"amount", "balances"}


def test_transfer_to_the_wrong_account_fails():
    for seed in range(10):
        task = BANK.make_task("transfer_funds", seed)
        accounts = BANK.reset(seed)["accounts"]
        other = next(
            a
            for a in accounts
            if a["id"] not in (task.params["source_id"], task.params["target_id"])
        )
        why = failed(solve(task, target=other["name"]), task)
        assert why["to_account"].startswith(f"to {other['name']} instead of")
        assert f"accounts {other['id']} balance changed" in why["no_collateral_damage"]


def test_an_extra_transfer_fails_as_collateral_damage():
    task = BANK.make_task("transfer_funds", 6)
    state = solve(task, stop_before_message=True)
    state = BANK.step(state, "goto('transfers')")
    state = choose(state, "From", task.params["source"])
    state = choose(state, "To", task.params["target"])
    state = fill(state, "Amount", "1.00", role="number")
    state = click(state, "button", "Review transfer")
    state = click(state, "button", "Confirm transfer")
    why = failed(state, task)
    assert why["one_transfer"] == "2 transfers were made; the task asks for one"
    assert "transfers T2 was added" in why["no_collateral_damage"]


def test_sending_money_to_the_existing_look_alike_payee_fails():
    task = BANK.make_task("add_payee_and_send", 9)
    p = task.params
    state = BANK.step(signed_in(task), "goto('payees')")
    state = fill(state, "Payee name", p["payee"])
    state = fill(state, "Account number", p["payee_account"])
    state = fill(state, "Routing number", p["routing"])
    state = click(state, "button", "Add payee")
    first_name = p["payee"].split()[0]
    old = next(y for y in state["payees"] if y["name"].startswith(first_name + " "))
    state = BANK.step(state, "goto('transfers')")
    state = choose(state, "From", p["source"])
    state = choose(state, "To", old["name"] + " ••")
    state = fill(state, "Amount", money(p["amount_cents"]).lstrip("$"), role="number")
    state = click(state, "button", "Review transfer")
    state = click(state, "button", "Confirm transfer")
    why = failed(state, task)
    assert set(why) == {"recipient"}
    assert why["recipient"].startswith(f"sent to {old['name']} instead of sent to {p['payee']}")


def test_a_payee_with_a_mistyped_account_number_fails():
    task = BANK.make_task("add_payee_and_send", 12)
    typo = task.params["payee_account"][:-1] + str((int(task.params["payee_account"][-1]) + 1) % 10)
    why = failed(solve(task, payee_account=typo), task)
    assert set(why) == {"payee_details"}


def test_payee_validation_rejects_bad_routing_numbers():
    task = BANK.make_task("add_payee_and_send", 1)
    state = BANK.step(signed_in(task), "goto('payees')")
    state = fill(state, "Payee name", "Sam Doe")
    state = fill(state, "Account number", "12345678")
    state = fill(state, "Routing number", "021000022")
    state = click(state, "button", "Add payee")
    assert find(state, "alert", None).name == (
        "Error: Routing number 021000022 is not valid: check the digits."
    )
    assert state["payees"] == BANK.reset(1)["payees"]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_second_largest_purchase_is_a_wrong_answer(seed):
    task = BANK.make_task("largest_purchase", seed)
    p = task.params
    txns = BANK.reset(seed)["txns"]
    amounts = sorted(
        -t[5]
        for t in txns
        if t[4] == p["category"]
        and t[2].startswith(p["month"])
        and t[5] < 0
        and any(a["id"] == t[1] and a["name"] == p["account"] for a in BANK.reset(seed)["accounts"])
    )
    assert amounts[-1] == p["amount_cents"]
    state = answer(signed_in(task), f"It was {money(amounts[-2])}")
    why = failed(state, task)
    assert why == {"answer": f"the answer says {money(amounts[-2])}, expected {money(amounts[-1])}"}
    assert BANK.evaluate(answer(signed_in(task), money(-amounts[-1])), task).success


def test_a_statement_answer_from_the_neighbouring_month_fails():
    task = BANK.make_task("statement_balance", 13)
    statements = BANK.reset(13)["statements"]
    ids = [s["id"] for s in statements]
    target = ids.index(
        f"{'chk' if 'Checking' in task.params['account'] else 'sav'}-{task.params['month']}"
    )
    neighbour = statements[target - 1 if target % 5 else target + 1]
    why = failed(answer(signed_in(task), money(neighbour["closing"])), task)
    assert set(why) == {"answer"}
    two = f"{money(neighbour['closing'])} or {money(task.params['amount_cents'])}"
    assert "names 2 amounts" in failed(answer(signed_in(task), two), task)["answer"]


def test_an_unsent_answer_fails():
    task = BANK.make_task("statement_balance", 2)
    assert failed(signed_in(task), task) == {
        "answer": f"no answer was sent (expected {money(task.params['amount_cents'])})"
    }


def test_freezing_the_look_alike_card_fails():
    for seed in range(20):
        task = BANK.make_task("card_controls", seed)
        if task.params["card_id"] != "k1":
            continue
        state = BANK.step(signed_in(task), "goto('cards')")
        other = next(c for c in state["cards"] if c["id"] == "k2")
        state = click(state, "checkbox", "Freeze card", f"Debit card ••{other['last4']}")
        why = failed(state, task)
        assert set(why) == {"card_status", "card_limit", "no_collateral_damage"}
        assert why["no_collateral_damage"] == (
            "unrequested changes: cards k2 frozen changed from yes to no"
        )
        return
    pytest.fail("no seed with the freeze_atm variant")


def test_card_limit_must_be_the_requested_one():
    task = BANK.make_task("card_controls", 3)
    why = failed(solve(task, limit_cents=task.params["limit_cents"] - 2000), task)
    assert set(why) == {"card_limit"}


def test_disputing_another_charge_from_the_same_merchant_fails():
    for seed in range(10):
        task = BANK.make_task("dispute_charge", seed)
        p = task.params
        txns = BANK.reset(seed)["txns"]
        target = next(t for t in txns if t[0] == p["txn_id"])
        other = next(
            t for t in txns if t[1] == target[1] and t[3] == target[3] and t[0] != target[0]
        )
        wrong = solve(task, date=other[2], amount_cents=-other[5])
        why = failed(wrong, task)
        assert set(why) == {"transaction"}
        assert why["transaction"].startswith(f"disputed the {money(-other[5])} charge")


def test_dispute_with_the_wrong_reason_fails():
    task = BANK.make_task("dispute_charge", 4)
    reason = next(r for r in ("Duplicate charge", "Wrong amount") if r != task.params["reason"])
    assert set(failed(solve(task, reason=reason), task)) == {"reason"}


def test_cancelling_the_sibling_payment_fails():
    for seed in range(10):
        task = BANK.make_task("cancel_payment", seed)
        payments = BANK.reset(seed)["payments"]
        other = next(p for p in payments if p["id"] != task.params["payment_id"])
        biller = next(b for b in BANK.reset(seed)["billers"] if b["id"] == other["biller"])
        wrong = solve(task, biller=biller["name"], amount_cents=other["amount"], date=other["date"])
        why = failed(wrong, task)
        assert why["cancelled"] == "the payment is scheduled"
        assert f"payments {other['id']} status changed" in why["no_collateral_damage"]
