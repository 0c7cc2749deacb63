"""What a report run will do, decided and checked before anything runs: :class:`RunPlan`.

The plan holds the inputs, how they are read (:class:`LoadOptions`), the notebooks and the exact
parameters each one receives. Building it checks everything that can be checked without running
a notebook: user parameters (unknown names, names that mean different things in two notebooks,
``NN.name`` targets), the output folder, and the month.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ParameterError

__all__ = ["LoadOptions", "RunPlan", "RUNNER_PARAMETERS", "resolve_user_params", "notebook_parameters",
           "discover_notebooks"]

_NOTEBOOK_NAME = re.compile(r"^\d{2}_[A-Za-z0-9_]+\.ipynb$")
_TARGETED = re.compile(r"^(?P<nb>\d{2}|\d{2}_[A-Za-z0-9_]+)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")

#: Parameters the runner injects into every notebook that declares them (never set with -p).
RUNNER_PARAMETERS = (
    "data_path", "prepared_path", "prepared_monthly", "load_options", "spend_path", "subscriptions_path", "month", "as_of", "metrics_path",
    "output_dir", "customer_col", "date_col", "amount_col", "order_col", "currency",
)


@dataclass(frozen=True)
class LoadOptions:
    """How the transactions file is read: column mapping and the data-contract policies.

    The same names as :func:`relmkt_helpers.load_transactions` (and as the command line's
    ``--customer-col``, ``--date-format``, ``--timezone`` ...). ``as_of`` caps the data: rows
    after it are left out (counted in the ledger), and the default month is the last complete
    month up to it.
    """

    customer_col: str = "customer_id"
    date_col: str = "order_date"
    amount_col: str = "amount"
    order_col: str | None = None
    date_format: str | None = None
    dayfirst: bool | None = None
    timezone: str | None = None
    refunds: str = "net"
    duplicates: str = "auto"
    on_invalid: str = "error"
    as_of: str | None = None
    engine: str = "auto"
    memory_limit: str | None = None

    def loader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``load_transactions``; options at their default are left out."""
        out = {k: v for k, v in asdict(self).items() if k != "as_of"}
        defaults = asdict(LoadOptions())
        return {k: v for k, v in out.items() if v != defaults[k] or k in ("customer_col", "date_col",
                                                                          "amount_col", "order_col")}


def discover_notebooks(folder: Path | str | None = None) -> list[Path]:
    """The analysis notebooks of a report: ``NN_name.ipynb`` in ``folder``, sorted.

    Sub-folders (``workshop/``) are not part of the report.

    Examples
    --------
    >>> [p.name for p in discover_notebooks()][:1]
    ['00_data_overview.ipynb']
    """
    from ..config import NOTEBOOKS_DIR
    from ..errors import ReportError

    folder = Path(folder or NOTEBOOKS_DIR)
    found = sorted(p for p in folder.glob("*.ipynb") if _NOTEBOOK_NAME.match(p.name))
    if not found:
        raise ReportError(f"no analysis notebooks (NN_name.ipynb) found in {folder}.")
    return found


def notebook_parameters(path: Path | str) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its ``parameters``-tagged cell.

    Returns papermill's description: name -> {inferred_type_name, default, help}.

    Examples
    --------
    >>> "data_path" in notebook_parameters(discover_notebooks()[0])
    True
    """
    import papermill

    return dict(papermill.inspect_notebook(str(path)))


def _meaning(decl: Mapping[str, Any]) -> tuple[str, str]:
    return (str(decl.get("inferred_type_name", "")), " ".join(str(decl.get("help", "")).split()))


def resolve_user_params(user: Mapping[str, Any], declared: Mapping[str, Mapping[str, Mapping[str, Any]]]
                        ) -> dict[str, dict[str, Any]]:
    """Decide which notebook gets which ``-p`` parameter.

    ``name`` goes to every notebook that declares it, and must mean the same in each (same
    type and description); ``NN.name`` (or ``NN_notebook.name``) goes to that notebook only.
    Unknown names, runner-owned names and ambiguous names are a :class:`ParameterError`.

    Parameters
    ----------
    user : mapping
        ``-p`` name -> value.
    declared : mapping
        Notebook stem -> its declared parameters (:func:`notebook_parameters`).

    Returns
    -------
    dict
        Notebook stem -> {name: value} to inject.

    Examples
    --------
    >>> declared = {"02_churn": {"model": {"inferred_type_name": "str", "help": "model"}},
    ...             "03_clv": {"model": {"inferred_type_name": "str", "help": "model"},
    ...                        "draws": {"inferred_type_name": "int", "help": "bootstrap draws"}}}
    >>> resolve_user_params({"model": "pnbd", "03.draws": 10}, declared)
    {'02_churn': {'model': 'pnbd'}, '03_clv': {'model': 'pnbd', 'draws': 10}}
    """
    out: dict[str, dict[str, Any]] = {stem: {} for stem in declared}
    known = sorted(set().union(*[set(d) for d in declared.values()]) - set(RUNNER_PARAMETERS)) if declared else []
    for key, value in user.items():
        m = _TARGETED.match(key)
        name = m["name"] if m else key
        if name in RUNNER_PARAMETERS:
            raise ParameterError(
                f"parameter {name} is set by the runner from its own options (--data, --spend, --subscriptions, "
                "--month, --as-of, --currency, --*-col); use those instead of -p.")
        if m:
            stems = [s for s in declared if s == m["nb"] or s.startswith(m["nb"] + "_")]
            if not stems:
                raise ParameterError(f"-p {key}: there is no notebook {m['nb']} (notebooks: {', '.join(declared)}).")
            if name not in declared[stems[0]]:
                own = sorted(set(declared[stems[0]]) - set(RUNNER_PARAMETERS))
                raise ParameterError(f"-p {key}: notebook {stems[0]} does not declare {name!r}; it declares "
                                     f"{', '.join(own)}.")
            out[stems[0]][name] = value
            continue
        users = [s for s, d in declared.items() if name in d]
        if not users:
            raise ParameterError(
                f"unknown notebook parameter(s): {name}. The notebooks declare: {', '.join(known)} (and the runner "
                f"sets {', '.join(RUNNER_PARAMETERS)}). Check the spelling; see `papermill --help-notebook NOTEBOOK`.")
        meanings = {s: _meaning(declared[s][name]) for s in users}
        if len(set(meanings.values())) > 1:
            detail = "; ".join(f"{s}: {t} ({h})" for s, (t, h) in meanings.items())
            raise ParameterError(
                f"-p {name} means different things in different notebooks ({detail}). Target one notebook: "
                f"-p {users[0][:2]}.{name} VALUE.")
        for s in users:
            out[s][name] = value
    return out


@dataclass
class RunPlan:
    """Everything one report run needs, checked before the first notebook starts.

    Attributes
    ----------
    data, spend, subscriptions : Path or None
        The inputs as the user named them (resolved paths).
    load : LoadOptions
    out_dir : Path
        Checked writable.
    notebooks : list of Path
    declared : dict
        Notebook stem -> declared parameters.
    params : dict
        Notebook stem -> the user's ``-p`` values for it (:func:`resolve_user_params`).
    with_code, currency, cell_timeout, kernel_name, warm_kernels, progress
        Rendering and execution settings.
    """

    data: Path
    spend: Path | None
    subscriptions: Path | None
    load: LoadOptions
    out_dir: Path
    notebooks: list[Path]
    declared: dict[str, dict[str, Any]]
    params: dict[str, dict[str, Any]]
    with_code: bool = False
    currency: str = ""
    cell_timeout: float | None = 3600.0
    kernel_name: str = "python3"
    warm_kernels: bool = True
    progress: bool = True
    notes: list[str] = field(default_factory=list)

    def injected(self, stem: str, base: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters notebook ``stem`` receives: the runner's, then the user's, declared ones only."""
        wanted = self.declared[stem]
        values = {**base, "currency": self.currency, **self.params.get(stem, {})}
        return {k: v for k, v in values.items() if k in wanted}

    def min_customers(self) -> dict[str, int]:
        """Notebook stem -> the fewest customers it can analyse (its ``min_customers`` parameter)."""
        out = {}
        for stem, decl in self.declared.items():
            if "min_customers" in decl:
                value = self.params.get(stem, {}).get("min_customers", decl["min_customers"].get("default"))
                try:
                    out[stem] = int(str(value))
                except ValueError:
                    raise ParameterError(f"min_customers for {stem} must be a whole number (got {value!r}).") from None
        return out
