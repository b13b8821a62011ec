"""The shop's seeded data: a catalogue of products in colours and sizes with their stock, the
customer's saved address and cards, coupons with their conditions, past orders in every state
(processing, shipped, delivered inside and outside the return window) and reviews.

Everything derives from the seed ("today" included); worlds are cached and shared between
states, so nothing may modify them in place.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache

from environments.engine.kit import WorldRandom

RETURN_DAYS = 30
REASONS = ("Wrong size", "Not as described", "Arrived damaged", "Changed my mind")
CATEGORIES = {
    # category: (item nouns, sizes, price range in dollars)
    "Jackets": (
        ("Trail Jacket", "Rain Shell", "Puffer Jacket", "Fleece"),
        ("S", "M", "L", "XL"),
        (60, 180),
    ),
    "Shoes": (
        ("Runner", "Hiking Boot", "Court Sneaker", "Loafer"),
        ("7", "8", "9", "10", "11"),
        (45, 150),
    ),
    "Shirts": (
        ("Oxford Shirt", "Linen Shirt", "Polo", "Flannel Shirt"),
        ("S", "M", "L", "XL"),
        (20, 70),
    ),
    "Bags": (("Backpack", "Tote", "Duffel", "Sling Bag"), ("One size",), (25, 120)),
    "Hats": (("Beanie", "Sun Hat", "Cap"), ("S/M", "L/XL"), (15, 45)),
}
BRANDS = ("Alder", "Brightwater", "Cobalt & Co", "Driftwood", "Evergreen", "Fieldhouse")
COLOURS = ("Black", "Navy", "Olive", "Grey", "Red", "Sand", "White")
SIZES = tuple(dict.fromkeys(s for _, sizes, _ in CATEGORIES.values() for s in sizes))
PRODUCTS_PER_CATEGORY = 7
CARRIERS = ("UPS", "FedEx", "USPS")
# Cards the customer may have saved: (label, last four digits).
CARD_POOL = (
    ("Visa ending 4242", "4242"),
    ("Mastercard ending 5100", "5100"),
    ("Visa ending 1881", "1881"),
    ("Amex ending 0005", "0005"),
    ("Mastercard ending 7310", "7310"),
    ("Visa ending 6622", "6622"),
)
CARDS = tuple(label for label, _ in CARD_POOL)
REVIEWERS = 12


def build_world(seed: int) -> dict:
    return _generate(seed)


def plus_days(iso: str, days: int) -> str:
    return (date.fromisoformat(iso) + timedelta(days=days)).isoformat()


def return_deadline(order: dict) -> str | None:
    """The last day an item of a delivered order can be sent back; None before delivery."""
    return plus_days(order["delivered"], RETURN_DAYS) if order["delivered"] else None


def _products(w: WorldRandom) -> tuple[list[dict], list[dict]]:
    products, variants, taken = [], [], set()
    for category, (nouns, sizes, (low, high)) in CATEGORIES.items():
        for _ in range(PRODUCTS_PER_CATEGORY):
            brand, noun = w.choice(BRANDS), w.choice(nouns)
            while f"{brand} {noun}" in taken:
                brand, noun = w.choice(BRANDS), w.choice(nouns)
            taken.add(f"{brand} {noun}")
            pid = f"p{len(products) + 1}"
            # Distinct prices (the cents say which product), so "the cheapest" is one product.
            price = w.amount(low * 100, high * 100, 100) - 100 + 49 + len(products) % 50
            colours = sorted(w.sample(COLOURS, w.randint(2, 4)))
            product = {
                "id": pid,
                "name": f"{brand} {noun}",
                "brand": brand,
                "category": category,
                "price": price,
                "band": "Under $50"
                if price < 50_00
                else "$50 to $100"
                if price < 100_00
                else "$100 and up",
                "colours": colours,
                "sizes": list(sizes),
                "description": w.sentence(8, 14),
            }
            products.append(product)
            for colour in colours:
                for size in sizes:
                    stock = 0 if w.chance(0.25) else w.randint(1, 9)
                    variants.append(
                        {
                            "id": f"{pid}-{colour.lower()}-{re.sub('[^a-z0-9]', '', size.lower())}",
                            "product": pid,
                            "colour": colour,
                            "size": size,
                            "stock": stock,
                        }
                    )
    return products, variants


def _coupons(w: WorldRandom, today: str) -> list[dict]:
    """One coupon of each kind: a percentage over a minimum spend, a percentage on one
    category, a fixed amount over a minimum spend, and an expired one."""
    category = w.choice(sorted(CATEGORIES))
    percent, category_percent = w.choice((10, 15)), w.choice((20, 25))
    fixed, fixed_min = w.choice((15_00, 20_00, 25_00)), w.choice((120_00, 150_00))
    expired = w.choice((30, 35, 40))
    out = [
        {
            "id": f"SAVE{percent}",
            "kind": "percent",
            "value": percent,
            "minimum": w.choice((80_00, 100_00)),
            "category": None,
            "expires": plus_days(today, w.randint(10, 90)),
        },
        {
            "id": f"{category.upper()}{category_percent}",
            "kind": "percent",
            "value": category_percent,
            "minimum": 0,
            "category": category,
            "expires": plus_days(today, w.randint(10, 90)),
        },
        {
            "id": f"TAKE{fixed // 100}",
            "kind": "fixed",
            "value": fixed,
            "minimum": fixed_min,
            "category": None,
            "expires": plus_days(today, w.randint(10, 90)),
        },
        {
            "id": f"SPRING{expired}",
            "kind": "percent",
            "value": expired,
            "minimum": 0,
            "category": None,
            "expires": plus_days(today, -w.randint(3, 40)),
        },
    ]
    return out


def _orders(
    w: WorldRandom,
    today: str,
    products: list[dict],
    variants: list[dict],
    address: dict,
    cards: list[str],
) -> list[dict]:
    """Past orders: delivered long ago and recently (both sides of the return window),
    shipped and still processing. Each product appears in at most one order."""
    pool = w.shuffled(products)
    by_product: dict[str, list[dict]] = {}
    for v in variants:
        by_product.setdefault(v["product"], []).append(v)
    # (status, days since placed): two delivered outside the window, three inside.
    plan = [
        ("Delivered", 75),
        ("Delivered", 52),
        ("Delivered", 22),
        ("Delivered", 12),
        ("Delivered", 6),
        ("Shipped", 3),
        ("Shipped", 2),
        ("Processing", 0),
    ]
    orders = []
    number = w.randint(40_000, 80_000)
    for status, ago in plan:
        placed = plus_days(today, -ago - w.randint(0, 4))
        lines = []
        for _ in range(w.randint(1, 3)):
            product = pool.pop()
            variant = w.choice(by_product[product["id"]])
            qty = 1 if w.chance(0.8) else 2
            lines.append(
                {
                    "variant": variant["id"],
                    "product": product["id"],
                    "name": product["name"],
                    "colour": variant["colour"],
                    "size": variant["size"],
                    "qty": qty,
                    "price": product["price"],
                }
            )
        subtotal = sum(line["price"] * line["qty"] for line in lines)
        shipping = 0 if subtotal >= 75_00 else 5_99
        shipped = status != "Processing"
        orders.append(
            {
                "id": f"W{number}",
                "placed": placed,
                "status": status,
                "items": lines,
                "subtotal": subtotal,
                "discount": 0,
                "coupon": None,
                "shipping": "Standard",
                "shipping_cost": shipping,
                "total": subtotal + shipping,
                "address": address,
                "payment": w.choice(cards),
                "carrier": w.choice(CARRIERS) if shipped else None,
                "tracking": f"1Z{w.randint(10**9, 10**10 - 1)}" if shipped else None,
                "delivered": plus_days(placed, w.randint(2, 4)) if status == "Delivered" else None,
                "expected": plus_days(today, w.randint(1, 4)) if status != "Delivered" else None,
            }
        )
        number += w.randint(3, 900)
    return orders


def _returns(w: WorldRandom, today: str, orders: list[dict]) -> list[dict]:
    """Two earlier returns: one refunded from an order outside the window, one still
    requested from an order inside it."""
    delivered = [o for o in orders if o["delivered"]]
    closed = [o for o in delivered if return_deadline(o) < today]
    open_ = [o for o in delivered if return_deadline(o) >= today]
    out = []
    number = w.randint(100, 900)
    for order, status in ((w.choice(closed), "Refunded"), (w.choice(open_), "Requested")):
        line = w.choice(order["items"])
        out.append(
            {
                "id": f"R{number}",
                "order": order["id"],
                "variant": line["variant"],
                "name": line["name"],
                "colour": line["colour"],
                "size": line["size"],
                "kind": "Refund",
                "reason": w.choice(REASONS),
                "exchange_for": None,
                "refund": line["price"] * line["qty"],
                "status": status,
            }
        )
        number += w.randint(5, 60)
    return out


def has_return(returns: list[dict], order_id: str, variant_id: str) -> str | None:
    """The open or settled return of an order line (a cancelled one does not count)."""
    for r in returns:
        if r["order"] == order_id and r["variant"] == variant_id and r["status"] != "Cancelled":
            return r["id"]
    return None


@lru_cache(maxsize=256)
def _generate(seed: int) -> dict:
    w = WorldRandom(seed, "shop")
    today = w.today("2024-03-01", 200)
    people = w.people(REVIEWERS + 1)
    customer, reviewers = people[0], people[1:]
    home = w.address()
    address = {
        "name": customer["name"],
        "street": home["street"],
        "city": home["city"],
        "state": home["state"],
        "zip": home["zip"],
    }
    saved = w.sample(CARD_POOL, 3)
    expired_at = date.fromisoformat(today).replace(day=1) - timedelta(days=1)
    cards = [
        {
            "id": saved[0][1],
            "label": saved[0][0],
            "expires": f"{w.randint(1, 12):02d}/{int(today[:4]) + w.randint(1, 4)}",
        },
        {
            "id": saved[1][1],
            "label": saved[1][0],
            "expires": f"{w.randint(1, 12):02d}/{int(today[:4]) + w.randint(1, 4)}",
        },
        {
            "id": saved[2][1],
            "label": saved[2][0],
            "expires": f"{expired_at.month:02d}/{expired_at.year}",
        },
    ]
    products, variants = _products(w)
    orders = _orders(w, today, products, variants, address, [c["label"] for c in cards[:2]])
    returns = _returns(w, today, orders)
    reviews = []
    for product in w.sample(products, 20):
        for author in w.sample(reviewers, w.randint(1, 2)):
            reviews.append(
                {
                    "id": f"r{len(reviews) + 1}",
                    "product": product["id"],
                    "author": author["name"],
                    "rating": w.randint(2, 5),
                    "title": w.sentence(2, 4).rstrip("."),
                    "text": w.sentence(6, 12),
                    "date": plus_days(today, -w.randint(5, 300)),
                }
            )
    return {
        "today": today,
        "customer": customer["name"],
        "address": address,
        "cards": cards,
        "products": products,
        "variants": variants,
        "coupons": _coupons(w, today),
        "orders": orders,
        "returns": returns,
        "reviews": reviews,
        "cart": [],
        "coupon": None,
    }
