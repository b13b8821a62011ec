"""The ticket shop environment (`tickets-v1`): search, seat maps, cart, promo codes, checkout,
orders and refunds. Importing the package registers it."""

from .site import TicketShop
from .solver import TicketsSolver
from .tasks import FAMILIES

__all__ = ["FAMILIES", "TicketShop", "TicketsSolver"]
