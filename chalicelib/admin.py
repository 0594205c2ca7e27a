"""Admin operations without the app: `python -m chalicelib.admin load-tenant tenants/jakarta`.

The same functions back the admin Lambda functions an administrator runs from the console.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chalicelib.domain.errors import TenantConfigError
from chalicelib.domain.ports import TenantDirectory
from chalicelib.domain.tenants import Tenant, parse_tenant

CONFIG_FILE = "tenant.json"


def read_bundle(folder: Path) -> Tenant:
    """Validate a tenant bundle folder completely before anything is written."""
    path = folder / CONFIG_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TenantConfigError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise TenantConfigError(f"{path}: not valid JSON ({exc})") from None
    tenant = parse_tenant(document, source=str(path))
    if tenant.tenant_id != folder.name:
        raise TenantConfigError(
            f"{path}: field 'id' is {tenant.tenant_id!r} but the folder is {folder.name!r}"
        )
    return tenant


def load_bundles(folders: list[Path], directory: TenantDirectory) -> list[Tenant]:
    """All bundles are validated first; none is stored unless every one is valid."""
    tenants = [read_bundle(folder) for folder in folders]
    for tenant in tenants:
        directory.put(tenant)
    return tenants


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.admin")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load-tenant", help="validate and load tenant bundle folders")
    load.add_argument("folders", nargs="+", type=Path)
    check = commands.add_parser("check-tenant", help="validate tenant bundle folders only")
    check.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "check-tenant":
            for folder in args.folders:
                tenant = read_bundle(folder)
                print(
                    f"ok: {tenant.tenant_id} ({tenant.name}), {len(tenant.categories)} categories"
                )
            return 0
        from chalicelib import bootstrap

        for tenant in load_bundles(args.folders, bootstrap.services().tenants):
            print(f"loaded: {tenant.tenant_id} ({tenant.name})")
    except TenantConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
