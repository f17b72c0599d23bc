"""Moved: these studies are the ``ate`` and ``iv`` families of the coverage entry point.

Their designs live in ``benchmarks/coverage_studies/ate.py`` and ``iv.py``; this script
runs both families (``python benchmarks/coverage.py --family ate --family iv``, other
arguments passed through, e.g. ``--full`` or ``--n-jobs 2``) and updates their rows of
``benchmarks/results/coverage.md``.
"""

import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.exit(subprocess.call([sys.executable, str(Path(__file__).with_name("coverage.py")),
                              "--family", "ate", "--family", "iv", *sys.argv[1:]]))
