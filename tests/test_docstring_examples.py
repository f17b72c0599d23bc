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


def _public_objects():
    """Everything named in the ``__all__`` of causalkit and of each public subpackage."""
    import inspect

    seen, out = set(), []
    names = ["causalkit"] + [f"causalkit.{m.name}" for m in pkgutil.iter_modules(causalkit.__path__)
                             if not m.name.startswith("_")]
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if getattr(exc, "name", None) in _OPTIONAL:
                continue
            raise
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            # constants (tuples, strings) and modules carry no docstring of their own
            if not (inspect.isclass(obj) or inspect.isfunction(obj)) or id(obj) in seen:
                continue
            seen.add(id(obj))
            out.append((f"{name}.{attr}", obj))
    return out


def test_every_public_object_has_an_examples_section():
    import inspect

    missing = [name for name, obj in _public_objects()
               if "Examples\n--------" not in (inspect.getdoc(obj) or "")]
    assert not missing, f"public objects without a numpydoc Examples section: {missing}"
