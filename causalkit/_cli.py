"""Command-line entry point: ``causalkit demo [--quick]``."""

from __future__ import annotations

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="causalkit", description="causalkit command line")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit every estimator family on data with a known truth")
    demo.add_argument("--quick", action="store_true", help="small samples (seconds, for CI)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(quick=args.quick)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
