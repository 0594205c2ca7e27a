"""Admin operations without the app: `python -m chalicelib.admin load-tenant tenants/jakarta`.

The same functions back the admin Lambda functions an administrator runs from the console.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from chalicelib.domain.bundle import TenantBundle, parse_bundle, revision_of
from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.ports import Head, TenantDirectory, UnitHeads

CONFIG_FILE = "tenant.json"


def read_bundle(folder: Path) -> TenantBundle:
    """Validate a tenant bundle folder completely before anything is written."""
    return read_bundle_from(lambda name: _read(folder / name), str(folder), folder.name)


def read_bundle_from(read: Callable[[str], bytes], location: str, expected_id: str) -> TenantBundle:
    """Validate a bundle whose files `read(name)` returns (a folder, or a prefix in S3).

    `location` prefixes every error message; the bundle's `id` must equal `expected_id`.
    """
    path = f"{location}/{CONFIG_FILE}"
    config_bytes = read(CONFIG_FILE)
    config = _json(config_bytes, path)
    name = config.get("boundaries") if isinstance(config, dict) else None
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(".geojson"):
        raise TenantConfigError(
            f"{path}: field 'boundaries' must name a .geojson file in the bundle folder"
        )
    boundaries_path = f"{location}/{name}"
    boundaries_bytes = read(name)
    bundle = parse_bundle(
        config,
        _json(boundaries_bytes, boundaries_path),
        revision=revision_of(config_bytes, boundaries_bytes),
        config_source=path,
        boundaries_source=boundaries_path,
    )
    if bundle.tenant.tenant_id != expected_id:
        raise TenantConfigError(
            f"{path}: field 'id' is {bundle.tenant.tenant_id!r} but the folder is {expected_id!r}"
        )
    return bundle


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TenantConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise TenantConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def _json(data: bytes, path: str) -> Any:
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TenantConfigError(f"{path}: not valid JSON ({exc})") from None


def load_bundles(folders: list[Path], directory: TenantDirectory) -> list[TenantBundle]:
    """All bundles are validated first; none is stored unless every one is valid."""
    bundles = [read_bundle(folder) for folder in folders]
    for bundle in bundles:
        directory.put(bundle)
    return bundles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load-tenant", help="validate and load tenant bundle folders")
    load.add_argument("folders", nargs="+", type=Path)
    check = commands.add_parser("check-tenant", help="validate tenant bundle folders only")
    check.add_argument("folders", nargs="+", type=Path)
    appoint = commands.add_parser("appoint-head", help="record who heads a unit from a time on")
    appoint.add_argument("--tenant", required=True)
    appoint.add_argument("--unit", required=True, help="unit id, e.g. kelurahan:31.71.01.1001")
    appoint.add_argument("--name", required=True)
    appoint.add_argument("--username", help="the head's user name in the user pool")
    appoint.add_argument("--nip", help="civil servant number (NIP)")
    appoint.add_argument(
        "--since", type=datetime.fromisoformat, help="ISO time with offset (default: now)"
    )
    issue = commands.add_parser("issue-api-key", help="a key for an Open311 client application")
    issue.add_argument("--tenant", required=True)
    issue.add_argument("--name", required=True, help="the client application's name")
    revoke = commands.add_parser("revoke-api-key", help="revoke an Open311 key by its id")
    revoke.add_argument("--key-id", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "check-tenant":
            for folder in args.folders:
                print(f"ok: {describe(read_bundle(folder))}")
            return 0
        from chalicelib import bootstrap

        services = bootstrap.services()
        if args.command == "issue-api-key":
            if services.tenants.get(args.tenant) is None:
                raise TenantConfigError(f"no tenant {args.tenant!r}")
            key, client = services.keys.issue(args.tenant, args.name)
            print(
                f"key id {client.key_id} for {client.name} ({client.tenant}); the key, shown once:"
            )
            print(key)
            return 0
        if args.command == "revoke-api-key":
            if not services.keys.revoke(args.key_id):
                raise TenantConfigError(f"no key with id {args.key_id!r}")
            print(f"revoked {args.key_id}")
            return 0
        if args.command == "appoint-head":
            since = args.since or services.clock.now()
            if since.tzinfo is None:
                raise TenantConfigError("--since needs a UTC offset, e.g. 2026-12-01T08:00+07:00")
            name = appoint_head(
                services.tenants,
                services.heads,
                tenant=args.tenant,
                unit_id=args.unit,
                head=Head(name=args.name, since=since, username=args.username, nip=args.nip),
            )
            print(f"{args.name} heads {name} from {since.isoformat()}")
            return 0
        for bundle in load_bundles(args.folders, services.tenants):
            print(f"loaded: {describe(bundle)}")
    except TenantConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def appoint_head(
    directory: TenantDirectory,
    heads: UnitHeads,
    *,
    tenant: str,
    unit_id: str,
    head: Head,
) -> str:
    """Record who heads a unit from `head.since`; earlier heads stay in the history."""
    if directory.get(tenant) is None:
        raise TenantConfigError(f"no tenant {tenant!r}")
    unit = directory.jurisdiction(tenant).unit(unit_id)
    if unit is None:
        raise TenantConfigError(f"{tenant}: no unit {unit_id!r}")
    heads.appoint(tenant, unit_id, head)
    return unit.name


def describe(bundle: TenantBundle) -> str:
    tenant, jurisdiction = bundle.tenant, bundle.jurisdiction
    return (
        f"{tenant.tenant_id} ({tenant.name}) revision {tenant.revision}: "
        f"{len(jurisdiction.villages)} villages, {len(jurisdiction.units)} units, "
        f"{len(tenant.categories)} categories, {len(jurisdiction.routing)} routing rules"
    )


if __name__ == "__main__":
    raise SystemExit(main())
