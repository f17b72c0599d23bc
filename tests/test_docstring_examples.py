"""Every Examples section in the package's docstrings runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import causalkit

_OPTIONAL = ("torch",)


def _modules():
    names = []
    for info in pkgutil.walk_packages(causalkit.__path__, "causalkit."):
        if "._accel" in info.name or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra that is not installed
        if getattr(exc, "name", None) in _OPTIONAL:
            pytest.skip(f"{name} needs {exc.name}")
        raise
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in doctest.DocTestFinder().find(module, module.__name__) if t.examples]
    if not tests:
        pytest.skip("no examples")
    for test in tests:
        runner.run(test)
    assert runner.failures == 0, f"{runner.failures} docstring example(s) failed in {name}"
