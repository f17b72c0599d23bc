"""How results print: one style for estimates, tables, curves and diagnostics.

Every number a result prints is rounded by one rule: the standard error to two
significant digits and the estimate and its interval to the same decimal place (so an
interval never prints as a point); p-values below what double precision resolves print
as ``< 1e-16``; diagnostics show four significant digits. Tables are written whole
(never cut to pandas' display width) and the method and sample size, when every row
shares them, are written once under the table instead of in a wide column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

__all__ = ["Diagnostics", "format_pvalue"]

_P_FLOOR = 1e-16     # below this a two-sided p-value is rounding noise in double precision


def decimals(stderr: float, value: float = 0.0) -> int:
    """Decimal places that show ``stderr`` to two significant digits.

    With no spread (``stderr`` zero or not finite) the value is shown to four significant
    digits instead.

    Examples
    --------
    >>> from causalkit.inference._format import decimals
    >>> decimals(0.061), decimals(0.00041), decimals(12.0), decimals(0.0, 1.718)
    (3, 5, 0, 3)
    """
    if stderr is not None and math.isfinite(stderr) and stderr > 0:
        return max(0, 1 - math.floor(math.log10(stderr)))
    if value is not None and math.isfinite(value) and value != 0:
        return max(0, 3 - math.floor(math.log10(abs(value))))
    return 3


def format_pvalue(p: float) -> str:
    """A p-value as text: three decimals, scientific below 0.001, ``< 1e-16`` at the floor.

    Examples
    --------
    >>> from causalkit.inference import format_pvalue
    >>> format_pvalue(0.0), format_pvalue(3e-9), format_pvalue(0.0312), format_pvalue(1.0)
    ('< 1e-16', '3.0e-09', '0.031', '1.000')
    """
    if p is None or not math.isfinite(p):
        return "nan"
    if p < _P_FLOOR:
        return "< 1e-16"
    if p < 1e-3:
        return f"{p:.1e}"
    return f"{p:.3f}"


def format_value(x) -> str:
    """A diagnostic value as short text: numbers to four significant digits.

    Integers print whole, floats with four significant digits, short arrays in full and
    longer ones by their shape and range.

    Examples
    --------
    >>> import numpy as np
    >>> from causalkit.inference._format import format_value
    >>> format_value(0.012345678), format_value(1234567.0), format_value(3), format_value(True)
    ('0.01235', '1.235e+06', '3', 'True')
    >>> format_value(np.array([0.5, 1.0, 1.5]))
    '[0.5, 1, 1.5]'
    >>> format_value(np.arange(100.0))
    'array of shape (100,), from 0 to 99'
    """
    if x is None or isinstance(x, (bool, np.bool_, str)):
        return str(x)
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.4g}"
    if isinstance(x, (list, tuple)) and all(isinstance(v, (int, float, np.number)) for v in x):
        x = np.asarray(x)
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "biuf":
            if x.size <= 8 and x.ndim <= 1:
                return "[" + ", ".join(format_value(v.item()) for v in x.ravel()) + "]"
            if x.size and np.isfinite(x).any():
                lo, hi = np.nanmin(x), np.nanmax(x)
                return f"array of shape {x.shape}, from {format_value(lo.item())} to {format_value(hi.item())}"
        return f"array of shape {x.shape}"
    if hasattr(x, "shape") and hasattr(x, "to_string"):     # DataFrame, Series: shown below
        return f"{type(x).__name__} of shape {x.shape}, below"
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def _entry(key: str, value) -> str:
    """A diagnostic's text: p-values (named ``*pvalue*``/``*p_value*``) by
    :func:`format_pvalue`, everything else by :func:`format_value`."""
    if (("pvalue" in key or "p_value" in key) and isinstance(value, (float, np.floating))):
        return format_pvalue(float(value))
    return format_value(value)


def _is_block(x) -> bool:
    """Values printed as their own block under the table."""
    return isinstance(x, Mapping) or (hasattr(x, "shape") and hasattr(x, "to_string"))


def _frame_text(frame) -> str:
    return frame.to_string(float_format=lambda v: f"{v:.4g}")


class Diagnostics(dict):
    """A fitted estimator's checks: a ``dict`` that prints as a small table.

    Each entry is one line, name then value, numbers to four significant digits (entries
    named ``*pvalue*`` as p-values: ``< 1e-16`` rather than ``0``); tables and nested
    mappings print as blocks underneath. It stays a plain ``dict`` in
    everything else (indexing, ``==``, iteration, ``json.dumps``, pickling).

    Parameters
    ----------
    *args, **kwargs
        As for :class:`dict`.

    Examples
    --------
    >>> from causalkit.inference import Diagnostics
    >>> d = Diagnostics({"propensity_min": 0.0213456789, "propensity_max": 0.98123456,
    ...                  "n_trimmed": 0, "effective_n": 812.345678})
    >>> d
    propensity_min  0.02135
    propensity_max  0.9812
    n_trimmed       0
    effective_n     812.3
    >>> d["n_trimmed"], isinstance(d, dict), d == dict(d)
    (0, True, True)
    """

    def _lines(self, indent: str = "") -> list[str]:
        flat = [(str(k), v) for k, v in self.items() if not _is_block(v)]
        blocks = [(str(k), v) for k, v in self.items() if _is_block(v)]
        width = max([len(k) for k, _ in flat], default=0)
        lines = [f"{indent}{k:<{width}}  {_entry(k, v)}" for k, v in flat]
        for k, v in blocks:
            lines.append(f"{indent}{k}:")
            if isinstance(v, Mapping):
                lines.extend(Diagnostics(v)._lines(indent + "  "))
            else:
                lines.extend(indent + "  " + ln for ln in _frame_text(v).splitlines())
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines()) if self else "Diagnostics({})"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        import html

        rows = []
        for k, v in self.items():
            if isinstance(v, Mapping):
                cell = Diagnostics(v)._repr_html_()
            elif _is_block(v):
                cell = v.to_html(float_format=lambda x: f"{x:.4g}")
            else:
                cell = html.escape(_entry(str(k), v))
            rows.append(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                        f"<td style='text-align:left'>{cell}</td></tr>")
        return "<table>" + "".join(rows) + "</table>"

    def copy(self) -> Diagnostics:
        return Diagnostics(self)

    def __reduce__(self):
        return (Diagnostics, (dict(self),))


# ---------------------------------------------------------------------- tables of estimates

_EST_COLS = ("estimate", "std err")
_P_COLS = ("P>|z|", "P>|t|", "pvalue", "p-value")
_STAT_COLS = ("z", "t")


def _row_decimals(row, se_col="std err", value_col="estimate") -> int:
    try:
        se = float(row[se_col])
    except (KeyError, TypeError, ValueError):
        se = float("nan")
    try:
        val = float(row[value_col])
    except (KeyError, TypeError, ValueError):
        val = 0.0
    return decimals(se, val)


def format_frame(frame, *, footer: bool = True):
    """``(text frame, footer lines)``: numbers as strings by the house rules.

    Columns holding the estimate, its standard error and interval ends are rounded per row
    from that row's standard error; ``z``/``t`` to two decimals; p-values by
    :func:`format_pvalue`; anything else numeric to four significant digits. With
    ``footer``, a ``method`` or ``n`` column that takes one value on every row is moved
    under the table.
    """
    import pandas as pd

    df = pd.DataFrame(frame).copy()
    notes = []
    if footer and len(df) > 0:
        for col in ("method", "n"):
            if col in df.columns and df[col].nunique(dropna=False) == 1:
                val = df[col].iloc[0]
                notes.append(f"{col}: {format_value(val) if col == 'n' else val}")
                df = df.drop(columns=col)
    se_like = "std err" if "std err" in df.columns else None
    out = pd.DataFrame(index=df.index)
    interval = [c for c in df.columns
                if isinstance(c, str) and (c.startswith("[") or c.endswith("]")
                                           or "lower" in c or "upper" in c)]
    for col in df.columns:
        s = df[col]
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[col] = s.astype(str)
        elif col in _P_COLS:
            out[col] = [format_pvalue(float(v)) for v in s]
        elif col in _STAT_COLS:
            out[col] = ["nan" if not np.isfinite(v) else f"{v:.2f}" for v in s.astype(float)]
        elif se_like is not None and (col in _EST_COLS or col in interval):
            cells = []
            for (_, row), v in zip(df.iterrows(), s):
                d = _row_decimals(row)
                cells.append("nan" if not np.isfinite(v) else f"{v:.{d}f}")
            out[col] = cells
        elif pd.api.types.is_integer_dtype(s):
            out[col] = s.astype(str)
        else:
            out[col] = [format_value(float(v)) for v in s]
    return out, notes


def render_text(table, left=()) -> str:
    """A frame of strings as aligned text: the index and the columns named in ``left``
    left-aligned, the others right-aligned, two spaces apart, nothing cut."""
    cols = [str(c) for c in table.columns]
    index = [str(i) for i in table.index]
    cells = [[str(v) for v in row] for row in table.itertuples(index=False)]
    iw = max([len(i) for i in index], default=0)
    widths = [max([len(c)] + [len(r[j]) for r in cells]) for j, c in enumerate(cols)]

    def line(first, values):
        parts = [f"{first:<{iw}}"] if iw else []
        for c, v, w in zip(cols, values, widths):
            parts.append(f"{v:<{w}}" if c in left else f"{v:>{w}}")
        return "  ".join(parts).rstrip()

    return "\n".join([line("", cols)] + [line(i, r) for i, r in zip(index, cells)])


def _summary_class():
    import pandas as pd

    global _SUMMARY
    if _SUMMARY is not None:
        return _SUMMARY

    class SummaryFrame(pd.DataFrame):
        """A :class:`pandas.DataFrame` of results that prints whole and rounded.

        The numbers in it are the full-precision floats; only its printed forms
        (``str``, ``repr``, the notebook's HTML) are rounded by the house rules.
        Any operation on it returns a plain DataFrame.
        """

        def _formatted(self):
            return format_frame(pd.DataFrame(self))

        def __repr__(self) -> str:
            text, notes = self._formatted()
            if not len(text.columns):
                return "\n".join([pd.DataFrame(self).to_string(), *notes])
            plain = pd.DataFrame(self)
            left = [str(c) for c in plain.columns
                    if not pd.api.types.is_numeric_dtype(plain[c])]
            return "\n".join([render_text(text, left), *notes])

        __str__ = __repr__

        def _repr_html_(self) -> str:
            import html

            text, notes = self._formatted()
            foot = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
            return text.to_html(max_rows=None, max_cols=None) + foot

    _SUMMARY = SummaryFrame
    return SummaryFrame


_SUMMARY = None


def summary_frame(data, **kwargs):
    """A results DataFrame that prints whole and rounded by :func:`format_frame`'s rules;
    a plain DataFrame in everything else."""
    return _summary_class()(data, **kwargs)
