"""Enterprise HR portal: contacts to list, search, add, edit and archive. Laid out by `manage.py startenv`
from the authoring kit's template; see docs/environments.md."""

from .site import HrSite

__all__ = ["HrSite"]
