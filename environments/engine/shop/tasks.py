"""The shop's task families. Each draws from the world its seed builds and verifies the final
state: what must have changed, and that nothing else did (the cart, orders, returns, reviews
and stock are all watched for collateral damage)."""

from __future__ import annotations

import re

from environments.engine.base import Check, Outcome
from environments.engine.kit import WorldRandom, by_id, long_date, money
from environments.engine.kit.formats import MONTHS
from environments.engine.tasks import (
    TaskFamily,
    check_amount,
    check_field,
    check_no_collateral,
    diff_records,
    shown,
)

from .rules import (
    SHIPPING,
    address_line,
    card_expired,
    coupon_discount,
    coupon_problem,
    item_label,
    order_total,
)
from .world import REASONS, build_world, has_return, return_deadline

ENV = "shop-v1"
RECORDS = ["cart", "orders", "returns", "reviews", "variants"]


def _collateral(initial: dict, final: dict, allowed: list[tuple[str, str, str]]) -> Check:
    return check_no_collateral(diff_records(initial, final, RECORDS), allowed)


def _line(world: dict, variant: dict, qty: int) -> dict:
    product = by_id(world["products"], variant["product"])
    return {
        "variant": variant["id"],
        "product": product["id"],
        "name": product["name"],
        "category": product["category"],
        "colour": variant["colour"],
        "size": variant["size"],
        "qty": qty,
        "price": product["price"],
    }


def _item(world: dict, variant_id: object, qty: int | None = None) -> str:
    """A variant as the site names it, "Alder Polo (Navy, M)", with "2 x " before it when
    `qty` is given."""
    variant = next((v for v in world["variants"] if v["id"] == variant_id), None)
    if variant is None:
        return shown(variant_id)
    line = _line(world, variant, 1 if qty is None else qty)
    label = item_label(line)
    return label if qty is not None else label.split(" x ", 1)[1]


def _items(world: dict, lines: list[list]) -> str:
    return ", ".join(_item(world, vid, qty) for vid, qty in lines) or "nothing"


def _address(value: object) -> str:
    return address_line(value) if isinstance(value, dict) else shown(value)


def _money(cents: object) -> str:
    return money(cents) if isinstance(cents, int) else shown(cents)


def _good_cards(world: dict) -> list[str]:
    return [c["label"] for c in world["cards"] if not card_expired(c, world["today"])]


def _new(initial: dict, final: dict, key: str) -> list[dict]:
    old = {r["id"] for r in initial[key]}
    return [r for r in final[key] if r["id"] not in old]


def _verify_order(initial: dict, final: dict, p: dict) -> Outcome:
    """One new order holding exactly the asked lines, shipping, address, card, coupon and
    total; each ordered variant's stock down by its quantity; nothing else changed."""
    new = _new(initial, final, "orders")
    checks = [Check("one_order", len(new) == 1, f"{len(new)} order(s) placed")]
    order = new[0] if new else {}
    got = sorted([ln.get("variant"), ln.get("qty")] for ln in order.get("items", []))
    want = sorted([ln["variant"], ln["qty"]] for ln in p["lines"])
    detail = f"ordered {_items(final, got)}"
    if got != want:
        detail += f", asked for {_items(final, want)}"
    checks.append(Check("items", got == want, detail))
    asked = [("shipping", p["shipping"]), ("payment", p["card"]), ("address", p["address"])]
    if p["coupon"] is not None:  # without one, a coupon used shows in the total
        asked.append(("coupon", p["coupon"]))
    show = {"address": _address, "total": _money}
    missing = None if order else "no order was placed"
    for key, wanted in (*asked, ("total", p["total"])):
        checks.append(
            check_field(key, order.get(key), wanted, show.get(key, shown), missing=missing)
        )
    off = []
    for ln in p["lines"]:
        before = by_id(initial["variants"], ln["variant"])["stock"]
        after = by_id(final["variants"], ln["variant"])["stock"]
        if after != before - ln["qty"]:
            off.append(
                f"{_item(final, ln['variant'])} went from {before} to {after}, "
                f"expected {before - ln['qty']}"
            )
    detail = "; ".join(off) or "the ordered items' stock went down by what was ordered"
    checks.append(Check("stock", not off, detail))
    allowed = [("orders", o["id"], "+") for o in new[:1]]
    allowed += [("variants", ln["variant"], "stock") for ln in p["lines"]]
    checks.append(_collateral(initial, final, allowed))
    return Outcome.from_checks(checks)


def _in_stock(world: dict, w: WorldRandom) -> dict:
    return w.choice([v for v in world["variants"] if v["stock"] >= 1])


class BuyItem(TaskFamily):
    """Buy one item in a given colour, size and quantity, with a given shipping option, to the
    saved address, paying with a given card. The verifier wants one new order with exactly
    that line, shipping, address, card, no coupon and the right total, the item's stock down
    by the quantity, and nothing else changed (the cart ends empty)."""

    name = "buy_item"
    env = ENV
    title = "Buy an item"
    max_steps = 30
    goal = (
        "Buy {qty} of the {product} in {colour}, size {size}, with {shipping} shipping to my "
        "saved address, paying with the {card}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        variant = _in_stock(world, w)
        line = _line(world, variant, w.randint(1, min(3, variant["stock"])))
        shipping = w.choice(tuple(SHIPPING))
        return {
            "product": line["name"],
            "colour": line["colour"],
            "size": line["size"],
            "qty": line["qty"],
            "lines": [line],
            "shipping": shipping,
            "card": w.choice(_good_cards(world)),
            "address": world["address"],
            "coupon": None,
            "total": order_total([line], None, shipping)["total"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return _verify_order(initial, final, params)


class GiftOrder(TaskFamily):
    """A long checkout: two items in given colours, sizes and quantities, sent as a gift to a
    new address with a given shipping option and card, using the coupon that saves the most
    on this order (the offers differ in minimum spend, category and expiry; finding the best
    means reading them or trying each in the cart). The verifier wants one new order with
    exactly those lines, that address, shipping, card, the best coupon and the right total,
    stock down by what was ordered, and nothing else changed."""

    name = "gift_order"
    env = ENV
    title = "Order a gift with the best coupon"
    max_steps = 60
    goal = (
        "Order {qty1} x {product1} ({colour1}, size {size1}) and {qty2} x {product2} "
        "({colour2}, size {size2}) as a gift for {recipient}, {street}, {city}, {state} {zip}, "
        "with {shipping} shipping, paid with the {card}. Use the coupon from the Offers page "
        "that saves the most on this order."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        while True:
            first, second = _in_stock(world, w), _in_stock(world, w)
            if first["product"] == second["product"]:
                continue
            lines = [_line(world, v, w.randint(1, min(2, v["stock"]))) for v in (first, second)]
            shipping = w.choice(tuple(SHIPPING))
            usable = [
                c for c in world["coupons"] if coupon_problem(c, lines, world["today"]) is None
            ]
            savings = {c["id"]: coupon_discount(c, lines) for c in usable}
            # The biggest discount must also give the lowest total: a discount that takes the
            # order under the free-shipping threshold would make "saves the most" ambiguous.
            totals = {c["id"]: order_total(lines, c, shipping)["total"] for c in usable}
            best = max(savings.values(), default=0)
            code = next((c for c, saved in savings.items() if saved == best), None)
            if (
                best > 0
                and list(savings.values()).count(best) == 1
                and list(totals.values()).count(totals[code]) == 1
                and totals[code] == min(totals.values())
                and totals[code] < order_total(lines, None, shipping)["total"]
            ):
                break
        coupon = by_id(world["coupons"], code)
        person, place = w.person(), w.address()
        address = {
            "name": person["name"],
            "street": place["street"],
            "city": place["city"],
            "state": place["state"],
            "zip": place["zip"],
        }
        out = {
            "recipient": person["name"],
            **{k: place[k] for k in ("street", "city", "state", "zip")},
            "lines": lines,
            "shipping": shipping,
            "card": w.choice(_good_cards(world)),
            "address": address,
            "coupon": code,
            "total": order_total(lines, coupon, shipping)["total"],
        }
        for i, line in enumerate(lines, start=1):
            out.update(
                {
                    f"product{i}": line["name"],
                    f"colour{i}": line["colour"],
                    f"size{i}": line["size"],
                    f"qty{i}": line["qty"],
                }
            )
        return out

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        return _verify_order(initial, final, params)


class CheapestInStock(TaskFamily):
    """Put in the cart one of the cheapest product of a category that is in stock in a given
    colour and size: the search lists prices, but stock shows only on each product's page, so
    the actor opens product after product. The verifier wants the cart to hold exactly that
    item, quantity 1, and nothing else changed."""

    name = "cheapest_in_stock"
    env = ENV
    title = "Find the cheapest item in stock"
    max_steps = 40
    goal = (
        "Put in my cart one of the cheapest {category} item you have in stock in {colour}, "
        "size {size}."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        variant = _in_stock(world, WorldRandom(seed, f"{ENV}/{self.name}"))
        category = by_id(world["products"], variant["product"])["category"]
        prices = {p["id"]: p["price"] for p in world["products"] if p["category"] == category}
        matching = [
            v
            for v in world["variants"]
            if v["product"] in prices
            and v["colour"] == variant["colour"]
            and v["size"] == variant["size"]
            and v["stock"] >= 1
        ]
        cheapest = min(matching, key=lambda v: prices[v["product"]])
        return {
            "category": category,
            "colour": variant["colour"],
            "size": variant["size"],
            "variant": cheapest["id"],
            "product": by_id(world["products"], cheapest["product"])["name"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        cart = final["cart"]
        ids = [ln["id"] for ln in cart]
        checks = [
            Check(
                "cart_item",
                ids == [params["variant"]],
                "the cart holds " + (", ".join(_item(final, i) for i in ids) or "nothing"),
            ),
            Check("quantity", [ln["qty"] for ln in cart] == [1], "one of it"),
        ]
        checks.append(_collateral(initial, final, [("cart", params["variant"], "+")]))
        return Outcome.from_checks(checks)


class TrackingNumber(TaskFamily):
    """Answer with the tracking number of the order that holds a named product: the orders
    list does not show what each order holds, so the actor opens orders until it finds it.
    The verifier wants that tracking number in the answer (and no other order's), and nothing
    changed."""

    name = "tracking_number"
    env = ENV
    title = "Find a tracking number"
    max_steps = 30
    goal = "What is the tracking number of the order in which I bought the {product}?"

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        order = w.choice([o for o in world["orders"] if o["tracking"]])
        return {
            "product": w.choice(order["items"])["name"],
            "order": order["id"],
            "tracking": order["tracking"],
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        named = set(re.findall(r"1Z[0-9]+", final["answer"] or ""))
        ok = named == {params["tracking"]}
        detail = f"the answer names {', '.join(sorted(named)) or 'no tracking number'}, "
        detail += f"expected {params['tracking']}"
        return Outcome.from_checks([Check("answer", ok, detail), _collateral(initial, final, [])])


_LONG_DATE = re.compile(
    r"\b(" + "|".join(m[:3] for m in MONTHS) + r")[a-z]*\.? ([0-9]{1,2}),? ([0-9]{4})\b"
)
_ISO_DATE = re.compile(r"\b([0-9]{4})-([0-9]{2})-([0-9]{2})\b")


def dates_in(text: str) -> set[str]:
    """The dates an answer names, as ISO ("June 3, 2024", "Jun 3 2024", "2024-06-03")."""
    out = {f"{y}-{m}-{d}" for y, m, d in _ISO_DATE.findall(text)}
    for month, day, year in _LONG_DATE.findall(text):
        number = [m[:3] for m in MONTHS].index(month) + 1
        out.add(f"{year}-{number:02d}-{int(day):02d}")
    return out


class ReturnIfEligible(TaskFamily):
    """Return an item for a refund if its order is still inside the 30-day return window and
    report the refund; otherwise return nothing and report the day the window closed (the seed
    decides which: even seeds are inside the window, odd ones outside). The verifier wants,
    inside the window, one new refund request for that item with the reason and full refund
    and the refund amount in the answer; outside it, no return at all and the closing date in
    the answer; in both cases nothing else changed."""

    name = "return_if_eligible"
    env = ENV
    title = "Return an item if the window allows"
    max_steps = 25
    goal = (
        "Return the {product} ({colour}, {size}) from order {order} for a refund (reason: "
        "{reason}) if it is still within the return window, and tell me the refund amount. If "
        "the window has closed, return nothing and tell me the date it closed."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        eligible = seed % 2 == 0
        # Lines of orders delivered inside (or outside) the window that have no return yet.
        order, line = w.choice(
            [
                (o, ln)
                for o in world["orders"]
                if o["delivered"] and (return_deadline(o) >= world["today"]) == eligible
                for ln in o["items"]
                if not has_return(world["returns"], o["id"], ln["variant"])
            ]
        )
        return {
            "product": line["name"],
            "colour": line["colour"],
            "size": line["size"],
            "order": order["id"],
            "variant": line["variant"],
            "reason": w.choice(REASONS),
            "eligible": eligible,
            "refund": line["price"] * line["qty"],
            "deadline": return_deadline(order),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _new(initial, final, "returns")
        if params["eligible"]:
            want = {
                "order": params["order"],
                "variant": params["variant"],
                "kind": "Refund",
                "reason": params["reason"],
                "refund": params["refund"],
            }
            got = [{k: r.get(k) for k in want} for r in new]

            def requested(r: dict) -> str:
                return (
                    f"{shown(r['kind'])} of {_item(final, r['variant'])} from order "
                    f"{shown(r['order'])} ({shown(r['reason'])}, {_money(r['refund'])})"
                )

            detail = f"new returns: {'; '.join(map(requested, got)) or 'none'}"
            if got != [want]:
                detail += f"; expected {requested(want)}"
            checks = [Check("return", got == [want], detail)]
            checks.append(check_amount(final["answer"], params["refund"]))
            allowed = [("returns", r["id"], "+") for r in new[:1]]
        else:
            checks = [Check("return", not new, f"{len(new)} return(s) requested; none may be")]
            named = dates_in(final["answer"] or "")
            ok = named == {params["deadline"]}
            dates = ", ".join(long_date(d) for d in sorted(named)) or "no date"
            want_date = long_date(params["deadline"])
            checks.append(Check("answer", ok, f"the answer names {dates}, expected {want_date}"))
            allowed = []
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class ExchangeItem(TaskFamily):
    """Exchange a delivered item for another colour or size of the same product within the
    return window. The verifier wants one new exchange request for that order line, with the
    reason, the asked variant and no refund, that variant's stock down by the quantity, and
    nothing else changed."""

    name = "exchange_item"
    env = ENV
    title = "Exchange an item"
    max_steps = 25
    goal = (
        "Exchange the {product} ({colour}, {size}) from order {order} for {new_colour}, size "
        "{new_size} (reason: {reason})."
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        choices = []
        for order in world["orders"]:
            if not order["delivered"] or return_deadline(order) < world["today"]:
                continue
            for line in order["items"]:
                if has_return(world["returns"], order["id"], line["variant"]):
                    continue
                for v in world["variants"]:
                    if (
                        v["product"] == line["product"]
                        and v["id"] != line["variant"]
                        and v["stock"] >= line["qty"]
                    ):
                        choices.append((order, line, v))
        order, line, wanted = w.choice(choices)
        return {
            "product": line["name"],
            "colour": line["colour"],
            "size": line["size"],
            "order": order["id"],
            "variant": line["variant"],
            "qty": line["qty"],
            "new_colour": wanted["colour"],
            "new_size": wanted["size"],
            "exchange_for": wanted["id"],
            "reason": "Wrong size" if wanted["colour"] == line["colour"] else w.choice(REASONS),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _new(initial, final, "returns")
        checks = [Check("one_return", len(new) == 1, f"{len(new)} return(s) requested")]
        r = new[0] if new else {}
        item = [r.get("order"), r.get("variant")]

        def returned(pair: object) -> str:
            order, variant = pair  # type: ignore[misc]
            if order is None:
                return "nothing returned"
            return f"{_item(final, variant)} from order {shown(order)}"

        want_item = [params["order"], params["variant"]]
        missing = None if r else "no return was requested"
        checks.append(check_field("item", item, want_item, returned, missing=missing))
        kind = [r.get("kind"), r.get("refund")]

        def kind_shown(pair: object) -> str:
            what, refund = pair  # type: ignore[misc]
            return f"{shown(what)} with a refund of {_money(refund)}"

        checks.append(check_field("kind", kind, ["Exchange", 0], kind_shown, missing=missing))
        checks.append(check_field("reason", r.get("reason"), params["reason"], missing=missing))
        target = r.get("exchange_for")

        def exchanged(vid: object) -> str:
            return f"exchanged for {_item(final, vid)}"

        checks.append(
            check_field("exchange_for", target, params["exchange_for"], exchanged, missing=missing)
        )
        before = by_id(initial["variants"], params["exchange_for"])["stock"]
        after = by_id(final["variants"], params["exchange_for"])["stock"]
        checks.append(
            Check(
                "stock",
                after == before - params["qty"],
                f"stock of {_item(final, params['exchange_for'])} went from {before} to {after}",
            )
        )
        allowed = [("returns", x["id"], "+") for x in new[:1]]
        allowed.append(("variants", params["exchange_for"], "stock"))
        checks.append(_collateral(initial, final, allowed))
        return Outcome.from_checks(checks)


class WriteReview(TaskFamily):
    """Review a product the customer bought, with a given rating, title and text. The verifier
    wants one new review of that product by the customer with exactly that rating, title and
    text, and nothing else changed."""

    name = "write_review"
    env = ENV
    title = "Review a purchase"
    max_steps = 20
    goal = (
        "Write a {rating}-star review of the {product} I bought, titled '{title}', saying '{text}'"
    )

    def params(self, seed: int) -> dict:
        world = build_world(seed)
        w = WorldRandom(seed, f"{ENV}/{self.name}")
        line = w.choice([ln for o in world["orders"] if o["delivered"] for ln in o["items"]])
        return {
            "product": line["name"],
            "product_id": line["product"],
            "rating": w.randint(1, 5),
            "title": w.sentence(2, 4).rstrip("."),
            "text": w.sentence(6, 10),
        }

    def verify(self, initial: dict, final: dict, params: dict) -> Outcome:
        new = _new(initial, final, "reviews")
        checks = [Check("one_review", len(new) == 1, f"{len(new)} review(s) posted")]
        r = new[0] if new else {}
        who = [r.get("product"), r.get("author")]
        want = [params["product_id"], initial["customer"]]

        def review_of(pair: object) -> str:
            pid, author = pair  # type: ignore[misc]
            product = next((p["name"] for p in final["products"] if p["id"] == pid), shown(pid))
            return f"a review of {product} by {shown(author)}"

        missing = None if r else "no review was posted"
        checks.append(check_field("product", who, want, review_of, missing=missing))

        def stars(n: object) -> str:
            return f"{n} star(s)" if isinstance(n, int) else shown(n)

        def quoted(text: object) -> str:
            return f"“{text}”" if text else "nothing"

        checks.append(
            check_field("rating", r.get("rating"), params["rating"], stars, missing=missing)
        )
        for key in ("title", "text"):
            checks.append(check_field(key, r.get(key), params[key], quoted, missing=missing))
        checks.append(_collateral(initial, final, [("reviews", x["id"], "+") for x in new[:1]]))
        return Outcome.from_checks(checks)


FAMILIES = {
    f.name: f
    for f in (
        BuyItem(),
        GiftOrder(),
        CheapestInStock(),
        TrackingNumber(),
        ReturnIfEligible(),
        ExchangeItem(),
        WriteReview(),
    )
}
