"""Northwind Service Desk (`helpdesk-v1`): a ticket queue with priorities, SLAs, assignment,
macros and merges, customer records, escalation rules and a knowledge base. Written with the
authoring kit; see docs/environments.md."""

from .site import HelpdeskSite

__all__ = ["HelpdeskSite"]
