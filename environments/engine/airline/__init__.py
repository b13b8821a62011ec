"""Skyway Airlines (`airline-v1`): flight search with connections, fare classes and their
rules, bookings for several passengers with seats and bags, changes, cancellations, refunds and
travel credits. Written with the authoring kit; see docs/environments.md."""

from .site import AirlineSite

__all__ = ["AirlineSite"]
