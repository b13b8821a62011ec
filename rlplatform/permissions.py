"""Who may call an endpoint. People are checked by role, programs by their key's scopes: a key
never borrows its owner's role. Admins (people) may do everything."""

from rest_framework.permissions import BasePermission

from rlplatform.models import ApiKey


def allow(
    *, roles: tuple[str, ...] = (), scopes: tuple[str, ...] = (), people: bool = True
) -> type[BasePermission]:
    """A permission class admitting people with one of `roles` (and admins) and API keys with
    one of `scopes`. With `people=False` no person is admitted, not even an admin: for
    endpoints that act as the key itself."""

    class Allowed(BasePermission):
        def has_permission(self, request, view) -> bool:
            if isinstance(request.auth, ApiKey):
                if any(scope in request.auth.scopes for scope in scopes):
                    return True
                named = " or ".join(f"'{scope}'" for scope in scopes)
                self.message = (
                    f"this API key needs the {named} scope"
                    if scopes
                    else "API keys cannot use this endpoint; sign in as a person"
                )
                return False
            user = request.user
            if not user or not user.is_authenticated:
                return False
            if not people:
                named = " or ".join(f"'{scope}'" for scope in scopes)
                self.message = f"this endpoint is for API keys with the {named} scope"
                return False
            if user.is_admin or user.role in roles:
                return True
            self.message = (
                f"your role ({user.role}) cannot do this; it needs {' or '.join(roles) or 'admin'}"
            )
            return False

    Allowed.__name__ = f"Allow_{'_'.join(roles + scopes) or 'admin'}"
    return Allowed
