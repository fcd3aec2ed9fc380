"""Figures for reports: error heatmaps over shifts, errors per element, rates. PNG bytes via matplotlib (optional)."""

from __future__ import annotations

import io


def _pyplot():
    try:
        import matplotlib
    except ImportError:  # plots are optional: reports still carry every number
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig, plt):
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


def shift_heatmap(error_map, title):
    """Heatmap of the error at every shift (dy, dx) of a shift grid ``{"origin", "values"}`` — or a line plot
    for 1-D signals.  Shifts that were not evaluated stay blank."""
    plt = _pyplot()
    if plt is None or error_map is None:
        return None
    values, origin = error_map["values"], error_map["origin"]
    fig, ax = plt.subplots(figsize=(4.6, 3.8))
    if values and isinstance(values[0], list):
        finite = [v for row in values for v in row if v == v]
        peak = max(finite) if finite else 0.0
        extent = (origin[1] - 0.5, origin[1] + len(values[0]) - 0.5, origin[0] + len(values) - 0.5, origin[0] - 0.5)
        image = ax.imshow(values, cmap="magma", origin="upper", vmin=0, vmax=peak if peak > 0 else 1, extent=extent)
        fig.colorbar(image, ax=ax, label="max |f(g·x) − ρ(g)·f(x)|")
        ax.set_xlabel("dx (columns the content moved)")
        ax.set_ylabel("dy (rows the content moved)")
    else:
        ax.plot(range(origin[0], origin[0] + len(values)), values, "o-")
        ax.set_xlabel("shift")
        ax.set_ylabel("max |f(g·x) − ρ(g)·f(x)|")
    ax.set_title(title, fontsize=10)
    return _png(fig, plt)


#: bar charts beyond this many elements are unreadable; groups that large are shift groups, drawn as heatmaps
MAX_BARS = 16


def element_bars(errors_by_element, title):
    """Bar chart of the error per group element (rotations, flips, scalings)."""
    plt = _pyplot()
    if plt is None or not errors_by_element or len(errors_by_element) > MAX_BARS:
        return None
    fig, ax = plt.subplots(figsize=(4.2, 3.0))
    labels = list(errors_by_element)
    ax.bar(range(len(labels)), [errors_by_element[k] for k in labels], color="#4477aa")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("max error")
    ax.set_title(title, fontsize=9)
    return _png(fig, plt)


def rate_plot(values, errors, parameter, rate, title):
    """Error against the swept parameter, with the expected law (2^-J or 1/parameter) as a dashed reference."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    if parameter == "J":  # 2^-J is a straight line against J on a log scale
        ax.semilogy(values, errors, "o-", base=2, label="measured")
        ax.semilogy(values, [errors[0] * 2.0 ** (values[0] - v) for v in values], "--", base=2, label="2^-J")
    else:
        ax.loglog(values, errors, "o-", base=2, label="measured")
        ax.loglog(values, [errors[0] * values[0] / v for v in values], "--", base=2, label=f"1/{parameter}")
    ax.legend(fontsize=8)
    ax.set_xlabel(parameter)
    ax.set_ylabel("relative invariance error")
    ax.set_title(f"{title}\nexpected: falls like {rate}", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig, plt)


def comparison_plot(sides, series, xlabel, ylabel, title):
    """Several measured curves against one parameter, log-log (base 2)."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5.0, 3.6))
    for name, values in series.items():
        ax.loglog(sides, values, "o-", base=2, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig, plt)


def figure_for(result):
    """The figure that fits a claim result: a heatmap for translations, bars otherwise."""
    if result.error_map is not None:
        return shift_heatmap(result.error_map, f"{result.claim}: error per shift")
    return element_bars(result.errors_by_element, f"{result.claim}: error per element")
