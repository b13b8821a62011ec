"""The shop's business rules, shared by the pages and the verifiers: cart lines and their
prices, coupons and why one does not apply, shipping costs, card expiry."""

from __future__ import annotations

from environments.engine.kit import by_id, long_date, money


def item_label(line: dict) -> str:
    """ "2 x Alder Polo (Navy, M)"."""
    return f"{line['qty']} x {line['name']} ({line['colour']}, {line['size']})"


def address_line(a: dict) -> str:
    return f"{a['name']}, {a['street']}, {a['city']}, {a['state']} {a['zip']}"


# name: (price in cents, delivery time)
SHIPPING = {
    "Standard": (5_99, "5-7 business days"),
    "Express": (14_99, "2 business days"),
    "Next day": (24_99, "the next business day"),
}
FREE_STANDARD_FROM = 75_00
# Calendar days from an order to its expected delivery, by shipping option.
DELIVERY_DAYS = {"Standard": 7, "Express": 2, "Next day": 1}


def cart_lines(state: dict) -> list[dict]:
    """The cart as priced lines: {variant, product, name, category, colour, size, qty, price}."""
    out = []
    for line in state["cart"]:
        variant = by_id(state["variants"], line["id"])
        product = by_id(state["products"], variant["product"])
        out.append(
            {
                "variant": variant["id"],
                "product": product["id"],
                "name": product["name"],
                "category": product["category"],
                "colour": variant["colour"],
                "size": variant["size"],
                "qty": line["qty"],
                "price": product["price"],
            }
        )
    return out


def subtotal(lines: list[dict]) -> int:
    return sum(line["price"] * line["qty"] for line in lines)


def describe_coupon(coupon: dict) -> str:
    """ "15% off Shoes", "$20.00 off"."""
    off = (
        f"{coupon['value']}% off"
        if coupon["kind"] == "percent"
        else f"{money(coupon['value'])} off"
    )
    return f"{off} {coupon['category']}" if coupon["category"] else f"{off} your order"


def coupon_problem(coupon: dict, lines: list[dict], today: str) -> str | None:
    """Why a coupon does not apply to these lines today (None when it does)."""
    code = coupon["id"]
    if not lines:
        return "Your cart is empty: add items before applying a coupon."
    if coupon["expires"] < today:
        return f"Coupon {code} expired on {long_date(coupon['expires'])}."
    if coupon["category"] and not any(line["category"] == coupon["category"] for line in lines):
        return f"Coupon {code} applies only to {coupon['category']}, and your cart has none."
    if subtotal(lines) < coupon["minimum"]:
        return (
            f"Coupon {code} needs a subtotal of {money(coupon['minimum'])} or more; "
            f"your subtotal is {money(subtotal(lines))}."
        )
    return None


def coupon_discount(coupon: dict, lines: list[dict]) -> int:
    """What an applicable coupon takes off, in cents (a percentage rounds half up)."""
    if coupon["kind"] == "fixed":
        return min(coupon["value"], subtotal(lines))
    base = subtotal([ln for ln in lines if coupon["category"] in (None, ln["category"])])
    return (base * coupon["value"] + 50) // 100


def shipping_cost(option: str, after_discount: int) -> int:
    price = SHIPPING[option][0]
    return 0 if option == "Standard" and after_discount >= FREE_STANDARD_FROM else price


def card_expired(card: dict, today: str) -> bool:
    """A card is good to the end of its expiry month ("MM/YYYY")."""
    month, year = card["expires"].split("/")
    return f"{year}-{month}" < today[:7]


def order_total(lines: list[dict], coupon: dict | None, option: str) -> dict:
    """{subtotal, discount, shipping_cost, total} for lines, an applicable coupon, shipping."""
    sub = subtotal(lines)
    discount = coupon_discount(coupon, lines) if coupon else 0
    ship = shipping_cost(option, sub - discount)
    return {
        "subtotal": sub,
        "discount": discount,
        "shipping_cost": ship,
        "total": sub - discount + ship,
    }
