"""Re-execute notebooks in place on their default parameters (the bundled data), keeping outputs.

The notebooks are committed with outputs (readable on GitHub, checked by nbval). After editing a
notebook, refresh it with::

    .venv/bin/python scripts/refresh_notebooks.py notebooks/03_customer_lifetime_value.ipynb

(no argument: every notebook, the workshop included). Not part of the package.
"""
from __future__ import annotations

import sys
from pathlib import Path

import papermill

ROOT = Path(__file__).resolve().parents[1]


def main(paths: list[str]) -> int:
    targets = [Path(p).resolve() for p in paths] or sorted((ROOT / "notebooks").rglob("*.ipynb"))
    for nb in targets:
        if ".ipynb_checkpoints" in nb.parts:
            continue
        print(f"executing {nb.relative_to(ROOT)}", flush=True)
        papermill.execute_notebook(str(nb), str(nb), cwd=str(nb.parent), kernel_name="python3", progress_bar=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
