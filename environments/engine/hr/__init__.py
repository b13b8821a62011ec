"""hr-v1, an enterprise HR portal: employee directory, time off with balances, policy and
approvals by role, expense reports with receipts and policy limits, payroll corrections.
Written with the authoring kit; see docs/environments.md."""

from .site import HrSite

__all__ = ["HrSite"]
