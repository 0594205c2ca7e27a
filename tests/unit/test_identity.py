"""Who the caller is: roles from Cognito groups, bound to one tenant (and unit, for officials)."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.identity import Principal, Role, principal_from_claims


def claims(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sub": "a1b2c3", "cognito:username": "siti"}
    base.update(extra)
    return base


def test_plain_signed_in_user_is_only_a_citizen() -> None:
    principal = principal_from_claims(claims())

    assert principal.roles == {Role.CITIZEN}
    assert principal.subject == "a1b2c3"
    assert principal.username == "siti"
    assert principal.tenant is None
    assert principal.unit is None


def test_username_falls_back_to_subject() -> None:
    principal = principal_from_claims({"sub": "a1b2c3"})

    assert principal.username == "a1b2c3"


def test_official_bound_to_tenant_and_unit_is_an_official() -> None:
    principal = principal_from_claims(
        claims(
            **{
                "cognito:groups": ["officials"],
                "custom:tenant": "jakarta",
                "custom:unit": "kel-31.71.01.1001",
            }
        )
    )

    assert principal.roles == {Role.CITIZEN, Role.OFFICIAL}
    assert principal.tenant == "jakarta"
    assert principal.unit == "kel-31.71.01.1001"
    assert principal.has_role(Role.OFFICIAL, "jakarta")


def test_official_without_a_unit_gets_no_official_role() -> None:
    principal = principal_from_claims(
        claims(**{"cognito:groups": ["officials"], "custom:tenant": "jakarta"})
    )

    assert Role.OFFICIAL not in principal.roles
    assert principal.roles == {Role.CITIZEN}


def test_staff_group_without_a_tenant_is_only_a_citizen() -> None:
    principal = principal_from_claims(
        claims(**{"cognito:groups": ["validators", "operators", "admins"]})
    )

    assert principal.roles == {Role.CITIZEN}
    assert not principal.is_staff_of("jakarta")


def test_single_group_given_as_a_string_still_counts() -> None:
    principal = principal_from_claims(
        claims(**{"cognito:groups": "validators", "custom:tenant": "jakarta"})
    )

    assert principal.roles == {Role.CITIZEN, Role.VALIDATOR}


def test_unknown_group_grants_nothing() -> None:
    principal = principal_from_claims(
        claims(**{"cognito:groups": ["superusers"], "custom:tenant": "jakarta"})
    )

    assert principal.roles == {Role.CITIZEN}


def test_staff_role_does_not_count_in_another_tenant() -> None:
    principal = principal_from_claims(
        claims(**{"cognito:groups": ["validators"], "custom:tenant": "jakarta"})
    )

    assert principal.has_role(Role.VALIDATOR, "jakarta")
    assert not principal.has_role(Role.VALIDATOR, "banda-aceh")
    assert not principal.has_role(Role.ADMIN, "jakarta")


def test_citizen_role_counts_in_every_tenant() -> None:
    principal = principal_from_claims(claims(**{"custom:tenant": "jakarta"}))

    assert principal.has_role(Role.CITIZEN, "banda-aceh")


def test_staff_of_a_tenant_is_only_staff_of_that_tenant() -> None:
    operator = Principal(
        subject="op-1",
        username="op",
        roles=frozenset({Role.CITIZEN, Role.OPERATOR}),
        tenant="jakarta",
    )
    citizen = Principal(
        subject="c-1", username="c", roles=frozenset({Role.CITIZEN}), tenant="jakarta"
    )

    assert operator.is_staff_of("jakarta")
    assert not operator.is_staff_of("banda-aceh")
    assert not citizen.is_staff_of("jakarta")
