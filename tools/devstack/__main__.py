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
    token.add_argument("--role", help="receptionist, specialist, leader, admin or editor")
    token.add_argument("--unit", help=f"unit code the officer serves (default {run.DEFAULT_UNIT})")
    token.add_argument("--user", help="a demo staff account (e.g. cv1.09496): its name, roles and units")
    token.add_argument("--name", default="Cán bộ thử nghiệm")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run.main()
    if args.user:
        account = run.demo_account(args.user)
        if account is None:
            parser.error(
                f"no demo staff account {args.user} (see services/processing/processing/seed/staff.json)"
            )
        roles = [args.role] if args.role else account["roles"]
        units = [args.unit] if args.unit else account["units"]
        print(issue_token(roles, units, user_id=args.user, name=account["name"]))
        return 0
    if not args.role:
        parser.error("give --role or --user")
    print(issue_token([args.role], [args.unit or run.DEFAULT_UNIT], name=args.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
