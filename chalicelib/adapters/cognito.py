"""Cognito ID-token verification, identical on AWS and in the local stack (moto serves a JWKS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt

from chalicelib.domain.errors import NotAuthenticated, Unavailable

# Cognito signs with RS256 only; accepting anything else invites algorithm-confusion attacks.
ALGORITHMS = ["RS256"]


def issuer_for(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


class CognitoTokenVerifier:
    def __init__(
        self,
        *,
        issuer: str,
        client_id: str,
        jwks_url: str | None = None,
        leeway_seconds: int = 30,
    ) -> None:
        self._issuer = issuer
        self._client_id = client_id
        # Keys are cached per container; a token with an unknown kid triggers one refetch.
        self._jwks = jwt.PyJWKClient(
            jwks_url or f"{issuer}/.well-known/jwks.json", cache_keys=True, lifespan=3600
        )
        self._leeway = leeway_seconds

    def verify(self, token: str) -> Mapping[str, Any]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable("cannot verify tokens right now; try again") from exc
        except jwt.PyJWKClientError as exc:
            raise NotAuthenticated("token signed by an unknown key", code="invalid_token") from exc
        except jwt.InvalidTokenError as exc:
            raise NotAuthenticated("token is not a JWT", code="invalid_token") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self._client_id,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "iss", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("token has expired", code="token_expired") from exc
        except jwt.InvalidTokenError as exc:
            raise NotAuthenticated(f"invalid token: {exc}", code="invalid_token") from exc
        if claims.get("token_use") != "id":
            raise NotAuthenticated("an ID token is required", code="invalid_token")
        return claims
