"""The shop (`shop-v1`): every family solvable in every UI variant, the errors a real shop
shows (stock, coupons and their conditions, expired cards, the return window, reviews), and
verifiers that refuse wrong outcomes and collateral damage."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from environments.engine import Page, Task, get_environment, run_episode
from environments.engine.kit import by_id, long_date, money
from environments.engine.page import Element, quote
from environments.engine.shop.rules import coupon_discount, coupon_problem
from environments.engine.shop.solver import ShopSolver
from environments.engine.shop.tasks import dates_in
from environments.engine.shop.world import build_world, has_return, return_deadline
from environments.engine.splits import split_families
from environments.engine.variants import VARIANTS

SHOP = get_environment("shop")
FAMILIES = sorted(SHOP.families)


# --- driving the shop by roles and names, as an agent would ---------------------------------


def find(state: dict, role: str, name: str, within: Element | None = None) -> Element:
    scope = within or SHOP.render(state)
    el = scope.find(role, name)
    assert el is not None, f"no {role} {name!r} on {SHOP.render(state).url}"
    return el


def click(state: dict, role: str, name: str, within: Element | None = None) -> dict:
    return SHOP.step(state, f"click({quote(find(state, role, name, within).bid)})")


def fill(state: dict, name: str, value: str) -> dict:
    el = SHOP.render(state).find(None, name)
    assert el is not None and el.role in ("textbox", "number"), name
    return SHOP.step(state, f"fill({quote(el.bid)}, {quote(value)})")


def choose(state: dict, name: str, option: str) -> dict:
    return SHOP.step(
        state, f"select_option({quote(find(state, 'select', name).bid)}, {quote(option)})"
    )


def alert(state: dict) -> str | None:
    el = SHOP.render(state).find("alert")
    return el.name if el else None


def texts(state: dict) -> list[str]:
    return [el.name for el in SHOP.render(state).iter() if el.role == "text"]


def run(state: dict, script: Callable[[Page], object]) -> dict:
    """Drive one of the solver's sub-scripts (a generator of actions) from `state`."""
    gen = script(SHOP.render(state))
    try:
        action = next(gen)
        while True:
            state = SHOP.step(state, action)
            action = gen.send(SHOP.render(state))
    except StopIteration:
        return state


def open_product(state: dict, name: str) -> dict:
    return run(state, lambda page: ShopSolver()._open_product(page, name))


def add(state: dict, product: str, colour: str, size: str, qty: int) -> dict:
    state = open_product(state, product)
    state = choose(state, "Colour", colour)
    state = choose(state, "Size", size)
    state = fill(state, "How many", str(qty))
    return click(state, "button", "Add to cart")


def apply_coupon(state: dict, code: str) -> dict:
    state = SHOP.step(state, "goto('cart')")
    state = fill(state, "Coupon code", code)
    return click(state, "button", "Apply coupon")


def solve(task: Task, *, message: bool = True) -> dict:
    """The solver's final state (before its closing message when `message` is False)."""
    states, _, _ = run_episode(SHOP, task, SHOP.solver())
    return states[-1] if message else states[-2]


def answer(state: dict, text: str) -> dict:
    return SHOP.step(state, f"send_msg_to_user({quote(text)})")


def verdict(task: Task, final: dict) -> dict[str, bool]:
    return {c.name: c.passed for c in SHOP.evaluate(final, task).checks}


def start(seed: int = 0) -> dict:
    return SHOP.reset(seed)


def product_named(world: dict, name: str) -> dict:
    return next(p for p in world["products"] if p["name"] == name)


def variant(world: dict, stock: Callable[[int], bool], qty: int = 1) -> tuple[dict, dict]:
    """A (product, variant) whose stock satisfies `stock`."""
    v = next(v for v in world["variants"] if stock(v["stock"]))
    return by_id(world["products"], v["product"]), v


# --- registration, solvability -----------------------------------------------------------


def test_registered_with_seven_documented_families_and_one_held_out():
    assert SHOP.id == "shop-v1" and get_environment("shop-v1") is SHOP
    assert len(FAMILIES) >= 7
    for family in SHOP.families.values():
        assert family.env == "shop-v1" and len(family.description) > 80, family.name
    assert SHOP.heldout_families == ("exchange_item",)
    assert "exchange_item" not in split_families("shop-v1", "train")
    assert "exchange_item" in split_families("shop-v1", "test")


@pytest.mark.parametrize("family", FAMILIES)
def test_the_solver_succeeds_on_many_seeds_in_every_variant(family):
    for seed in range(20):
        for variant_name in VARIANTS:
            task = SHOP.make_task(family, seed, variant_name)
            _, _, outcome = run_episode(SHOP, task, SHOP.solver())
            assert outcome.success, (seed, variant_name, outcome.failed())


def test_the_gift_order_takes_the_solver_25_steps_or_more():
    for seed in range(10):
        _, actions, outcome = run_episode(SHOP, SHOP.make_task("gift_order", seed), SHOP.solver())
        assert outcome.success and len(actions) >= 25, (seed, len(actions))


def test_doing_nothing_fails_every_family():
    for family in FAMILIES:
        for seed in range(4):
            task = SHOP.make_task(family, seed)
            final = answer(SHOP.reset(seed, task), "Done.")
            assert not SHOP.evaluate(final, task).success, (family, seed)


# --- the errors a shop shows ----------------------------------------------------------------


def test_an_out_of_stock_variant_and_a_quantity_over_the_stock_are_refused():
    world = build_world(0)
    product, empty = variant(world, lambda n: n == 0)
    state = add(start(), product["name"], empty["colour"], empty["size"], 1)
    assert alert(state) == (
        f"Error: {empty['colour']}, size {empty['size']} is out of stock. "
        "Choose another colour or size."
    )
    assert state["cart"] == []
    product, few = variant(world, lambda n: 1 <= n <= 5)
    state = add(state, product["name"], few["colour"], few["size"], few["stock"] + 1)
    assert (
        alert(state) == f"Error: Only {few['stock']} left in {few['colour']}, size {few['size']}."
    )
    state = add(state, product["name"], few["colour"], few["size"], few["stock"])
    assert state["cart"] == [{"id": few["id"], "qty": few["stock"]}]
    state = add(state, product["name"], few["colour"], few["size"], 1)
    assert f"and {few['stock']} are in your cart already" in alert(state)


def test_the_product_page_shows_each_colour_and_size_with_its_stock():
    world = build_world(0)
    product, v = variant(world, lambda n: n == 0)
    state = open_product(start(), product["name"])
    table = find(state, "table", "Availability")
    cells = [[c.name for c in row.children] for row in table.children[1:]]
    assert [v["colour"], v["size"], "Out of stock"] in cells
    assert find(state, "select", "Colour").options[1:] == product["colours"]


def coupons_of(world: dict) -> dict[str, dict]:
    """The world's coupons by kind: minimum spend, category, fixed, expired."""
    kinds = {}
    for c in world["coupons"]:
        if c["expires"] < world["today"]:
            kinds["expired"] = c
        elif c["category"]:
            kinds["category"] = c
        elif c["kind"] == "fixed":
            kinds["fixed"] = c
        else:
            kinds["percent"] = c
    return kinds


def test_coupons_say_why_they_do_not_apply():
    world = build_world(0)
    kinds = coupons_of(world)
    state = apply_coupon(start(), kinds["percent"]["id"])
    assert alert(state) == "Error: Your cart is empty: add items before applying a coupon."
    cheap = next(
        p
        for p in world["products"]
        if p["category"] != kinds["category"]["category"] and p["price"] < 50_00
    )
    v = next(v for v in world["variants"] if v["product"] == cheap["id"] and v["stock"] >= 1)
    state = add(state, cheap["name"], v["colour"], v["size"], 1)
    state = apply_coupon(state, "nosuchcode")
    assert (
        alert(state) == "Error: There is no coupon NOSUCHCODE. Check the code on the Offers page."
    )
    state = apply_coupon(state, kinds["expired"]["id"])
    expired = long_date(kinds["expired"]["expires"])
    assert alert(state) == f"Error: Coupon {kinds['expired']['id']} expired on {expired}."
    state = apply_coupon(state, kinds["category"]["id"])
    assert alert(state) == (
        f"Error: Coupon {kinds['category']['id']} applies only to "
        f"{kinds['category']['category']}, and your cart has none."
    )
    state = apply_coupon(state, kinds["fixed"]["id"].lower())
    assert alert(state) == (
        f"Error: Coupon {kinds['fixed']['id']} needs a subtotal of "
        f"{money(kinds['fixed']['minimum'])} or more; your subtotal is {money(cheap['price'])}."
    )
    assert state["coupon"] is None
    # The error shows beside the field too, and the code typed stays in the box.
    form = find(state, "form", "Coupon")
    assert [el.name for el in form.children if el.role == "alert"] == [alert(state)[7:]]


def test_a_coupon_that_applies_shows_its_saving_and_a_removed_item_voids_it():
    world = build_world(0)
    kinds = coupons_of(world)
    category = kinds["category"]
    product = next(p for p in world["products"] if p["category"] == category["category"])
    v = next(v for v in world["variants"] if v["product"] == product["id"] and v["stock"] >= 1)
    state = add(start(), product["name"], v["colour"], v["size"], 1)
    state = apply_coupon(state, category["id"])
    saved = (product["price"] * category["value"] + 50) // 100
    assert alert(state) == f"Success: Coupon {category['id']} applied: you save {money(saved)}."
    offer = f"{category['value']}% off {category['category']}"
    assert f"Coupon {category['id']} ({offer}): -{money(saved)}" in texts(state)
    row = find(state, "table", "Items in your cart").children[1]
    state = click(state, "button", "Remove", row)
    assert state["cart"] == [] and state["coupon"] == category["id"]
    assert "Your cart is empty." in texts(state)


def checkout(state: dict, **values: str) -> dict:
    state = SHOP.step(state, "goto('checkout')")
    for label, value in values.items():
        label = label.replace("_", " ")
        if label in ("Shipping", "Payment method"):
            state = choose(state, label, value)
        elif label == "Ship to my saved address":
            state = click(state, "checkbox", label)
        else:
            state = fill(state, label, value)
    return click(state, "button", "Place order")


def in_stock(world: dict) -> tuple[dict, dict]:
    return variant(world, lambda n: n >= 1)


def test_checkout_refuses_an_expired_card_and_a_missing_address():
    world = build_world(0)
    product, v = in_stock(world)
    state = add(start(), product["name"], v["colour"], v["size"], 1)
    expired = world["cards"][2]
    state = checkout(state, Shipping="Express", Payment_method=expired["label"])
    assert alert(state) == "Error: Enter the recipient name, or tick Ship to my saved address."
    state = click(state, "checkbox", "Ship to my saved address")
    state = click(state, "button", "Place order")
    assert alert(state) == (
        f"Error: The {expired['label']} expired at the end of {expired['expires']}. "
        "Choose another card."
    )
    assert state["orders"] == world["orders"]
    state = fill(state, "ZIP code", "9721")
    state = click(state, "button", "Place order")
    assert "ZIP code must be 5 digits." in [
        el.name for el in SHOP.render(state).iter() if el.role == "alert"
    ]


def test_placing_an_order_takes_the_stock_empties_the_cart_and_shows_the_order():
    world = build_world(0)
    product, v = in_stock(world)
    state = add(start(), product["name"], v["colour"], v["size"], 1)
    card = world["cards"][0]["label"]
    state = checkout(state, Shipping="Next day", Ship_to_my_saved_address="", Payment_method=card)
    order = state["orders"][-1]
    assert alert(state) == f"Success: Order {order['id']} placed. Total {money(order['total'])}."
    assert order["total"] == product["price"] + 24_99 and order["address"] == world["address"]
    assert by_id(state["variants"], v["id"])["stock"] == v["stock"] - 1
    assert state["cart"] == [] and state["page"] == "order"


def delivered(world: dict, inside: bool) -> tuple[dict, dict]:
    """An order delivered inside (or outside) the return window, and a line with no return."""
    for order in world["orders"]:
        if order["delivered"] and (return_deadline(order) >= world["today"]) == inside:
            for line in order["items"]:
                if not has_return(world["returns"], order["id"], line["variant"]):
                    return order, line
    raise AssertionError("no such order")


def open_order(state: dict, order_id: str) -> dict:
    return click(SHOP.step(state, "goto('orders')"), "link", order_id)


def test_a_return_after_the_window_is_refused_with_the_closing_date():
    order, _ = delivered(build_world(0), inside=False)
    state = open_order(start(), order["id"])
    closed = long_date(return_deadline(order))
    assert f"The return window closed on {closed}." in texts(state)
    state = click(state, "button", "Return or exchange")
    assert alert(state) == (
        f"Error: The return window for this order closed on {closed} (30 days after delivery)."
    )
    assert state["page"] == "order"


def test_an_exchange_needs_a_variant_in_stock_and_an_item_is_returned_once():
    world = build_world(1)
    order, line = delivered(world, inside=True)
    state = open_order(start(1), order["id"])
    row = next(
        r for r in find(state, "table", "Items").children[1:] if r.children[0].name == line["name"]
    )
    state = click(state, "button", "Return or exchange", row)
    state = choose(state, "Return type", "Exchange")
    state = choose(state, "Reason", "Wrong size")
    state = click(state, "button", "Submit return")
    assert alert(state) == "Error: Choose the colour and size to exchange for."
    empty = next(  # seed 1's item has a colour and size sold out
        v for v in world["variants"] if v["product"] == line["product"] and v["stock"] < line["qty"]
    )
    state = choose(state, "Exchange for", f"{empty['colour']} / {empty['size']}")
    state = click(state, "button", "Submit return")
    assert alert(state) == (
        f"Error: {empty['colour']}, size {empty['size']} is out of stock; "
        "choose another colour or size."
    )
    state = choose(state, "Return type", "Refund")
    state = click(state, "button", "Submit return")
    refund = money(line["price"] * line["qty"])
    assert alert(state).startswith("Success: Return R") and refund in alert(state)
    assert state["page"] == "returns"
    rid = state["returns"][-1]["id"]
    state = open_order(state, order["id"])
    row = next(
        r for r in find(state, "table", "Items").children[1:] if r.children[0].name == line["name"]
    )
    assert row.children[-1].name == f"Return {rid} requested"
    assert row.find("button", "Return or exchange") is None


def test_only_a_requested_return_can_be_cancelled_and_it_asks_first():
    world = build_world(0)
    state = SHOP.step(start(), "goto('returns')")
    refunded = next(r for r in world["returns"] if r["status"] == "Refunded")
    requested = next(r for r in world["returns"] if r["status"] == "Requested")
    rows = find(state, "table", "Your returns").children[1:]
    row_of = {r.children[0].name: r for r in rows}
    asked = click(state, "button", "Cancel request", row_of[refunded["id"]])
    asked = click(asked, "button", "Cancel the return")
    assert alert(asked) == (
        f"Error: Return {refunded['id']} is refunded; only a requested return can be cancelled."
    )
    asked = click(state, "button", "Cancel request", row_of[requested["id"]])
    kept = click(asked, "button", "Keep the return")
    assert kept["returns"] == world["returns"]
    done = click(asked, "button", "Cancel the return")
    assert by_id(done["returns"], requested["id"])["status"] == "Cancelled"


def test_reviews_are_for_products_bought_once():
    world = build_world(0)
    bought = {ln["product"] for o in world["orders"] for ln in o["items"]}
    other = next(p for p in world["products"] if p["id"] not in bought)
    state = open_product(start(), other["name"])
    state = choose(state, "Rating", "4 stars")
    state = fill(state, "Review title", "Nice")
    state = fill(state, "Your review", "It fits.")
    state = click(state, "button", "Post review")
    assert alert(state) == (
        "Error: You can review only products you have bought; this one is not in your orders."
    )
    mine = by_id(world["products"], world["orders"][0]["items"][0]["product"])
    state = open_product(state, mine["name"])
    for _ in range(2):
        state = choose(state, "Rating", "4 stars")
        state = fill(state, "Review title", "Nice")
        state = fill(state, "Your review", "It fits.")
        state = click(state, "button", "Post review")
    assert alert(state) == f"Error: You have reviewed the {mine['name']} already."
    assert len(state["reviews"]) == len(world["reviews"]) + 1


# --- verifiers ----------------------------------------------------------------------------


def test_an_extra_change_anywhere_is_collateral_damage():
    task = SHOP.make_task("buy_item", 3)
    final = solve(task, message=False)
    assert SHOP.evaluate(answer(final, "Done."), task).success
    state = SHOP.step(final, "goto('returns')")
    requested = next(r for r in state["returns"] if r["status"] == "Requested")
    row = next(
        r
        for r in find(state, "table", "Your returns").children[1:]
        if r.children[0].name == requested["id"]
    )
    state = click(click(state, "button", "Cancel request", row), "button", "Cancel the return")
    checks = verdict(task, answer(state, "Done."))
    assert [name for name, ok in checks.items() if not ok] == ["no_collateral_damage"]


def test_an_item_left_in_the_cart_is_collateral_damage():
    task = SHOP.make_task("write_review", 2)
    final = solve(task, message=False)
    product, v = in_stock(build_world(2))
    state = add(final, product["name"], v["colour"], v["size"], 1)
    checks = verdict(task, answer(state, "Done."))
    assert [name for name, ok in checks.items() if not ok] == ["no_collateral_damage"]


def test_the_gift_order_fails_with_a_coupon_that_saves_less():
    for seed in range(40):
        task = SHOP.make_task("gift_order", seed)
        world = build_world(seed)
        p = task.params
        usable = [
            c for c in world["coupons"] if coupon_problem(c, p["lines"], world["today"]) is None
        ]
        if len(usable) >= 2:
            break
    lesser = min(usable, key=lambda c: coupon_discount(c, p["lines"]))
    assert lesser["id"] != p["coupon"]
    state = SHOP.reset(seed, task)
    for line in p["lines"]:
        state = add(state, line["name"], line["colour"], line["size"], line["qty"])
    state = apply_coupon(state, lesser["id"])
    state = run(state, lambda page: ShopSolver()._checkout(page, p, saved=False))
    checks = verdict(task, answer(state, "Done."))
    assert [name for name, ok in checks.items() if not ok] == ["coupon", "total"]


def test_buying_the_wrong_size_fails_the_items_check():
    task = SHOP.make_task("buy_item", 5)
    world = build_world(5)
    p = task.params
    other = next(
        v
        for v in world["variants"]
        if v["product"] == p["lines"][0]["product"]
        and v["id"] != p["lines"][0]["variant"]
        and v["stock"] >= p["qty"]
    )
    state = add(SHOP.reset(5, task), p["product"], other["colour"], other["size"], p["qty"])
    state = run(state, lambda page: ShopSolver()._checkout(page, p, saved=True))
    checks = verdict(task, answer(state, "Done."))
    assert not checks["items"] and not checks["stock"] and checks["no_collateral_damage"] is False


def test_the_seed_decides_whether_the_return_is_allowed_and_both_outcomes_are_judged():
    inside = SHOP.make_task("return_if_eligible", 0)
    outside = SHOP.make_task("return_if_eligible", 1)
    assert inside.params["eligible"] and not outside.params["eligible"]
    # Outside the window: the right answer is the closing date, and no change.
    final = solve(outside)
    assert final["returns"] == SHOP.reset(1)["returns"]
    assert dates_in(final["answer"]) == {outside.params["deadline"]}
    quiet = solve(outside, message=False)
    assert SHOP.evaluate(
        answer(quiet, f"It closed on {outside.params['deadline']}."), outside
    ).success
    assert not verdict(outside, answer(quiet, "It closed on 2001-01-01."))["answer"]
    assert not verdict(outside, answer(quiet, "Sorry, the window has closed."))["answer"]
    # A return filed anyway (through another line's button would be refused; simulate a record).
    forced = {**quiet, "returns": [*quiet["returns"], {**quiet["returns"][0], "id": "R999"}]}
    checks = verdict(outside, answer(forced, long_date(outside.params["deadline"])))
    assert not checks["return"]
    # Inside the window: the return must be filed and the refund reported.
    final = solve(inside)
    assert SHOP.evaluate(final, inside).success
    refund = money(inside.params["refund"])
    assert refund in final["answer"]
    not_filed = answer(SHOP.reset(0, inside), f"The refund is {refund}.")
    assert not verdict(inside, not_filed)["return"]
    wrong = answer(solve(inside, message=False), "The refund is $1.00.")
    assert [n for n, ok in verdict(inside, wrong).items() if not ok] == ["answer"]


def test_dates_in_reads_long_short_and_iso_dates():
    assert dates_in("It closed on June 3, 2024.") == {"2024-06-03"}
    assert dates_in("Jun 3 2024 or 2024-06-04") == {"2024-06-03", "2024-06-04"}
    assert dates_in("closed in June") == set()


def test_a_tracking_answer_must_name_that_order_and_no_other():
    task = SHOP.make_task("tracking_number", 4)
    world = build_world(4)
    assert SHOP.evaluate(solve(task), task).success
    quiet = solve(task, message=False)
    other = next(
        o["tracking"] for o in world["orders"] if o["tracking"] and o["id"] != task.params["order"]
    )
    both = answer(quiet, f"{task.params['tracking']} or {other}")
    assert not SHOP.evaluate(both, task).success
    assert not SHOP.evaluate(answer(quiet, other), task).success


def test_an_exchange_for_another_variant_fails_and_holds_the_stock():
    task = SHOP.make_task("exchange_item", 0)
    final = solve(task)
    p = task.params
    before = by_id(SHOP.reset(0)["variants"], p["exchange_for"])["stock"]
    assert by_id(final["variants"], p["exchange_for"])["stock"] == before - p["qty"]
    assert SHOP.evaluate(final, task).success
    record = final["returns"][-1]
    assert record["kind"] == "Exchange" and record["refund"] == 0
    # Cancelling the exchange puts the held item back on sale.
    state = SHOP.step({**final, "finished": False}, "goto('returns')")
    row = next(
        r
        for r in find(state, "table", "Your returns").children[1:]
        if r.children[0].name == record["id"]
    )
    state = click(click(state, "button", "Cancel request", row), "button", "Cancel the return")
    assert by_id(state["variants"], p["exchange_for"])["stock"] == before


def test_the_cheapest_in_stock_skips_cheaper_products_out_of_stock():
    found = judged = 0
    for seed in range(30):
        task = SHOP.make_task("cheapest_in_stock", seed)
        world = build_world(seed)
        p = task.params
        price = product_named(world, p["product"])["price"]
        cheaper_empty = [
            v
            for v in world["variants"]
            if by_id(world["products"], v["product"])["category"] == p["category"]
            and by_id(world["products"], v["product"])["price"] < price
            and (v["colour"], v["size"]) == (p["colour"], p["size"])
        ]
        assert all(v["stock"] == 0 for v in cheaper_empty)
        if cheaper_empty:
            found += 1
            # Buying the cheaper-looking product is impossible; a pricier one fails.
            pricier = next(
                (
                    v
                    for v in world["variants"]
                    if by_id(world["products"], v["product"])["category"] == p["category"]
                    and by_id(world["products"], v["product"])["price"] > price
                    and (v["colour"], v["size"]) == (p["colour"], p["size"])
                    and v["stock"] >= 1
                ),
                None,
            )
            if pricier is not None:
                name = by_id(world["products"], pricier["product"])["name"]
                state = add(SHOP.reset(seed, task), name, p["colour"], p["size"], 1)
                assert not verdict(task, answer(state, "Done."))["cart_item"]
                judged += 1
    assert found >= 3 and judged >= 1
