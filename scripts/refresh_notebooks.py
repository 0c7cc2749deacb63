"""Re-execute notebooks in place on their default parameters (the bundled data), keeping outputs.

The notebooks are committed with outputs (readable on GitHub, checked by nbval). After editing a
notebook, refresh it with::

    .venv/bin/python scripts/refresh_notebooks.py notebooks/03_customer_lifetime_value.ipynb

(no argument: every notebook, the workshop included). Not part of the package.
"""
from __future__ import annotations

import os
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
        # run from the notebook's folder with a relative name: papermill records the paths it was given
        # in the notebook's metadata, and a committed notebook must not carry this machine's paths
        here = os.getcwd()
        os.chdir(nb.parent)
        try:
            papermill.execute_notebook(nb.name, nb.name, kernel_name="python3", progress_bar=False)
        finally:
            os.chdir(here)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
