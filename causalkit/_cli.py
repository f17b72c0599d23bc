"""Command-line entry point: ``causalkit [--version] demo [--quick] [--family NAME]``."""

from __future__ import annotations

import argparse
import sys


def _threads(value: str):
    if value in ("auto", "off"):
        return value
    try:
        k = int(value)
    except ValueError:
        k = 0
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, 'auto' or 'off'; got {value!r}")
    return k


_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _cap_openmp_at_start(k: int) -> None:
    """Set the standard thread variables (unless the user set them) before numpy, scikit-learn
    and torch load.

    OpenMP reads them when it starts. A pool started with more threads and capped later
    keeps an idle thread that spin-waits; on a busy machine that slowed CFDiVAE's training
    from about a minute to more than five (measured with six epochs on 3,000 units).
    """
    import os

    for var in _THREAD_ENV:
        os.environ.setdefault(var, str(k))


def _parser() -> argparse.ArgumentParser:
    from . import __version__
    from ._lazy import DIST_NAME

    parser = argparse.ArgumentParser(
        prog="causalkit",
        description=f"causalkit {__version__} (installed as the `{DIST_NAME}` distribution): "
                    "statistical and causal inference in scikit-learn style.")
    parser.add_argument("--version", action="version",
                        version=f"causalkit {__version__} ({DIST_NAME})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser(
        "demo", help="fit every estimator family on data with a known truth",
        description="Fit every estimator family on data with a known truth and print the "
                    "estimates beside the truth.")
    demo.add_argument("--quick", action="store_true",
                      help="small samples and small, fast models (under a minute on two cores)")
    demo.add_argument("--family", action="append", metavar="NAME",
                      help="run only this design (ate, hte, frontdoor, iv, rdd, montecarlo, ope, "
                           "calibration); repeat for several")
    demo.add_argument("--threads", type=_threads, default=1, metavar="N",
                      help="inner threads per task: an integer, 'auto' or 'off' (default 1, the "
                           "fastest setting on a shared machine; see causalkit.config)")
    return parser


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stdout)
        return 0
    if args.command == "demo":
        if isinstance(args.threads, int):
            _cap_openmp_at_start(args.threads)
        from ._demo import run_demo

        try:
            run_demo(quick=args.quick, families=args.family, n_threads=args.threads)
        except ValueError as exc:  # an unknown --family
            parser.error(str(exc).replace("`family`", "--family"))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
