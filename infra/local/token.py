"""Print a fresh ID token of a demo user: `TOKEN=$(.venv/bin/python -m infra.local.token NAME)`."""

from __future__ import annotations

import json
import sys

import boto3

from infra.local.demo_users import id_token
from infra.local.stack import LOCAL_DIR


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    document = json.loads((LOCAL_DIR / "demo-users.json").read_text(encoding="utf-8"))
    users = {u["username"]: u for u in document["users"]}
    if len(args) != 1 or args[0] not in users:
        print(f"usage: python -m infra.local.token {{{','.join(sorted(users))}}}", file=sys.stderr)
        return 2
    user = users[args[0]]
    cognito = boto3.client(
        "cognito-idp",
        region_name=document["region"],
        endpoint_url=document["aws_endpoint_url"],
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    print(id_token(cognito, document["user_pool_client_id"], user["username"], user["password"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
