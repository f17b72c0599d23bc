"""The README's tour runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python tour"
    namespace: dict = {}
    exec(compile(blocks[0], "README tour", "exec"), namespace)
    est = namespace["est"]
    lo, hi = est.ate().conf_int()
    assert lo < 1.0 < hi  # the tour's data have a true ATE of 1.0 (fixed seed)
    assert "Estimate(ATE" in capsys.readouterr().out


def test_readme_has_exactly_two_commands():
    text = README.read_text()
    assert text.count("<!-- demo-command -->") == 1 and text.count("<!-- test-command -->") == 1
    test_cmd = text.split("<!-- test-command -->")[1].split("```bash\n")[1].split("```")[0]
    assert "pytest" in test_cmd and "pip install" in test_cmd
