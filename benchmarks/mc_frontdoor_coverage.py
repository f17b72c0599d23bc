"""Moved: this study is the ``frontdoor`` family of the coverage entry point.

Its designs live in ``benchmarks/coverage_studies/frontdoor.py``; this script runs that family
(``python benchmarks/coverage.py --family frontdoor``, other arguments passed through, e.g.
``--full`` or ``--n-jobs 2``) and updates its rows of ``benchmarks/results/coverage.md``.
"""

import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.exit(subprocess.call([sys.executable, str(Path(__file__).with_name("coverage.py")),
                              "--family", "frontdoor", *sys.argv[1:]]))
