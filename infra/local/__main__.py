"""`python -m infra.local` (what `make run` starts)."""

from infra.local.stack import main

if __name__ == "__main__":
    raise SystemExit(main())
