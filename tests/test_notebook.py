"""The models-comparison notebook executes end to end on small data (nbclient)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
NB = REPO / "notebooks" / "0.01-models-comparison.ipynb"


def test_models_notebook_executes_and_prints_the_table(monkeypatch):
    """Run every cell (small mode); the back-test table appears in the outputs."""
    monkeypatch.setenv("NJF_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    nb = nbformat.read(NB, as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "MAPE (%) by lead — primary_enrolment" in text
    assert "structural" in text
