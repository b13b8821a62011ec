"""The shop's pages, written with the authoring kit: a faceted catalogue search, product pages
(colour and size with their stock, add to cart, reviews), the coupon offers, the cart (coupon
box), checkout (shipping, address, card), orders with tracking, returns and exchanges."""

from __future__ import annotations

from dataclasses import replace

from environments.engine.kit import (
    Column,
    ConfirmDialog,
    DataTable,
    Facet,
    FacetedSearch,
    Field,
    Filter,
    Form,
    FormError,
    KitSite,
    NavMenu,
    RowAction,
    by_id,
    error,
    long_date,
    money,
    replace_record,
    success,
)
from environments.engine.page import Element, Page
from environments.engine.registry import register

from .rules import (
    DELIVERY_DAYS,
    FREE_STANDARD_FROM,
    SHIPPING,
    address_line,
    card_expired,
    cart_lines,
    coupon_discount,
    coupon_problem,
    describe_coupon,
    item_label,
    order_total,
)
from .solver import ShopSolver
from .tasks import FAMILIES
from .world import (
    CARDS,
    COLOURS,
    REASONS,
    RETURN_DAYS,
    SIZES,
    build_world,
    has_return,
    plus_days,
    return_deadline,
)

RATINGS = ("5 stars", "4 stars", "3 stars", "2 stars", "1 star")
RETURN_KINDS = ("Refund", "Exchange")
VARIANT_LABELS = tuple(f"{c} / {s}" for c in COLOURS for s in SIZES)

SEARCH = FacetedSearch(
    "search",
    "Products",
    text_keys=("name", "brand", "category"),
    facets=(Facet("category", "Category"), Facet("brand", "Brand"), Facet("band", "Price")),
    result=lambda p: f"{p['name']} ({p['brand']}), {money(p['price'])}",
    open="open_product",
    noun="products",
)
BUY = Form(
    "buy",
    "Buy this item",
    (
        Field("colour", "Colour", "select", required=True, options=COLOURS),
        Field("size", "Size", "select", required=True, options=SIZES),
        Field("qty", "How many", "number", required=True, minimum=1, maximum=10),
    ),
    "Add to cart",
    on_submit="add_to_cart",
)
REVIEW = Form(
    "review",
    "Write a review",
    (
        Field("rating", "Rating", "select", required=True, options=RATINGS),
        Field("title", "Review title", required=True, max_length=80),
        Field("text", "Your review", required=True, max_length=500),
    ),
    "Post review",
    on_submit="post_review",
)
CART = DataTable(
    "cart",
    "Items in your cart",
    (
        Column("name", "Product"),
        Column("colour", "Colour"),
        Column("size", "Size"),
        Column("qty", "Quantity"),
        Column("price", "Price", money),
        Column("total", "Line total", money),
    ),
    actions=(RowAction("Remove", "remove_line"),),
    noun="lines",
)
COUPON = Form(
    "coupon",
    "Coupon",
    (Field("code", "Coupon code", required=True, max_length=30),),
    "Apply coupon",
    on_submit="apply_coupon",
)
CHECKOUT = Form(
    "checkout",
    "Delivery and payment",
    (
        Field("shipping", "Shipping", "select", required=True, options=tuple(SHIPPING)),
        Field("saved", "Ship to my saved address", "checkbox"),
        Field("name", "Name of recipient", max_length=80),
        Field("street", "Street", max_length=100),
        Field("city", "City", max_length=60),
        Field(
            "state",
            "State",
            pattern="[A-Z]{2}",
            pattern_message="State must be a two-letter code like OR.",
        ),
        Field("zip", "ZIP code", pattern="[0-9]{5}", pattern_message="ZIP code must be 5 digits."),
        Field("payment", "Payment method", "select", required=True, options=CARDS),
    ),
    "Place order",
    on_submit="place_order",
)
OFFERS = DataTable(
    "offers",
    "Coupons",
    (
        Column("id", "Code"),
        Column("offer", "Offer"),
        Column("condition", "Conditions"),
        Column("expires", "Valid until", long_date),
    ),
    noun="coupons",
)
ORDERS = DataTable(
    "orders",
    "Your orders",
    (
        Column("id", "Order"),
        Column("placed", "Placed", long_date),
        Column("status", "Status"),
        Column("total", "Total", money),
    ),
    filters=(Filter("status", "Status"),),
    open="open_order",
    sort=("placed", True),
    noun="orders",
)
RETURN = Form(
    "return",
    "Return request",
    (
        Field("kind", "Return type", "select", required=True, options=RETURN_KINDS),
        Field("reason", "Reason", "select", required=True, options=REASONS),
        Field("exchange", "Exchange for", "select", options=VARIANT_LABELS),
    ),
    "Submit return",
    on_submit="request_return",
)
RETURNS = DataTable(
    "returns",
    "Your returns",
    (
        Column("id", "Return"),
        Column("order", "Order"),
        Column("item", "Item"),
        Column("kind", "Type"),
        Column("refund", "Refund", money),
        Column("status", "Status"),
    ),
    actions=(RowAction("Cancel request", "ask_cancel_return"),),
    noun="returns",
)
CANCEL_RETURN = ConfirmDialog(
    "cancel_return",
    "Cancel this return?",
    on_confirm="cancel_return",
    confirm="Cancel the return",
    cancel="Keep the return",
)
TITLES = {
    "shop": "Shop",
    "offers": "Offers",
    "cart": "Cart",
    "checkout": "Checkout",
    "orders": "My orders",
    "returns": "Returns",
    "product": "Product",
    "order": "Order details",
    "return": "Return or exchange",
}


def narrowed(form: Form, **options: tuple[str, ...]) -> Form:
    """The form as one record shows it: its selects offer only that record's options (the
    declared options still bound what a submit accepts)."""
    fields = tuple(
        replace(f, options=options[f.name]) if f.name in options else f for f in form.fields
    )
    return replace(form, fields=fields)


def table(name: str, header: list[str], rows: list[list[str | Element]]) -> Element:
    """A plain table: a header row, then cells (text, or an element such as a button)."""
    out = [Element("row", children=[Element("cell", h) for h in header])]
    for row in rows:
        cells = [c if isinstance(c, Element) else Element("cell", c) for c in row]
        out.append(Element("row", children=cells))
    return Element("table", name, children=out)


def variant_of(state: dict, product_id: str, colour: str, size: str) -> dict | None:
    for v in state["variants"]:
        if v["product"] == product_id and v["colour"] == colour and v["size"] == size:
            return v
    return None


def stock_text(stock: int) -> str:
    return "Out of stock" if stock == 0 else f"In stock ({stock})"


@register
class ShopSite(KitSite):
    """Outfitters: an online clothing shop, one catalogue and customer account per seed."""

    env_id = "shop"
    version = 1
    title = "Outfitters shop"
    start_page = "shop"
    navigation = ("shop", "offers", "cart", "checkout", "orders", "returns")
    menu = NavMenu(
        (
            ("Shop", "shop"),
            ("Offers", "offers"),
            ("Cart", "cart"),
            ("Checkout", "checkout"),
            ("My orders", "orders"),
            ("Returns", "returns"),
        )
    )
    parts = (
        SEARCH,
        BUY,
        REVIEW,
        CART,
        COUPON,
        CHECKOUT,
        OFFERS,
        ORDERS,
        RETURN,
        RETURNS,
        CANCEL_RETURN,
    )
    families = FAMILIES
    # Test-split only (see splits.py): an evaluation reports these beside the trained ones.
    heldout_families = ("exchange_item",)
    heldout_variants = ("mixed",)
    solver = ShopSolver

    def build_world(self, seed: int) -> dict:
        return {**build_world(seed), "open": None, "line": None}

    def build_page(self, state: dict) -> Page:
        name = state["page"]
        body = getattr(self, f"_page_{name}")(state)
        return self.layout(state, TITLES[name], body)

    # Pages ----------------------------------------------------------------------------------

    def _page_shop(self, state: dict) -> list[Element]:
        return SEARCH.render(state, state["products"])

    def _page_product(self, state: dict) -> list[Element]:
        product = by_id(state["products"], state["open"])
        variants = [v for v in state["variants"] if v["product"] == product["id"]]
        out = [
            Element("heading", product["name"]),
            Element("text", f"Brand: {product['brand']}. Category: {product['category']}."),
            Element("text", f"Price: {money(product['price'])}"),
            Element("text", product["description"]),
            table(
                "Availability",
                ["Colour", "Size", "Stock"],
                [[v["colour"], v["size"], stock_text(v["stock"])] for v in variants],
            ),
            narrowed(BUY, colour=tuple(product["colours"]), size=tuple(product["sizes"])).render(
                state
            ),
        ]
        reviews = [r for r in state["reviews"] if r["product"] == product["id"]]
        items = [
            Element(
                "listitem",
                f"{r['rating']} out of 5: {r['title']}. {r['text']} "
                f"({r['author']}, {long_date(r['date'])})",
            )
            for r in reviews
        ]
        if reviews:
            average = sum(r["rating"] for r in reviews) / len(reviews)
            plural = "s" if len(reviews) != 1 else ""
            summary = f"{len(reviews)} review{plural}, average {average:.1f} out of 5"
        else:
            summary = "No reviews yet."
        out.append(
            Element(
                "section",
                "Reviews",
                children=[Element("text", summary), Element("list", children=items)],
            )
        )
        out.append(REVIEW.render(state))
        return out

    def _page_offers(self, state: dict) -> list[Element]:
        records = []
        for c in state["coupons"]:
            condition = f"Subtotal of {money(c['minimum'])} or more" if c["minimum"] else "None"
            records.append(
                {
                    "id": c["id"],
                    "offer": describe_coupon(c),
                    "condition": condition,
                    "expires": c["expires"],
                }
            )
        return [
            Element("text", "Enter a code in your cart. One coupon per order."),
            *OFFERS.render(state, records),
        ]

    def _totals(self, state: dict, lines: list[dict]) -> list[Element]:
        out = [Element("text", f"Subtotal: {money(sum(ln['price'] * ln['qty'] for ln in lines))}")]
        code = state["coupon"]
        if code is not None:
            coupon = by_id(state["coupons"], code)
            problem = coupon_problem(coupon, lines, state["today"])
            if problem is None:
                out.append(
                    Element(
                        "text",
                        f"Coupon {code} ({describe_coupon(coupon)}): "
                        f"-{money(coupon_discount(coupon, lines))}",
                    )
                )
            else:
                out.append(Element("text", f"Coupon {code} no longer applies: {problem}"))
        return out

    def _page_cart(self, state: dict) -> list[Element]:
        lines = cart_lines(state)
        if not lines:
            return [Element("text", "Your cart is empty."), COUPON.render(state)]
        records = [{**ln, "id": ln["variant"], "total": ln["price"] * ln["qty"]} for ln in lines]
        out = [*CART.render(state, records), *self._totals(state, lines)]
        if state["coupon"] is not None:
            out.append(Element("button", "Remove coupon", key="remove_coupon"))
        out.append(COUPON.render(state))
        out.append(Element("button", "Checkout", key="checkout"))
        return out

    def _page_checkout(self, state: dict) -> list[Element]:
        lines = cart_lines(state)
        if not lines:
            return [Element("text", "Your cart is empty. Add items in the shop first.")]
        items = [
            Element(
                "listitem",
                f"{item_label(ln)}: {money(ln['price'] * ln['qty'])}",
            )
            for ln in lines
        ]
        options = [
            Element(
                "listitem",
                f"{name}: {money(price)}, {when}"
                + (
                    f"; free on orders of {money(FREE_STANDARD_FROM)} or more after discounts"
                    if name == "Standard"
                    else ""
                ),
            )
            for name, (price, when) in SHIPPING.items()
        ]
        cards = tuple(c["label"] for c in state["cards"])
        return [
            Element("list", "Order summary", children=items),
            *self._totals(state, lines),
            Element("list", "Shipping options", children=options),
            Element(
                "text",
                f"Saved address: {address_line(state['address'])}",
            ),
            narrowed(CHECKOUT, payment=cards).render(state),
        ]

    def _page_orders(self, state: dict) -> list[Element]:
        return ORDERS.render(state, state["orders"])

    def _page_order(self, state: dict) -> list[Element]:
        order = by_id(state["orders"], state["open"])
        out = [
            Element("heading", f"Order {order['id']}"),
            Element("text", f"Placed on {long_date(order['placed'])}. Status: {order['status']}."),
        ]
        if order["carrier"]:
            out.append(
                Element(
                    "text", f"Shipped with {order['carrier']}, tracking number {order['tracking']}."
                )
            )
        else:
            out.append(Element("text", "Not shipped yet."))
        deadline = return_deadline(order)
        if deadline is None:
            out.append(
                Element(
                    "text",
                    f"Expected by {long_date(order['expected'])}. Items can be returned within "
                    f"{RETURN_DAYS} days of delivery.",
                )
            )
        else:
            out.append(Element("text", f"Delivered on {long_date(order['delivered'])}."))
            if deadline >= state["today"]:
                out.append(Element("text", f"Items can be returned until {long_date(deadline)}."))
            else:
                out.append(Element("text", f"The return window closed on {long_date(deadline)}."))
        rows = []
        for line in order["items"]:
            rid = has_return(state["returns"], order["id"], line["variant"])
            if rid is not None:
                status = by_id(state["returns"], rid)["status"].lower()
                action = Element("cell", f"Return {rid} {status}")
            elif deadline is not None:
                button = Element("button", "Return or exchange", key=f"ret:{line['variant']}")
                action = Element("cell", children=[button])
            else:
                action = Element("cell", "")
            rows.append(
                [
                    line["name"],
                    line["colour"],
                    line["size"],
                    str(line["qty"]),
                    money(line["price"]),
                    action,
                ]
            )
        out.append(
            table("Items", ["Product", "Colour", "Size", "Quantity", "Price", "Actions"], rows)
        )
        out.append(
            Element(
                "text",
                f"Subtotal {money(order['subtotal'])}; discount {money(order['discount'])}; "
                f"{order['shipping']} shipping {money(order['shipping_cost'])}; "
                f"total {money(order['total'])}.",
            )
        )
        out.append(
            Element(
                "text",
                f"Paid with {order['payment']}. Ship to {address_line(order['address'])}.",
            )
        )
        return out

    def _page_return(self, state: dict) -> list[Element]:
        order = by_id(state["orders"], state["open"])
        line = next(ln for ln in order["items"] if ln["variant"] == state["line"])
        others = tuple(
            f"{v['colour']} / {v['size']}"
            for v in state["variants"]
            if v["product"] == line["product"] and v["id"] != line["variant"]
        )
        return [
            Element(
                "text",
                f"{item_label(line)} from order {order['id']}.",
            ),
            Element(
                "text",
                f"A refund would be {money(line['price'] * line['qty'])}, to {order['payment']}. "
                f"Return by {long_date(return_deadline(order))}.",
            ),
            Element("text", "For an exchange, choose the colour and size you want instead."),
            narrowed(RETURN, exchange=others).render(state),
        ]

    def _page_returns(self, state: dict) -> list[Element]:
        records = [
            {**r, "item": f"{r['name']} ({r['colour']}, {r['size']})"} for r in state["returns"]
        ]
        if not records:
            return [Element("text", "You have no returns.")]
        return RETURNS.render(state, records)

    # Handlers -------------------------------------------------------------------------------

    def on_action(self, state: dict, key: str) -> dict:
        if key == "checkout":
            return self.on_goto(state, "checkout")
        if key == "remove_coupon":
            return success({**state, "coupon": None}, "Coupon removed.")
        if key.startswith("ret:"):
            return self.start_return(state, key[4:])
        return super().on_action(state, key)

    def open_product(self, state: dict, pid: str) -> dict:
        return {**state, "page": "product", "open": pid, "form": {}, "alert": None}

    def open_order(self, state: dict, oid: str) -> dict:
        return {**state, "page": "order", "open": oid, "form": {}, "alert": None}

    def add_to_cart(self, state: dict, values: dict) -> dict:
        product = by_id(state["products"], state["open"])
        colour, size, qty = values["colour"], values["size"], values["qty"]
        variant = variant_of(state, product["id"], colour, size)
        if variant is None:
            raise FormError(
                f"The {product['name']} does not come in {colour}, size {size}.", field="colour"
            )
        if variant["stock"] == 0:
            raise FormError(
                f"{colour}, size {size} is out of stock. Choose another colour or size.",
                field="size",
            )
        held = next((ln["qty"] for ln in state["cart"] if ln["id"] == variant["id"]), 0)
        if held + qty > variant["stock"]:
            extra = f", and {held} are in your cart already" if held else ""
            raise FormError(
                f"Only {variant['stock']} left in {colour}, size {size}{extra}.", field="qty"
            )
        if held:
            cart = replace_record(state["cart"], variant["id"], qty=held + qty)
        else:
            cart = [*state["cart"], {"id": variant["id"], "qty": qty}]
        text = f"Added {qty} x {product['name']} ({colour}, {size}) to your cart."
        return success({**state, "cart": cart}, text)

    def remove_line(self, state: dict, variant_id: str) -> dict:
        cart = [ln for ln in state["cart"] if ln["id"] != variant_id]
        return success({**state, "cart": cart}, "Removed from your cart.")

    def apply_coupon(self, state: dict, values: dict) -> dict:
        code = values["code"].upper()
        coupon = next((c for c in state["coupons"] if c["id"] == code), None)
        if coupon is None:
            raise FormError(
                f"There is no coupon {code}. Check the code on the Offers page.", field="code"
            )
        lines = cart_lines(state)
        problem = coupon_problem(coupon, lines, state["today"])
        if problem is not None:
            raise FormError(problem, field="code")
        text = f"Coupon {code} applied: you save {money(coupon_discount(coupon, lines))}."
        return success({**state, "coupon": code}, text)

    def place_order(self, state: dict, values: dict) -> dict:
        lines = cart_lines(state)
        if not lines:
            raise FormError("Your cart is empty.")
        if values["saved"]:
            address = state["address"]
        else:
            address = {k: values[k] for k in ("name", "street", "city", "state", "zip")}
            labels = {
                "name": "recipient name",
                "street": "street",
                "city": "city",
                "state": "state",
                "zip": "ZIP code",
            }
            for key, label in labels.items():
                if not address[key]:
                    raise FormError(
                        f"Enter the {label}, or tick Ship to my saved address.", field=key
                    )
        card = next(c for c in state["cards"] if c["label"] == values["payment"])
        if card_expired(card, state["today"]):
            raise FormError(
                f"The {card['label']} expired at the end of {card['expires']}. "
                "Choose another card.",
                field="payment",
            )
        coupon = None
        if state["coupon"] is not None:
            coupon = by_id(state["coupons"], state["coupon"])
            problem = coupon_problem(coupon, lines, state["today"])
            if problem is not None:
                raise FormError(f"{problem} Remove the coupon or change your cart.")
        for ln in lines:
            stock = by_id(state["variants"], ln["variant"])["stock"]
            if ln["qty"] > stock:
                raise FormError(
                    f"Only {stock} left of the {ln['name']} in {ln['colour']}, size {ln['size']}."
                )
        totals = order_total(lines, coupon, values["shipping"])
        number = max(int(o["id"][1:]) for o in state["orders"]) + 1
        order = {
            "id": f"W{number}",
            "placed": state["today"],
            "status": "Processing",
            "items": [
                {k: ln[k] for k in ("variant", "product", "name", "colour", "size", "qty", "price")}
                for ln in lines
            ],
            **totals,
            "coupon": state["coupon"],
            "shipping": values["shipping"],
            "address": address,
            "payment": card["label"],
            "carrier": None,
            "tracking": None,
            "delivered": None,
            "expected": plus_days(state["today"], DELIVERY_DAYS[values["shipping"]]),
        }
        variants = state["variants"]
        for ln in lines:
            stock = by_id(variants, ln["variant"])["stock"]
            variants = replace_record(variants, ln["variant"], stock=stock - ln["qty"])
        new = {
            **state,
            "orders": [*state["orders"], order],
            "variants": variants,
            "cart": [],
            "coupon": None,
        }
        new = {**new, "page": "order", "open": order["id"], "form": {}}
        return success(new, f"Order {order['id']} placed. Total {money(order['total'])}.")

    def start_return(self, state: dict, variant_id: str) -> dict:
        order = by_id(state["orders"], state["open"])
        deadline = return_deadline(order)
        if deadline is not None and deadline < state["today"]:
            return error(
                state,
                f"The return window for this order closed on {long_date(deadline)} "
                f"({RETURN_DAYS} days after delivery).",
            )
        return {**state, "page": "return", "line": variant_id, "form": {}, "alert": None}

    def request_return(self, state: dict, values: dict) -> dict:
        order = by_id(state["orders"], state["open"])
        line = next(ln for ln in order["items"] if ln["variant"] == state["line"])
        if has_return(state["returns"], order["id"], line["variant"]) is not None:
            raise FormError("This item has a return already.")
        deadline = return_deadline(order)
        if deadline < state["today"]:
            raise FormError(f"The return window for this order closed on {long_date(deadline)}.")
        variants, exchange_for = state["variants"], None
        if values["kind"] == "Exchange":
            if values["exchange"] is None:
                raise FormError("Choose the colour and size to exchange for.", field="exchange")
            colour, size = values["exchange"].split(" / ")
            wanted = variant_of(state, line["product"], colour, size)
            if wanted is None or wanted["id"] == line["variant"]:
                raise FormError(
                    f"The {line['name']} cannot be exchanged for {colour}, size {size}.",
                    field="exchange",
                )
            if wanted["stock"] < line["qty"]:
                raise FormError(
                    f"{colour}, size {size} is out of stock; choose another colour or size.",
                    field="exchange",
                )
            exchange_for = wanted["id"]
            variants = replace_record(variants, wanted["id"], stock=wanted["stock"] - line["qty"])
        refund = line["price"] * line["qty"] if values["kind"] == "Refund" else 0
        record = {
            "id": f"R{max((int(r['id'][1:]) for r in state['returns']), default=100) + 1}",
            "order": order["id"],
            "variant": line["variant"],
            "name": line["name"],
            "colour": line["colour"],
            "size": line["size"],
            "kind": values["kind"],
            "reason": values["reason"],
            "exchange_for": exchange_for,
            "refund": refund,
            "status": "Requested",
        }
        new = {
            **state,
            "returns": [*state["returns"], record],
            "variants": variants,
            "page": "returns",
            "line": None,
        }
        if refund:
            text = (
                f"Return {record['id']} requested: {money(refund)} will be refunded to "
                f"{order['payment']}."
            )
        else:
            text = (
                f"Exchange {record['id']} requested: we will send {values['exchange']} when "
                "your item arrives."
            )
        return success(new, text)

    def post_review(self, state: dict, values: dict) -> dict:
        product = by_id(state["products"], state["open"])
        bought = any(ln["product"] == product["id"] for o in state["orders"] for ln in o["items"])
        if not bought:
            raise FormError(
                "You can review only products you have bought; this one is not in your orders."
            )
        if any(
            r["product"] == product["id"] and r["author"] == state["customer"]
            for r in state["reviews"]
        ):
            raise FormError(f"You have reviewed the {product['name']} already.")
        review = {
            "id": f"r{len(state['reviews']) + 1}",
            "product": product["id"],
            "author": state["customer"],
            "rating": int(values["rating"][0]),
            "title": values["title"],
            "text": values["text"],
            "date": state["today"],
        }
        text = f"Thank you: your review of the {product['name']} is posted."
        return success({**state, "reviews": [*state["reviews"], review]}, text)

    def ask_cancel_return(self, state: dict, rid: str) -> dict:
        r = by_id(state["returns"], rid)
        text = f"Cancel return {rid} of the {r['name']}? You keep the item."
        return CANCEL_RETURN.open(state, text, {"id": rid})

    def cancel_return(self, state: dict, payload: dict) -> dict:
        r = by_id(state["returns"], payload["id"])
        if r["status"] != "Requested":
            raise FormError(
                f"Return {r['id']} is {r['status'].lower()}; only a requested return can be "
                "cancelled."
            )
        variants = state["variants"]
        if r["exchange_for"] is not None:  # the item held for the exchange goes back on sale
            held = by_id(variants, r["exchange_for"])
            qty = next(
                ln["qty"]
                for ln in by_id(state["orders"], r["order"])["items"]
                if ln["variant"] == r["variant"]
            )
            variants = replace_record(variants, held["id"], stock=held["stock"] + qty)
        returns = replace_record(state["returns"], r["id"], status="Cancelled")
        new = {**state, "returns": returns, "variants": variants}
        return success(new, f"Return {r['id']} is cancelled.")
