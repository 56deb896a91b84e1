"""Explain a model version's per-class predictions for one image: a job with progress, cancel, cache.

Usage::

    explainer = Explainer("models/default", cache=ExplanationCache(ws / "explanations"))
    job = explainer.explain("plate.bmp", cancel=stop.is_set)     # nothing runs yet
    expl = jobs.run(job, on_progress=show, on_partial=show_first_look)  # off the GUI thread
    expl.map("scratches")                  # (H, W) signed map
    explainer.cached("plate.bmp")          # Explanation or None, no torch needed, a few ms

``explain`` returns a job (:mod:`inspector.jobs`): it yields Progress, a first-look
Explanation as a Partial while it refines, returns the final Explanation, and raises
:class:`~inspector.jobs.Cancelled` when cancelled (nothing half-done is cached).
torch (and the model) load on the first computation, not in the constructor, so the GUI can
build an Explainer and serve cached maps cheaply.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from inspector.domain import ModelError, Progress
from inspector.explain.background import (
    BACKGROUND_FILE,
    FALLBACK_DIGEST,
    Background,
    build_background,
    fallback_background,
    load_background,
    save_background,
    training_data_dir,
)
from inspector.explain.cache import ExplanationCache
from inspector.explain.expected_gradients import RunningEstimate, expected_gradients, prepare_model
from inspector.explain.resample import resize_maps, smooth_maps
from inspector.explain.settings import ExplainSettings, Explanation
from inspector.imageio import load_image
from inspector.jobs import CancelFn, Job, Partial, check, never
from inspector.registry import WEIGHTS_FILE, read_card

if TYPE_CHECKING:
    import torch

ImageInput = str | os.PathLike[str] | np.ndarray


def _file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_image(image: ImageInput) -> tuple[np.ndarray, str]:
    """(2-D uint8 image, sha256) of a path (hash of the file's bytes) or an array (of its pixels)."""
    if isinstance(image, np.ndarray):
        if image.ndim != 2 or image.dtype != np.uint8:
            raise ValueError("an image array must be 2-D uint8 grayscale (use imageio.load_image)")
        return image, hashlib.sha256(image.tobytes() + str(image.shape).encode()).hexdigest()
    gray = load_image(image)  # raises ImageLoadError with a clear reason
    return gray, _file_sha256(Path(image))


class Explainer:
    """Expected-gradients explanations for one model version (see the module docstring)."""

    method = "SHAP · expected gradients"  # what the window and the CLI call these maps

    def __init__(
        self,
        model_dir: str | os.PathLike[str],
        *,
        settings: ExplainSettings | None = None,
        cache: ExplanationCache | str | os.PathLike[str] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        device: str = "auto",
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir)
        self.card = read_card(self.model_dir)
        weights = self.model_dir / WEIGHTS_FILE
        if not weights.is_file():
            raise ModelError(
                f"{self.model_dir}: {WEIGHTS_FILE} is missing (explanations need the torch weights)"
            )
        self.classes: tuple[str, ...] = self.card.classes
        self.model_key = f"{self.card.version}-{_file_sha256(weights)[:12]}"
        self.settings = settings or ExplainSettings()
        self.cache = ExplanationCache(cache) if isinstance(cache, str | os.PathLike) else cache
        self.data_dir = Path(data_dir) if data_dir else None
        self.device_request = device
        self.threads = threads
        self._model: torch.nn.Module | None = None
        self._device = "cpu"
        self._background: Background | None = None
        self._background_resolved = False
        self._bg_logits: np.ndarray | None = None
        self._lock = threading.Lock()  # the GUI may ask from two workers; load the model once

    # -- background ------------------------------------------------------------------------------
    @property
    def background(self) -> Background | None:
        """The stored/built training background, or None when the per-image fallback is used."""
        if not self._background_resolved:
            self._background = self._resolve_background()
            self._background_resolved = True
        return self._background

    def _workspace_background_path(self) -> Path | None:
        if self.cache is None:
            return None
        return self.cache.root / "backgrounds" / f"{self.model_key}.npz"

    def _resolve_background(self) -> Background | None:
        shipped = self.model_dir / BACKGROUND_FILE
        stored = self._workspace_background_path()
        for path in (shipped, stored):
            if path is not None and path.is_file():
                return load_background(path)
        data = self.data_dir or training_data_dir(self.card, self.model_dir)
        if data is None:
            return None
        bg = build_background(self.card, data)
        if stored is not None:
            save_background(bg, stored)  # the next session (and the cache key) use the same set
        return bg

    @property
    def settings_digest(self) -> str:
        bg = self.background
        return self.settings.digest(bg.digest if bg is not None else FALLBACK_DIGEST)

    # -- model -------------------------------------------------------------------------------------
    def _torch_model(self) -> torch.nn.Module:
        with self._lock:
            if self._model is None:
                import torch

                from inspector.runtime.torch_model import load_torch_model

                if self.threads:
                    torch.set_num_threads(self.threads)
                want_cuda = self.device_request in ("auto", "cuda")
                self._device = "cuda" if want_cuda and torch.cuda.is_available() else "cpu"
                if self.device_request == "cuda" and self._device != "cuda":
                    raise ModelError("CUDA was requested but torch sees no usable GPU")
                model, _ = load_torch_model(self.model_dir, device=self._device)
                spec = self.card.preprocessing
                example = (
                    np.random.default_rng(0)
                    .normal(0, 1, (2, spec.channels, spec.size, spec.size))
                    .astype(np.float32)
                )
                self._model = prepare_model(model, self._device, example)
            return self._model

    def logits(self, x: np.ndarray) -> np.ndarray:
        """(N, C, s, s) preprocessed batch -> (N, n_classes) logits with the torch model."""
        import torch

        model = self._torch_model()
        with torch.no_grad():
            t = torch.from_numpy(np.ascontiguousarray(x, np.float32)).to(self._device)
            return model(t.contiguous(memory_format=torch.channels_last)).float().cpu().numpy()

    @property
    def device(self) -> str:
        """ "cuda" or "cpu" once the model is loaded."""
        return self._device

    # -- public API --------------------------------------------------------------------------------
    def prepare(self) -> str:
        """Load torch, the weights and the background now (seconds, the first time); the device.

        The window calls this in a worker once it is idle, so the first heatmap a person asks
        for does not wait for torch.
        """
        self._torch_model()
        _ = self.background
        return self._device

    def _class_indices(self, classes: Sequence[str] | None) -> list[int]:
        if classes is None:
            return list(range(len(self.classes)))
        unknown = [c for c in classes if c not in self.classes]
        if unknown:
            raise ModelError(f"unknown class {unknown[0]!r}; this model knows {self.classes}")
        return [self.classes.index(c) for c in classes]

    def cached(self, image: ImageInput) -> Explanation | None:
        """The cached all-class explanation of ``image`` for this model and settings, or None.

        A bad image raises :class:`~inspector.domain.ImageLoadError`, cache or not.
        """
        t0 = time.perf_counter()
        gray, sha = read_image(image)
        return self._lookup(gray, sha, t0)

    def _lookup(self, gray: np.ndarray, sha: str, t0: float) -> Explanation | None:
        if self.cache is None:
            return None
        entry = self.cache.get(sha, self.model_key, self.settings_digest)
        if entry is None:
            return None
        m = entry.meta
        return Explanation(
            classes=tuple(m["classes"]),
            maps=resize_maps(entry.model_maps, gray.shape),
            model_maps=entry.model_maps,
            logits=np.asarray(m["logits"], np.float32),
            base_values=np.asarray(m["base_values"], np.float32),
            model_version=self.card.version,
            image_sha256=sha,
            settings_digest=self.settings_digest,
            background_source=m["background_source"],
            from_cache=True,
            seconds=time.perf_counter() - t0,
            samples=self.settings.nsamples,  # the digest includes it: a hit has them all
        )

    def explain(
        self,
        image: ImageInput,
        classes: Sequence[str] | None = None,
        cancel: CancelFn = never,
        use_cache: bool = True,
    ) -> Job[Explanation]:
        """A job explaining ``classes`` (default: all) of ``image`` (see the module docstring).

        Reads the image now (a bad file raises :class:`~inspector.domain.ImageLoadError` here,
        not in a worker). Only all-class explanations are cached.
        """
        gray, sha = read_image(image)
        idx = self._class_indices(classes)
        return self._run(gray, sha, idx, cancel, use_cache)

    def _run(
        self,
        gray: np.ndarray,
        sha: str,
        idx: list[int],
        cancel: CancelFn,
        use_cache: bool,
    ) -> Job[Explanation]:
        t0 = time.perf_counter()
        all_classes = idx == list(range(len(self.classes)))
        if use_cache and all_classes and (hit := self._lookup(gray, sha, t0)) is not None:
            yield Progress(1, 1, "from cache")
            return hit
        yield Progress(0, 1, "loading model")
        model = self._torch_model()
        check(cancel)
        bg = self.background or fallback_background(gray, self.card)
        bgx = bg.tensor(self.card)
        x = self.card.preprocessing.apply(gray)
        if self.background is None or self._bg_logits is None:
            bg_logits = self.logits(bgx)
            if self.background is not None:
                self._bg_logits = bg_logits
        else:
            bg_logits = self._bg_logits
        s = self.settings
        logits = self.logits(x[None])[0]

        def explanation(attrs: np.ndarray, samples: int) -> Explanation:
            model_maps = smooth_maps(attrs.sum(axis=1), s.smooth_sigma)
            return Explanation(
                classes=tuple(self.classes[i] for i in idx),
                maps=resize_maps(model_maps, gray.shape),
                model_maps=model_maps,
                logits=logits[idx].astype(np.float32),
                base_values=bg_logits.mean(0)[idx].astype(np.float32),
                model_version=self.card.version,
                image_sha256=sha,
                settings_digest=self.settings_digest,
                background_source=bg.source,
                seconds=time.perf_counter() - t0,
                samples=samples,
                final=samples == s.nsamples,
            )

        gen = expected_gradients(
            model,
            x,
            bgx,
            idx,
            nsamples=s.nsamples,
            seed=s.seed,
            sampling=s.sampling,
            batch_size=s.batch_size,
            first_look=s.first_look,
            device=self._device,
            cancel=cancel,
        )
        while True:
            try:
                item = next(gen)
            except StopIteration as stop:
                attrs = stop.value
                break
            if isinstance(item, Partial) and isinstance(item.value, RunningEstimate):
                # a first look: hand the viewer a whole Explanation
                item = Partial(explanation(item.value.attributions, item.value.samples))
            yield item
        expl = explanation(attrs, s.nsamples)
        model_maps = expl.model_maps
        if use_cache and all_classes and self.cache is not None:
            meta = {
                "classes": list(expl.classes),
                "logits": expl.logits.tolist(),
                "base_values": expl.base_values.tolist(),
                "background_source": bg.source,
            }
            self.cache.put(
                sha, self.model_key, expl.settings_digest, model_maps, meta, self.card.version
            )
        return expl
