"""The learned-invariance lab: do networks get invariance from architecture, width, or data?

Five experiments train small networks on scikit-learn's bundled 8×8 digits
(the ``lab`` extra; nothing is downloaded) and measure them with the suite's
own checks — orbit errors, Zhang's consistency, the Lie derivative and the
exact worst-case accuracy over an orbit — over several seeds, with 95%
intervals, figures and a paragraph per experiment written from the numbers.
``invariances lab`` runs it from the command line.

>>> from convnet_invariances.app.lab import EXPERIMENTS
>>> list(EXPERIMENTS)
['augmentation', 'width', 'dense_learns_conv', 'multiresolution', 'architecture']
"""

from ._runner import EXPERIMENTS, run_lab

__all__ = ["EXPERIMENTS", "run_lab"]
