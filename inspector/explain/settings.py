"""What an explanation was computed with, and what it is: settings in, :class:`Explanation` out.

>>> s = ExplainSettings(nsamples=16)
>>> len(s.digest())
16

Nothing here imports torch: the GUI can read cached explanations without paying for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

import numpy as np

from inspector.metrics import sigmoid

#: Bump when the estimator changes in a way that changes its numbers: old cache entries then miss.
ALGORITHM = "expected-gradients-v1"
SAMPLINGS = ("stratified", "shap")


@dataclass(frozen=True, slots=True)
class ExplainSettings:
    """Knobs of the expected-gradients estimator (all part of the cache key).

    ``sampling="stratified"`` spreads the interpolation points evenly over [0, 1] and cycles through
    the whole background set, which needs fewer samples than i.i.d. draws for the same noise;
    ``"shap"`` reproduces shap.GradientExplainer's draws exactly (used to validate against it).
    ``smooth_sigma`` (pixels at the model's input size) blurs the map; off by default, because on
    the shipped model blurring does not bring a few-sample map much closer to the converged one
    (its noise is not only per-pixel; see benchmarks/bench_explain.py).

    Expected gradients converge slowly on a trained CNN (benchmarks/bench_explain.py: 8 samples
    correlate ~0.3 with the same estimator at 256 samples, 64 samples ~0.55), so no sample count
    is both fast and good. The estimate is therefore *progressive*: ``first_look`` samples give a
    first all-class map (under 0.5 s for the shipped model on 2 cores), which viewers show while
    the rest, ``batch_size`` at a time, refine it up to ``nsamples``. Only the final map is cached.
    """

    nsamples: int = 30
    seed: int = 0
    sampling: str = "stratified"
    smooth_sigma: float = 0.0
    batch_size: int = 12
    first_look: int = 6

    def __post_init__(self) -> None:
        if self.nsamples < 1:
            raise ValueError("nsamples must be at least 1")
        if self.sampling not in SAMPLINGS:
            raise ValueError(f"sampling must be one of {SAMPLINGS}, not {self.sampling!r}")
        if self.smooth_sigma < 0 or self.batch_size < 1 or self.first_look < 1:
            raise ValueError("smooth_sigma must be >= 0, batch_size and first_look >= 1")

    def digest(self, background: str = "") -> str:
        """Short stable hash of the settings (how the samples are chunked is left out: it does
        not change the final result)."""
        d = asdict(self)
        d.pop("batch_size")
        d.pop("first_look")
        d["algorithm"] = ALGORITHM
        d["background"] = background
        return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(slots=True)
class Explanation:
    """Per-class signed attribution maps for one image.

    ``maps[k]`` has the image's own resolution; positive = pushes the logit of ``classes[k]`` up.
    The maps are scaled so that ``maps[k].sum() ≈ logits[k] - base_values[k]`` (the additivity of
    expected gradients), whatever the image's resolution. ``model_maps`` are the same at the
    model's input size (used by the deletion test).
    """

    classes: tuple[str, ...]
    maps: np.ndarray  # (K, H, W) float32
    model_maps: np.ndarray  # (K, s, s) float32
    logits: np.ndarray  # (K,) float32, logits of the explained image
    base_values: np.ndarray  # (K,) float32, mean logits over the background set
    model_version: str
    image_sha256: str
    settings_digest: str
    background_source: str
    from_cache: bool = False
    seconds: float = 0.0
    samples: int = 0  # expected-gradients samples behind the maps (fewer than asked: a first look)
    final: bool = True  # False for the progressive first looks yielded while refining
    extra: dict = field(default_factory=dict)

    @property
    def probabilities(self) -> np.ndarray:
        return sigmoid(self.logits.astype(np.float64))

    def index(self, cls: str) -> int:
        try:
            return self.classes.index(cls)
        except ValueError:
            raise KeyError(f"class {cls!r} was not explained; have {self.classes}") from None

    def map(self, cls: str) -> np.ndarray:
        """The (H, W) attribution map of one class at the image's resolution."""
        return self.maps[self.index(cls)]
