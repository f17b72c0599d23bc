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


def _block(text, marker):
    return text.split(marker)[1].split("```bash\n")[1].split("```")[0].strip()


def test_readme_commands_use_existing_extras_and_the_docs_build_is_strict():
    import configparser

    text = README.read_text()
    cfg = configparser.ConfigParser()
    cfg.read(README.parent / "setup.cfg")
    extras = set(cfg["options.extras_require"])
    demo = _block(text, "<!-- demo-command -->")
    assert demo.endswith("causalkit demo --quick")
    for cmd in (demo, _block(text, "<!-- test-command -->")):
        for group in re.findall(r'pip install "\.\[([\w,]+)\]"', cmd):
            assert set(group.split(",")) <= extras, group
    assert 'pip install ".[docs]" && sphinx-build -W -b html docs docs/_build/html' in text
    # how the distribution name and the import name relate, said once
    assert text.count("imported as") == 1 and cfg["metadata"]["name"] in text
