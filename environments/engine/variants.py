"""UI variants: the same state rendered with other wording, another layout, or the distractors
a real site has, so that an evaluation can tell a learned task from a memorised page.

A variant is chosen at reset (`env.reset(seed, task, variant="wording")`, or the task's own
`variant`) and kept in the state under "variant" (left out for "default", whose pages are the
environment's own, byte for byte). Variants change pages only: the state machine, the actions'
meaning and the verifier are the same in every variant. The distractors' own clicks (accepting
cookies, dismissing an offer) are handled here and touch only `state["dismissed"]`.

- `default`: nothing changes;
- `wording`: labels of buttons, links, fields, forms, menus and headings (`WORDING`);
- `layout`: a breadcrumb leads, the content sits in a "Main content" section and the menu
  follows it as a list;
- `distractors`: a cookie banner, a promotional dialog from the third step on (both can be
  dismissed) and footer links;
- `mixed`: all three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .page import Element, Page

if TYPE_CHECKING:
    from .base import Environment

DEFAULT = "default"
VARIANTS = ("default", "wording", "layout", "distractors", "mixed")
PARTS = {
    "default": (),
    "wording": ("wording",),
    "layout": ("layout",),
    "distractors": ("distractors",),
    "mixed": ("wording", "layout", "distractors"),
}
# The `key` prefix of the elements this module adds; their clicks never reach the environment.
KEY_PREFIX = "variant:"
REWORDED_ROLES = frozenset(
    {"button", "link", "textbox", "number", "select", "checkbox", "heading", "form", "navigation"}
)

# Canonical label -> the label the `wording` variant shows. No alternative is itself a
# canonical label, so `canonical_page` can read a reworded page back (tests check it).
WORDING = {
    # menus
    "Accounts": "My accounts",
    "Activity": "Account history",
    "Transfers": "Move money",
    "Payees": "Recipients",
    "Bill pay": "Pay bills",
    "Cards": "Card services",
    "Statements": "Documents",
    "Dashboard": "Overview",
    "Invoices": "Sales",
    "Bills": "Purchases",
    "Bank feed": "Bank transactions",
    "Categorise spending": "Sort expenses",
    "Profit and loss": "Income statement",
    "AR aging": "Receivables by age",
    "Customers & vendors": "Contacts",
    "Chart of accounts": "Account list",
    "Cart": "Basket",
    "My orders": "Bookings",
    # shared
    "Main menu": "Site navigation",
    "Sign in": "Log in",
    "Sign out": "Log out",
    "Username": "User ID",
    "Next page": "Next",
    "Previous page": "Previous",
    "Apply filters": "Update results",
    "Apply filter": "Filter results",
    "Apply": "Go",
    "Clear filters": "Reset all filters",
    "Clear filter": "Reset filter",
    "Search": "Find",
    "Cancel": "Go back",
    "Email": "Email address",
    "Reason": "Why?",
    "Month": "Which month",
    "Amount": "Amount (USD)",
    # bank
    "Forgot your password?": "Trouble signing in?",
    "Review transfer": "Continue to review",
    "Confirm transfer": "Send the transfer",
    "Edit transfer": "Change details",
    "Schedule payment": "Set up payment",
    "Cancel payment": "Stop this payment",
    "Add payee": "Save payee",
    "Payee name": "Recipient name",
    "Save limits": "Update limits",
    "Freeze card": "Lock card",
    "Submit dispute": "File the dispute",
    "Dispute": "Report a problem",
    "Search description": "Description contains",
    "Memo (optional)": "Note (optional)",
    "Back to statements": "All statements",
    # tickets
    "Find events": "Browse events",
    "Find more events": "Browse more events",
    "Add to cart": "Add to basket",
    "Checkout": "Proceed to checkout",
    "Place order": "Buy now",
    "Empty cart": "Clear basket",
    "Continue shopping": "Keep browsing",
    "Choose seats": "Pick your seats",
    "Best available": "Best seats for me",
    "Cancel order": "Request a cancellation",
    "Confirm cancellation": "Yes, cancel it",
    "Keep my order": "No, keep it",
    "Full name": "Name on the tickets",
    "Confirm email": "Repeat email address",
    "Remove promo code": "Remove the discount",
    "View order": "See order",
    "Quantity": "Number of tickets",
    "Section": "Seating area",
    "Payment method": "Pay with",
    "City": "Location",
    "Back to orders": "All orders",
    "Back to results": "Results",
    "Back to event": "Event details",
    "Back to cart": "Your basket",
    # ledger
    "New invoice": "Start an invoice",
    "New bill": "Enter a bill",
    "Save and send": "Send now",
    "Save as draft": "Keep as draft",
    "Mark as sent": "Set status to sent",
    "Save bill": "Store the bill",
    "Add line": "Add another line",
    "Match": "Link",
    "Unmatch": "Unlink",
    "Categorise": "Assign category",
    "Uncategorise": "Clear category",
    "Categorise selected": "Assign category to selected",
    "Run report": "Generate report",
    "Show lines": "Expand lines",
    "Payee contains": "Payee includes",
    "From date (YYYY-MM-DD)": "Start date (YYYY-MM-DD)",
    "To date (YYYY-MM-DD)": "End date (YYYY-MM-DD)",
    "View these transactions": "See these transactions",
    "Back to invoices": "All invoices",
    "Back to bank feed": "Return to the bank feed",
}
CANONICAL = {alternative: label for label, alternative in WORDING.items()}

FOOTER_LINKS = ("Help centre", "Privacy", "Accessibility", "Careers", "Contact us")
COOKIE_BUTTONS = {"Accept all cookies": "cookies", "Reject optional cookies": "cookies"}
PROMO_BUTTONS = {"No thanks": "promo"}
PROMO_FROM_STEP = 2


def check_variant(variant: str) -> str:
    if variant not in VARIANTS:
        raise ValueError(f"unknown UI variant {variant!r}; variants: {', '.join(VARIANTS)}")
    return variant


def apply_variant(env: Environment, state: dict, page: Page) -> Page:
    """The page as the state's variant shows it (the page itself when default)."""
    parts = PARTS[state.get("variant", DEFAULT)]
    if not parts:
        return page
    # `page` was just built for this render and is not kept: its elements are reworded and
    # rearranged in place (build_page must return new elements each call).
    elements = page.elements
    if "wording" in parts:
        for root in elements:
            for el in root.iter():
                if el.role in REWORDED_ROLES and el.name in WORDING:
                    el.name = WORDING[el.name]
    if "layout" in parts:
        elements = _relayout(elements)
    if "distractors" in parts:
        elements = _distract(env, state, elements)
    return Page(page.title, page.url, elements)


def on_click(state: dict, element: Element) -> dict:
    """A click on a distractor: dismissing one records it; links lead nowhere in the episode."""
    what = element.key[len(KEY_PREFIX) :]
    if what in ("cookies", "promo"):
        return {**state, "dismissed": sorted({*state.get("dismissed", []), what})}
    return dict(state)


def canonical_page(page: Page) -> Page:
    """The page with reworded labels read back to the canonical ones, bids unchanged: how the
    scripted solvers stay indifferent to wording (as a reader knows "Log in" is "Sign in")."""
    if not any(el.name in CANONICAL and el.role in REWORDED_ROLES for el in page.iter()):
        return page
    elements = [_copy(el) for el in page.elements]
    for root in elements:
        for el in root.iter():
            if el.role in REWORDED_ROLES and el.name in CANONICAL:
                el.name = CANONICAL[el.name]
    return Page(page.title, page.url, elements)


def _copy(el: Element) -> Element:
    return Element(
        el.role,
        el.name,
        el.value,
        [_copy(c) for c in el.children],
        list(el.options),
        el.checked,
        el.disabled,
        el.required,
        el.key,
    )


def _relayout(elements: list[Element]) -> list[Element]:
    menus = [el for el in elements if el.role == "navigation"]
    content = [el for el in elements if el.role != "navigation"]
    heading = next((el.name for el in content if el.role == "heading"), "")
    crumbs = Element("navigation", "Breadcrumb", children=[Element("text", f"Home / {heading}")])
    out = [crumbs, Element("section", "Main content", children=content)]
    for menu in menus:
        items = [Element("listitem", children=[child]) for child in menu.children]
        out.append(Element("navigation", menu.name, children=[Element("list", children=items)]))
    return out


def _distract(env: Environment, state: dict, elements: list[Element]) -> list[Element]:
    dismissed = state.get("dismissed", [])
    site = env.title or env.env_id
    out = []
    if "cookies" not in dismissed:
        buttons = [
            Element("button", label, key=KEY_PREFIX + k) for label, k in COOKIE_BUTTONS.items()
        ]
        text = Element("text", f"{site} uses cookies to remember your settings and measure visits.")
        out.append(Element("section", "Cookie preferences", children=[text, *buttons]))
    if "promo" not in dismissed and state["steps"] >= PROMO_FROM_STEP:
        offer = f"Limited time: members of {site} Plus get priority support and no fees."
        children = [
            Element("text", offer),
            Element("link", "Learn more", key=KEY_PREFIX + "learn_more"),
            *(Element("button", label, key=KEY_PREFIX + k) for label, k in PROMO_BUTTONS.items()),
        ]
        out.append(Element("section", "Special offer", children=children))
    out.extend(elements)
    links = [Element("link", label, key=KEY_PREFIX + "footer") for label in FOOTER_LINKS]
    out.append(Element("navigation", "Footer", children=links))
    return out
