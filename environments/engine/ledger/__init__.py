"""The `ledger` environment (ledger-v1): small-business accounting, like a simplified
QuickBooks or Xero. Invoices, bills, a bank feed to reconcile and categorise, a profit and
loss report and receivables aging, all seeded. Importing the package registers it."""

from .site import LedgerSite
from .solver import LedgerSolver
from .tasks import FAMILIES

__all__ = ["FAMILIES", "LedgerSite", "LedgerSolver"]
