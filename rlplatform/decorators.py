from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def role_required(*roles: str) -> Callable:
    """A page for people with one of `roles`; admins may open every page. Anonymous visitors
    are sent to sign in; signed-in people without the role get 403."""

    def decorator(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not (request.user.is_admin or request.user.role in roles):
                raise PermissionDenied(
                    f"This page is for {' or '.join(roles) if roles else 'admin'}s only."
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


admin_required = role_required()
