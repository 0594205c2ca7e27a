"""Demo users of the local stack, created in the Cognito user pool with real groups/attributes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

# Unit ids are "{unit type}:{Kemendagri code of the area it serves}".
GAMBIR_KELURAHAN = "kelurahan:31.71.01.1001"
SUDIN_BINA_MARGA_JAKPUS = "sudin-bina-marga:31.71"
KAMPUNG_BARU_GAMPONG = "gampong:11.71.01.2001"

ROLE_GROUPS = {
    "citizen": None,
    "official": "officials",
    "validator": "validators",
    "operator": "operators",
    "admin": "admins",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    tenant: str
    name: str
    unit: str | None = None


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("warga1.jakarta", "citizen", "jakarta", "Budi Santoso"),
    DemoUser("warga2.jakarta", "citizen", "jakarta", "Siti Rahmawati"),
    DemoUser("lurah.gambir", "official", "jakarta", "Lurah Gambir", GAMBIR_KELURAHAN),
    DemoUser(
        "sudin.binamarga.jakpus",
        "official",
        "jakarta",
        "Sudin Bina Marga Jakarta Pusat",
        SUDIN_BINA_MARGA_JAKPUS,
    ),
    DemoUser("validator.jakarta", "validator", "jakarta", "Biro Pemerintahan DKI"),
    DemoUser("operator.jakarta", "operator", "jakarta", "Operator CRM DKI"),
    DemoUser("admin.jakarta", "admin", "jakarta", "Admin CRM DKI"),
    DemoUser("warga.bandaaceh", "citizen", "banda-aceh", "Cut Nyak Meutia"),
    DemoUser(
        "keuchik.kampungbaru",
        "official",
        "banda-aceh",
        "Keuchik Kampung Baru",
        KAMPUNG_BARU_GAMPONG,
    ),
)


def demo_password() -> str:
    # Meets the pool's policy (12+ chars, upper, lower, digit); new on every start.
    return "Demo-" + secrets.token_hex(6) + "Aa1"


def create_demo_users(cognito: Any, pool_id: str, client_id: str) -> list[dict[str, Any]]:
    """Create each user with a permanent password and return it with a fresh ID token."""
    users: list[dict[str, Any]] = []
    for user in DEMO_USERS:
        password = demo_password()
        attributes = [
            {"Name": "name", "Value": user.name},
            {"Name": "email", "Value": f"{user.username}@example.org"},
            {"Name": "email_verified", "Value": "true"},
        ]
        if user.role != "citizen":
            attributes.append({"Name": "custom:tenant", "Value": user.tenant})
        if user.unit:
            attributes.append({"Name": "custom:unit", "Value": user.unit})
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=user.username,
            UserAttributes=attributes,
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=user.username, Password=password, Permanent=True
        )
        group = ROLE_GROUPS[user.role]
        if group:
            cognito.admin_add_user_to_group(
                UserPoolId=pool_id, Username=user.username, GroupName=group
            )
        users.append(
            {
                "username": user.username,
                "password": password,
                "role": user.role,
                "tenant": user.tenant,
                "unit": user.unit,
                "name": user.name,
                "id_token": id_token(cognito, client_id, user.username, password),
            }
        )
    return users


def id_token(cognito: Any, client_id: str, username: str, password: str) -> str:
    result = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(result["AuthenticationResult"]["IdToken"])
