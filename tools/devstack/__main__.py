"""`python -m devstack run|token|topics`: the local platform's commands (see the Makefile)."""

from __future__ import annotations

import argparse
import sys

from devstack import run
from devstack.tokens import issue_token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the infrastructure and every service; Ctrl-C stops all")
    token = commands.add_parser("token", help="print a signed development staff token")
    token.add_argument("--role", required=True, help="receptionist, specialist, leader, admin or editor")
    token.add_argument("--unit", default=run.DEFAULT_UNIT, help="unit code the officer serves")
    token.add_argument("--name", default="Cán bộ thử nghiệm")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run.main()
    print(issue_token([args.role], [args.unit], name=args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
