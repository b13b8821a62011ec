"""API key authentication: `Authorization: Bearer rlp_<prefix>_<secret>`."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from rlplatform.models import ApiKey, User
from rlplatform.requests import client_ip
from rlplatform.services import ApiKeyRejected, api_key_verify


def request_key(request: Request) -> ApiKey | None:
    """The API key a request came with, or None for a person's session."""
    return request.auth if isinstance(request.auth, ApiKey) else None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates a program by its API key. The request's user is the key's owner and
    `request.auth` the key, whose scopes (not the owner's role) decide what it may do."""

    keyword = "bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer <key>' with no spaces in the key."
            )
        try:
            presented = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("malformed API key") from None
        try:
            key = api_key_verify(presented=presented, ip_address=client_ip(request))
        except ApiKeyRejected as rejected:
            raise exceptions.AuthenticationFailed(str(rejected)) from None
        return key.owner, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "rlplatform.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key created by an admin: `Authorization: Bearer rlp_...`.",
        }
