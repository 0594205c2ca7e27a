"""ID tokens from moto's Cognito verified exactly as on AWS: JWKS over HTTP, RS256, iss/aud/exp."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from importlib import resources
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.adapters.cognito import CognitoTokenVerifier, issuer_for
from chalicelib.domain.errors import NotAuthenticated, Unavailable
from chalicelib.domain.identity import Role, principal_from_claims
from tests.adapters.conftest import REGION, AwsStack

PASSWORD = "Sandi-Rahasia-123"


def moto_private_key() -> Any:
    """The key moto signs every pool's tokens with (its JWKS publishes the public half)."""
    packed = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz")
    return jwt.PyJWK(json.loads(gzip.decompress(packed.read_bytes()))).key


@pytest.fixture(scope="module")
def pool(aws_stack: AwsStack) -> dict[str, str]:
    return {
        "id": aws_stack.outputs["UserPoolId"],
        "client": aws_stack.outputs["UserPoolClientId"],
        "issuer": issuer_for(REGION, aws_stack.outputs["UserPoolId"]),
    }


@pytest.fixture
def verifier(aws_stack: AwsStack, pool: dict[str, str]) -> CognitoTokenVerifier:
    return CognitoTokenVerifier(
        issuer=pool["issuer"],
        client_id=pool["client"],
        jwks_url=f"{aws_stack.endpoint}/{pool['id']}/.well-known/jwks.json",
    )


def sign_in(aws_stack: AwsStack, pool: dict[str, str], **attributes: str) -> dict[str, str]:
    cognito = aws_stack.client("cognito-idp")
    username = f"user-{uuid.uuid4().hex[:8]}"
    groups = attributes.pop("groups", "")
    cognito.admin_create_user(
        UserPoolId=pool["id"],
        Username=username,
        UserAttributes=[
            {"Name": k.replace("_", ":", 1), "Value": v} for k, v in attributes.items()
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool["id"], Username=username, Password=PASSWORD, Permanent=True
    )
    for group in filter(None, groups.split(",")):
        cognito.admin_add_user_to_group(UserPoolId=pool["id"], Username=username, GroupName=group)
    result = cognito.initiate_auth(
        ClientId=pool["client"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {"id": result["IdToken"], "access": result["AccessToken"], "username": username}


def forged(pool: dict[str, str], key: Any = None, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": str(uuid.uuid4()),
        "iss": pool["issuer"],
        "aud": pool["client"],
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        **overrides,
    }
    return jwt.encode(
        claims, key or moto_private_key(), algorithm="RS256", headers={"kid": "dummy"}
    )


def test_official_token_verifies_to_an_official_of_their_unit(
    verifier: CognitoTokenVerifier, aws_stack: AwsStack, pool: dict[str, str]
) -> None:
    tokens = sign_in(
        aws_stack,
        pool,
        custom_tenant="jakarta",
        custom_unit="kelurahan:31.71.01.1001",
        groups="officials",
    )

    principal = principal_from_claims(verifier.verify(tokens["id"]))

    assert principal.username == tokens["username"]
    assert Role.OFFICIAL in principal.roles
    assert principal.tenant == "jakarta"
    assert principal.unit == "kelurahan:31.71.01.1001"


def test_citizen_token_verifies_to_a_citizen_only(
    verifier: CognitoTokenVerifier, aws_stack: AwsStack, pool: dict[str, str]
) -> None:
    tokens = sign_in(aws_stack, pool)

    principal = principal_from_claims(verifier.verify(tokens["id"]))

    assert principal.roles == {Role.CITIZEN}


def test_access_token_is_not_accepted_in_place_of_an_id_token(
    verifier: CognitoTokenVerifier, aws_stack: AwsStack, pool: dict[str, str]
) -> None:
    tokens = sign_in(aws_stack, pool)

    with pytest.raises(NotAuthenticated):
        verifier.verify(tokens["access"])


def test_tampered_token_is_rejected(
    verifier: CognitoTokenVerifier, aws_stack: AwsStack, pool: dict[str, str]
) -> None:
    header, payload, signature = sign_in(aws_stack, pool)["id"].split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["cognito:groups"] = ["admins"]
    claims["custom:tenant"] = "jakarta"
    evil = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()

    with pytest.raises(NotAuthenticated):
        verifier.verify(f"{header}.{evil}.{signature}")


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": int(time.time()) - 120}, "token_expired"),
        ({"aud": "another-app-client"}, "invalid_token"),
        (
            {"iss": "https://cognito-idp.ap-southeast-3.amazonaws.com/ap-southeast-3_other"},
            "invalid_token",
        ),
        ({"token_use": "access"}, "invalid_token"),
    ],
)
def test_token_with_wrong_claims_is_rejected(
    verifier: CognitoTokenVerifier, pool: dict[str, str], overrides: dict[str, Any], code: str
) -> None:
    token = forged(pool, **overrides)

    with pytest.raises(NotAuthenticated) as error:
        verifier.verify(token)

    assert error.value.code == code


def test_correctly_forged_token_passes_so_the_negative_cases_mean_something(
    verifier: CognitoTokenVerifier, pool: dict[str, str]
) -> None:
    assert verifier.verify(forged(pool))["token_use"] == "id"


def test_token_signed_with_another_key_is_rejected(
    verifier: CognitoTokenVerifier, pool: dict[str, str]
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(NotAuthenticated):
        verifier.verify(forged(pool, key=other))


def test_unsigned_token_is_rejected(verifier: CognitoTokenVerifier, pool: dict[str, str]) -> None:
    token = jwt.encode(
        {"sub": "x", "iss": pool["issuer"], "aud": pool["client"], "token_use": "id"},
        key=None,
        algorithm="none",
        headers={"kid": "dummy"},
    )

    with pytest.raises(NotAuthenticated):
        verifier.verify(token)


def test_unreachable_jwks_is_a_retryable_outage_not_a_bad_token(pool: dict[str, str]) -> None:
    verifier = CognitoTokenVerifier(
        issuer=pool["issuer"], client_id=pool["client"], jwks_url="http://127.0.0.1:9/jwks.json"
    )

    with pytest.raises(Unavailable):
        verifier.verify(forged(pool))
