"""The built-in bank environment ("bank-v1"): pages in site.py, data in world.py, tasks in
families.py, the scripted solver in solver.py."""

from .families import FAMILIES
from .site import BankSite
from .solver import BankSolver

__all__ = ["FAMILIES", "BankSite", "BankSolver"]
