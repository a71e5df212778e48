"""Figure builders for the handbook: each is a function `(out_path) -> None` that draws one diagram.

One module per inventory family (`foundations` for E, `activations` for A, `losses` for L, ...).
The file type follows `out_path`'s suffix (.svg or .png). Figures are computed by deepnotes itself,
so a diagram shows what the code does.

An entry names its builders by dotted path (``figures: [{builder: deepnotes.handbook.figures.
normalization.axes_diagram, caption: ...}]``); the site calls `build_figure` for each at build time.
Builders that use matplotlib get the non-interactive Agg backend.
"""
from __future__ import annotations

from pathlib import Path

FIGURE_SUFFIX = ".svg"


def new_figure(width: float, height: float):
    """A matplotlib Figure of (width, height) inches on its own Agg canvas (no pyplot, no global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, out_path) -> None:
    """Write `fig` to `out_path` (.svg or .png by suffix) at 110 dpi, creating the folder."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_path, dpi=110)


def build_figure(builder: str, out_path) -> Path:
    """Call the builder named by the dotted path `builder` to write `out_path`; return the path.

    Raises:
        ValueError: the builder is not callable, or it returned without writing a non-empty file.
    """
    import matplotlib

    matplotlib.use("Agg")
    from ..schema import resolve

    out_path = Path(out_path)
    if out_path.suffix not in (".svg", ".png"):
        raise ValueError(f"build_figure: out_path must end in .svg or .png, got {str(out_path)!r}")
    func = resolve(builder)
    if not callable(func):
        raise ValueError(f"build_figure: {builder!r} is not a function (out_path) -> None")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if out_path.exists():
        out_path.unlink()
    func(out_path)
    try:
        import matplotlib.pyplot as plt

        plt.close("all")  # a builder that forgot to close its figure must not leak it into the next
    except ImportError:
        pass
    if not out_path.is_file() or out_path.stat().st_size == 0:
        raise ValueError(f"build_figure: {builder!r} did not write {str(out_path)!r}")
    return out_path
