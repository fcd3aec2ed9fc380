"""The lab's figures: PNG bytes per experiment (matplotlib, the ``plots`` extra); error bars are the 95% intervals."""

from __future__ import annotations

import io

from .._plots import _png, _pyplot

COLOURS = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377")


def _err(stats: list[dict]):
    """Asymmetric error bars from summaries (zero where there is no interval)."""
    low = [s["mean"] - s["ci95"][0] if s["ci95"] else 0.0 for s in stats]
    high = [s["ci95"][1] - s["mean"] if s["ci95"] else 0.0 for s in stats]
    return [low, high]


def _bars(ax, groups: list[str], series: dict[str, list[dict]], ylabel: str, log: bool = False):
    width = 0.8 / max(1, len(series))
    for i, (label, stats) in enumerate(series.items()):
        positions = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(positions, [s["mean"] for s in stats], width, yerr=_err(stats), capsize=2, label=label,
               color=COLOURS[i % len(COLOURS)])
    ax.set_xticks(range(len(groups)), groups, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel, fontsize=9)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)


def augmentation(metrics: dict) -> dict[str, bytes]:
    plt = _pyplot()
    if plt is None:
        return {}
    v = metrics["variants"]
    names = list(v)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    _bars(left, names, {place: [v[n][f"orbit_c4[{place}]"] for n in names]
                        for place in ("digits", "held-out classes", "noise")},
          "C4 orbit error of the logits (relative)", log=True)
    left.set_title("invariance to rot90: on the data and off it", fontsize=10)
    _bars(right, names, {"upright": [v[n]["accuracy"] for n in names],
                         "rot90/180/270": [v[n]["accuracy_c4"] for n in names],
                         "any angle": [v[n]["accuracy_any_angle"] for n in names]}, "test accuracy")
    right.set_title("accuracy on rotated test digits", fontsize=10)
    return {"augmentation.png": _png(fig, plt)}


def width(metrics: dict) -> dict[str, bytes]:
    plt = _pyplot()
    if plt is None:
        return {}
    v = metrics["variants"]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    depths = sorted({k.split("-")[1].split("x")[0] for k in v if k.startswith("mlp-")})
    for ax, key, title in zip(axes, ("accuracy_1px", "consistency", "worst_case_shift"),
                              ("accuracy after 1-pixel shifts", "consistency (random shifts ≤ 4 px)",
                               "worst-case accuracy, all 256 shifts")):
        for i, depth in enumerate(depths):
            names = sorted((k for k in v if k.startswith(f"mlp-{depth}x")), key=lambda k: v[k]["parameters"]["mean"])
            stats = [v[k][key] for k in names]
            ax.errorbar([v[k]["parameters"]["mean"] for k in names], [s["mean"] for s in stats], yerr=_err(stats),
                        marker="o", capsize=2, color=COLOURS[i], label=f"MLP, {depth} hidden layer(s)")
        if "cnn-gap" in v:
            ax.axhline(v["cnn-gap"][key]["mean"], color="#222222", linestyle="--", label="CNN, global pooling")
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("parameters", fontsize=9)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=7)
    return {"width.png": _png(fig, plt)}


def dense_learns_conv(metrics: dict) -> dict[str, bytes]:
    plt = _pyplot()
    if plt is None:
        return {}
    v = metrics["variants"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    i = 0
    for dims in ("1d", "2d"):
        for kind in ("white", "smooth"):
            names = sorted((k for k in v if k.startswith(f"{dims}/{kind}/")), key=lambda k: float(k.split("n=")[1][:-1]))
            if not names:
                continue
            factors = [float(k.split("n=")[1][:-1]) for k in names]
            for ax, key, style in ((axes[0], "circulant_distance", "-"), (axes[1], "orbit[on]", "-"),
                                   (axes[1], "orbit[off]", ":")):
                stats = [v[k][key] for k in names]
                label = f"{dims}, {kind}" + ("" if ax is axes[0] else (", on" if key.endswith("[on]") else ", off"))
                ax.errorbar(factors, [max(s["mean"], 1e-8) for s in stats], yerr=_err(stats), marker="o",
                            capsize=2, linestyle=style, color=COLOURS[i], label=label)
            i += 1
    axes[0].set_title("distance to the nearest convolution", fontsize=10)
    axes[1].set_title("translation orbit error: on / off distribution", fontsize=10)
    for ax in axes[:2]:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("training samples / N", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    units = sorted((k for k in v if k.startswith("1d/units/")), key=lambda k: float(k.split("h=")[1][:-1]))
    if units:
        stats = [v[k]["error[on]"] for k in units]
        axes[2].errorbar([float(k.split("h=")[1][:-1]) for k in units], [max(s["mean"], 1e-8) for s in stats],
                         yerr=_err(stats), marker="o", capsize=2, color=COLOURS[0])
        axes[2].set_xscale("log", base=2)
        axes[2].set_yscale("log")
        axes[2].set_xlabel("hidden units / N (two linear layers)", fontsize=9)
        axes[2].set_ylabel("relative error against the convolution", fontsize=9)
        axes[2].set_title("units needed (1-D, N = 32)", fontsize=10)
        axes[2].grid(True, which="both", alpha=0.3)
    return {"dense_learns_conv.png": _png(fig, plt)}


def multiresolution(metrics: dict) -> dict[str, bytes]:
    plt = _pyplot()
    if plt is None:
        return {}
    v = metrics["variants"]
    names = list(v)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [2, 1]})
    _bars(left, ["training scale", "upscaled ×2", "downscaled ×2", "magnified ×0.8–1.5"],
          {n: [v[n][k] for k in ("accuracy", "accuracy_up2", "accuracy_down2", "accuracy_zoom")] for n in names},
          "test accuracy")
    left.set_title("accuracy under rescaling", fontsize=10)
    _bars(right, ["Upscale(2)", "scale Lie derivative"],
          {n: [v[n]["invariance_up2"], v[n]["lie_scale"]] for n in names}, "relative error", log=True)
    right.set_title("invariance errors", fontsize=10)
    return {"multiresolution.png": _png(fig, plt)}


def architecture(metrics: dict) -> dict[str, bytes]:
    plt = _pyplot()
    if plt is None:
        return {}
    v = metrics["variants"]
    names = list(v)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, title, log in ((axes[0], "consistency", "consistency (random shifts ≤ 4 px)", False),
                                (axes[1], "worst_case_shift", "worst-case accuracy over all 256 shifts", False),
                                (axes[2], "orbit_error", "largest logit change over all shifts (relative)", True)):
        series = {state: [v[n][f"{state}/{key}"] for n in names] for state in metrics["states"]}
        if log:  # exact zeros cannot be drawn on a log axis: floor them at the float32 resolution
            series = {s: [dict(x, mean=max(x["mean"], 1e-8)) for x in stats] for s, stats in series.items()}
        _bars(ax, names, series, key.replace("_", " "), log=log)
        ax.set_title(title, fontsize=10)
    figures = {"architecture.png": _png(fig, plt)}
    maps = metrics.get("accuracy_maps_first_seed", {})
    if maps:
        import torch

        fig, axes = plt.subplots(1, len(maps), figsize=(2.1 * len(maps) + 1.0, 2.6), squeeze=False)
        for i, (ax, (name, states)) in enumerate(zip(axes[0], maps.items())):
            grid = torch.tensor(states["trained"])
            side = grid.shape[0]
            # the identity in the middle: shifts from −side/2 to side/2 − 1 along each axis
            centred = torch.roll(grid, (side // 2, side // 2), (0, 1))
            extent = (-side // 2 - 0.5, side // 2 - 0.5, side // 2 - 0.5, -side // 2 - 0.5)
            image = ax.imshow(centred.numpy(), vmin=0, vmax=1, cmap="viridis", extent=extent)
            ax.set_title(name, fontsize=8)
            ax.set_xlabel("dx", fontsize=7)
            if i == 0:
                ax.set_ylabel("dy", fontsize=7)
            ax.tick_params(labelsize=6)
        fig.suptitle("accuracy after each circular shift (first seed, trained)", fontsize=9)
        fig.subplots_adjust(left=0.05, right=0.9, bottom=0.18, top=0.8, wspace=0.25)
        colour_axis = fig.add_axes((0.92, 0.2, 0.012, 0.58))
        fig.colorbar(image, cax=colour_axis)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=100)
        plt.close(fig)
        figures["architecture_shift_maps.png"] = out.getvalue()
    return figures
