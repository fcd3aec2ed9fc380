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


def plots_available() -> bool:
    """Whether matplotlib is installed (the ``plots`` extra): figures are drawn only then."""
    return _pyplot() is not None


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
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    labels = list(errors_by_element)
    ax.bar(range(len(labels)), [errors_by_element[k] for k in labels], color="#4477aa")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=9)
    ax.set_ylabel("max |f(g·x) − ρ(g)·f(x)|", fontsize=10)
    ax.set_title(title, fontsize=10)
    return _png(fig, plt)


def rate_plot(values, errors, parameter, rate, title, fitted, expected):
    """Error against the swept parameter: the measurements, the fitted law and the expected one (2^-J or
    1/parameter, anchored at the first point), with the slopes and their difference in the caption."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5.2, 3.8))
    first_x, first_e = values[0], errors[0]
    if parameter == "J":  # 2^-J is a straight line against J on a log scale
        law = lambda v, slope: first_e * 2.0 ** (slope * (v - first_x))  # noqa: E731
        ax.semilogy(values, errors, "o-", base=2, label="measured")
        xlabel = "J (scattering scale)"
    else:
        law = lambda v, slope: first_e * (v / first_x) ** slope  # noqa: E731
        ax.loglog(values, errors, "o-", base=2, label="measured")
        xlabel = parameter
    ax.plot(values, [law(v, fitted) for v in values], ":", color="#555555", label=f"fitted: slope {fitted:.2f}")
    ax.plot(values, [law(v, expected) for v in values], "--", color="#cc6677",
            label=f"expected {rate}: slope {expected:.0f}")
    ax.legend(fontsize=9)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel("relative invariance error", fontsize=10)
    ax.set_title(f"{title}\nfitted slope {fitted:.2f} vs expected {expected:.0f} (difference {fitted - expected:+.2f})",
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig, plt)


def comparison_plot(sides, series, xlabel, ylabel, title):
    """Several measured curves against one parameter, log-log (base 2)."""
    plt = _pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    for name, values in series.items():
        ax.loglog(sides, values, "o-", base=2, label=name)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    return _png(fig, plt)


def figure_for(result):
    """The figure that fits a claim result: a heatmap for translations, bars otherwise."""
    if result.error_map is not None:
        return shift_heatmap(result.error_map, f"{result.claim}: error per shift")
    return element_bars(result.errors_by_element, f"{result.claim}: error per element")
