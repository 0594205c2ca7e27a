"""Open311 API keys from the admin command line: issued once, revoked by id, tenant checked."""

from __future__ import annotations

import pytest

from chalicelib import bootstrap
from chalicelib.admin import main
from chalicelib.bootstrap import Services
from tests.fakes import FakeApiKeys, fake_services


@pytest.fixture
def services(monkeypatch: pytest.MonkeyPatch) -> Services:
    services = fake_services()
    monkeypatch.setattr(bootstrap, "services", lambda: services)
    return services


def fake_keys(services: Services) -> FakeApiKeys:
    assert isinstance(services.keys, FakeApiKeys)
    return services.keys


def issue(capsys: pytest.CaptureFixture[str], name: str = "FixMyKota") -> tuple[int, str]:
    code = main(["issue-api-key", "--tenant", "jakarta", "--name", name])
    return code, capsys.readouterr().out


def test_issue_api_key_prints_the_key_once_with_its_id_and_client(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an administrator issues a key for a client application of Jakarta
    code, out = issue(capsys)

    # Then the key is printed exactly once, with its id, the client's name and the tenant
    [(key, client)] = fake_keys(services).clients.items()
    assert code == 0
    assert out.count(key) == 1
    assert f"key id {client.key_id}" in out
    assert "FixMyKota (jakarta)" in out
    assert "shown once" in out


def test_issued_key_looks_up_to_its_client(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = issue(capsys)
    key = out.strip().splitlines()[-1]

    client = services.keys.lookup(key)

    assert client is not None
    assert (client.tenant, client.name, client.revoked) == ("jakarta", "FixMyKota", False)


def test_revoke_api_key_by_id_revokes_it(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an issued key
    issue(capsys)
    [(key, client)] = fake_keys(services).clients.items()

    # When the administrator revokes it by its id
    code = main(["revoke-api-key", "--key-id", client.key_id])

    # Then the command confirms and the key no longer works
    assert code == 0
    assert f"revoked {client.key_id}" in capsys.readouterr().out
    found = services.keys.lookup(key)
    assert found is not None and found.revoked


def test_revoke_leaves_other_keys_working(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    issue(capsys, "FixMyKota")
    issue(capsys, "LaporWarga")
    (first_key, first), (second_key, _) = fake_keys(services).clients.items()

    main(["revoke-api-key", "--key-id", first.key_id])

    revoked, kept = services.keys.lookup(first_key), services.keys.lookup(second_key)
    assert revoked is not None and revoked.revoked
    assert kept is not None and not kept.revoked


def test_revoke_of_an_unknown_key_id_is_exit_code_2_with_a_message(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["revoke-api-key", "--key-id", "nope"])

    err = capsys.readouterr().err
    assert code == 2
    assert "no key with id 'nope'" in err
    assert "Traceback" not in err


def test_issue_for_an_unknown_tenant_is_exit_code_2_and_issues_nothing(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    # When an administrator names a tenant that is not loaded
    code = main(["issue-api-key", "--tenant", "atlantis", "--name", "X"])

    # Then the command fails with a message and no key exists
    captured = capsys.readouterr()
    assert code == 2
    assert "no tenant 'atlantis'" in captured.err
    assert captured.out == ""
    assert fake_keys(services).clients == {}


def test_issue_without_a_name_is_a_usage_error(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["issue-api-key", "--tenant", "jakarta"])

    assert exit_info.value.code == 2
    assert "--name" in capsys.readouterr().err
    assert fake_keys(services).clients == {}
