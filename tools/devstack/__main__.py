"""`python -m devstack <command>`: the local platform's commands (see the Makefile and `--help`)."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path
from typing import Any

from pymongo.errors import PyMongoError

from devstack import demo, manifests, run
from devstack.certificates import ensure_unit_certificates
from devstack.paths import LOCAL
from devstack.tokens import ensure_keypair, issue_token, processing_token


def staff_token(account: dict[str, Any]) -> str:
    """Signed with processing's key set in the store `make run` uses; with the development key
    (and a note) when that store is not reachable."""
    ports = run.ports_from_env()
    endpoints, _ = run.external_endpoints(ports)
    env = run.service_env(endpoints, ports, ensure_keypair()[1], LOCAL / "data")
    try:
        return processing_token(env, account)
    except PyMongoError:
        print(
            "processing's store is not reachable (is `make run` running?): signed with the development key",
            file=sys.stderr,
        )
        return issue_token(
            account["roles"], account["units"], user_id=account["user_id"], name=account["name"]
        )


def platform_env() -> dict[str, str]:
    """The services' environment as `make run` gives it (the seeder uses their own code)."""
    ports = run.ports_from_env()
    endpoints, _ = run.external_endpoints(ports)
    signing_certs = None if os.environ.get("SIGNING_CERTS_DIR") else ensure_unit_certificates()
    return run.service_env(endpoints, ports, ensure_keypair()[1], LOCAL / "data", signing_certs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the infrastructure and every service; Ctrl-C stops all")
    token = commands.add_parser("token", help="print a signed development staff token")
    token.add_argument("--role", help="receptionist, specialist, leader, admin or editor")
    token.add_argument("--unit", help=f"unit code the officer serves (default {run.DEFAULT_UNIT})")
    token.add_argument("--user", help="a demo staff account (e.g. cv1.09496): its name, roles and units")
    token.add_argument("--name", default="Cán bộ thử nghiệm")
    written = commands.add_parser("manifests", help="write the cluster manifests' generated base files")
    written.add_argument(
        "--out", type=Path, default=manifests.BASE, help=f"folder (default {manifests.BASE})"
    )
    commands.add_parser("signing-secret", help="print the development signing certificates as a Secret")
    seeding = commands.add_parser(
        "demo", help="seed the demo district on the running platform (`make run` does it once)"
    )
    seeding.add_argument(
        "--dossiers", type=int, default=demo.DEFAULT_DOSSIERS, help="how many dossiers (default %(default)s)"
    )
    seeding.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="the random seed")
    seeding.add_argument("--force", action="store_true", help="seed again even if it was seeded before")
    seeding.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run.main()
    if args.command == "demo":
        summary = demo.seed(
            platform_env(),
            run.ports_from_env(),
            dossiers=args.dossiers,
            random_seed=args.seed,
            progress=not args.no_progress,
            force=args.force,
        )
        print(demo.report(summary))
        return 1 if summary.failures else 0
    if args.command == "signing-secret":
        print(manifests.dump([manifests.signing_secret()]), end="")
        return 0
    if args.command == "manifests":
        for path in manifests.write(args.out):
            print(path)
        return 0
    if args.user:
        account = run.demo_account(args.user)
        if account is None:
            parser.error(
                f"no demo staff account {args.user} (see services/processing/processing/seed/staff.json)"
            )
        roles = [args.role] if args.role else account["roles"]
        units = [args.unit] if args.unit else account["units"]
        print(staff_token({"user_id": args.user, "name": account["name"], "roles": roles, "units": units}))
        return 0
    if not args.role:
        parser.error("give --role or --user")
    user_id = f"dev-{uuid.uuid4().hex[:8]}"
    units = [args.unit or run.DEFAULT_UNIT]
    print(staff_token({"user_id": user_id, "name": args.name, "roles": [args.role], "units": units}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
