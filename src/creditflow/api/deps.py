"""Authentication and role checks as FastAPI dependencies.

Why dependencies: a route states who may call it in its signature (`StaffDep`,
`ApplicantDep`, `require_roles(...)`), the check cannot be forgotten inside the handler body,
and tests can override it. The token service is taken from `request.app.state.tokens`, put
there by the app factory, so nothing is built at import time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from creditflow.api.problems import ProblemError
from creditflow.security.tokens import STAFF_ROLES, InvalidToken, Principal, Role, TokenService

REALM = "creditflow"


def unauthorized(detail: str, error: str | None = "invalid_token") -> ProblemError:
    challenge = f'Bearer realm="{REALM}"'
    if error:
        # RFC 6750 §3: the error description must not contain a quote; our messages have none.
        challenge += f', error="{error}", error_description="{detail}"'
    return ProblemError(401, "Unauthorized", detail, headers={"WWW-Authenticate": challenge})


def bearer_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer <token>`, or None when the header is absent."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("expected Authorization: Bearer <token>", error="invalid_request")
    return token.strip()


def get_principal(request: Request) -> Principal:
    """The verified caller; 401 problem+json (with WWW-Authenticate) otherwise."""
    token = bearer_token(request)
    if token is None:
        raise unauthorized("authentication required", error=None)
    tokens: TokenService = request.app.state.tokens
    try:
        return tokens.verify(token)
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from None


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role | str) -> Callable[[Principal], Awaitable[Principal]]:
    """Dependency factory: the caller if their role is one of `roles`, else 403 problem."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("require_roles needs at least one role")

    async def _check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise ProblemError(
                403,
                "Forbidden",
                f"role {principal.role!r} may not do this; allowed: {', '.join(sorted(allowed))}",
            )
        return principal

    return _check


StaffDep = Annotated[Principal, Depends(require_roles(*sorted(STAFF_ROLES)))]
ApplicantDep = Annotated[Principal, Depends(require_roles("applicant"))]
