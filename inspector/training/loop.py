"""The training loop as a job (:mod:`inspector.jobs`): typed events out, the exported version back.

:func:`train` yields :class:`~inspector.domain.Progress` after every batch and the events of
:mod:`inspector.training.events` (started, epoch, early stop, time limit) as
:class:`~inspector.jobs.Partial`; it returns :class:`~inspector.training.events.Done`, and stops
between batches with :class:`~inspector.jobs.Cancelled` when its ``cancel`` callable says so
(the best checkpoint so far stays in ``out/checkpoints``)::

    done = jobs.run(train(TrainConfig(data=Path("neu-cls"), out=Path("runs/a"))),
                    on_partial=lambda event: print(event.to_json()))
    done.model_dir        # 'runs/a/model'

Multi-label: sigmoid outputs + BCE. AdamW with linear warm-up then cosine decay, early stopping
on validation macro AP (ties broken by validation BCE, since AP saturates at 1.0 on NEU; with
``select="top1"``, validation top-1 first: :func:`checkpoint_key`), fixed
seeds, atomic checkpoints (safetensors, tmp file + os.replace). Optional offline distillation:
a teacher model version's probabilities on the (un-augmented) training images are mixed into the
targets; flips and rotations do not change a plate's labels, so those targets stay valid. The
teacher sees the plates at its own input size (:func:`teacher_targets`).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from inspector import atomic, metrics
from inspector.domain import DatasetError, Progress
from inspector.imageio import PreprocessSpec, load_image
from inspector.jobs import CancelFn, Job, Partial, check, never
from inspector.registry import ModelCard
from inspector.runtime.export import export_model_version, round_weights_to_half
from inspector.runtime.torch_model import build_model, load_torch_model
from inspector.training import distributed
from inspector.training.augment import augment, corruptions, geometric_with_masks, photometric
from inspector.training.config import TrainConfig
from inspector.training.data import Dataset, Sample, read_imagefolder
from inspector.training.events import Done, EarlyStop, Epoch, Started, TimeLimit
from inspector.training.pretrained import load_pretrained
from inspector.trust.fit import fit_trust


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _load_split(samples: list[Sample], spec: PreprocessSpec) -> torch.Tensor:
    """Decode and resize once; uint8 (N, 1, S, S) in memory (1,800 NEU images = 72 MB)."""
    arr = np.stack([spec.resize(load_image(s.path)) for s in samples])
    return torch.from_numpy(arr)[:, None]


def _normalize(x01: torch.Tensor, spec: PreprocessSpec) -> torch.Tensor:
    # Same arithmetic as PreprocessSpec.normalize, on a batch, on the device.
    mean = torch.tensor(spec.mean, device=x01.device).view(1, -1, 1, 1)
    std = torch.tensor(spec.std, device=x01.device).view(1, -1, 1, 1)
    return (x01.expand(-1, spec.channels, -1, -1) - mean) / std


@torch.no_grad()
def predict_probs(
    model: torch.nn.Module,
    images: torch.Tensor,
    spec: PreprocessSpec,
    device: torch.device,
    batch_size: int = 64,
) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device).float() / 255.0
        out.append(torch.sigmoid(model(_normalize(x, spec)).float()).cpu())
    return torch.cat(out).numpy()


def _save_checkpoint(model: torch.nn.Module, path: Path, meta: dict) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic.replacing(path) as tmp:  # a crash mid-write leaves the previous checkpoint intact
        save_file(state, str(tmp), metadata={k: str(v) for k, v in meta.items()})
    atomic.write_json(path.with_suffix(".json"), meta)


def _lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))


def train(cfg: TrainConfig, dataset: Dataset | None = None, cancel: CancelFn = never) -> Job[Done]:
    """Train, tune thresholds on val, evaluate on test (when present), export a model version."""
    t0 = time.monotonic()
    _seed_all(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = distributed.init(_device(cfg.device))
    ds = dataset or read_imagefolder(cfg.data, boxes=cfg.boxes)
    train_s, val_s, test_s = ds.split("train"), ds.split("val"), ds.split("test")
    if not train_s or not val_s:
        raise DatasetError(
            f"{cfg.data}: need both train and val images (got {len(train_s)}/{len(val_s)})"
        )
    spec = PreprocessSpec(size=cfg.size, channels=1, mean=(0.5,), std=(0.5,))
    yield Progress(0, 0, f"loading {len(train_s) + len(val_s)} images")
    x_train, x_val = _load_split(train_s, spec), _load_split(val_s, spec)
    check(cancel)
    y_train = torch.from_numpy(ds.targets(train_s, cfg.secondary_target))
    y_val = ds.targets(val_s)
    guided = (
        cfg.box_guidance > 0
        or cfg.composite_prob > 0
        or cfg.box_keep_prob > 0
        or cfg.box_remove_prob > 0
    )
    if guided and cfg.boxes is None:
        raise DatasetError(
            "--box-guidance, --composite-prob and --box-keep/remove-prob need --boxes "
            "(VOC box files)"
        )
    masks = None
    if guided:
        from inspector.training import guidance

        yield Progress(0, 0, "reading the defect boxes")
        masks = guidance.box_masks(train_s, ds.classes, spec.size, cfg.boxes)
        primary = torch.tensor([s.primary for s in train_s])

    model = build_model(cfg.arch, len(ds.classes), spec.channels)
    init = load_pretrained(model, cfg.arch, cfg.pretrained, spec.channels)
    if cfg.teacher is not None:
        soft = teacher_targets(cfg.teacher, ds.classes, train_s, x_train, spec, device)
        y_train = (1 - cfg.distill_weight) * y_train + cfg.distill_weight * torch.from_numpy(soft)
    model.to(device)
    if device.type == "cuda" or cfg.arch.startswith(
        ("mobilenet", "tf_efficientnet", "efficientnet")
    ):
        model = model.to(memory_format=torch.channels_last)  # 1.4-1.6x faster training here
    net = model  # the module itself: what is evaluated, saved and exported
    if cfg.box_guidance > 0:
        model = guidance.WithFeatures(net)  # logits and the last feature map, for the CAM
    world, rank = distributed.world_size(), distributed.rank()
    if world > 1:  # torchrun: each rank takes its share of every batch, DDP averages gradients
        from torch.nn.parallel import DistributedDataParallel

        model = DistributedDataParallel(model)

    steps_per_epoch = math.ceil(len(train_s) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    warmup = int(cfg.warmup_epochs * steps_per_epoch)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, warmup, total_steps))
    use_amp = device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    g = torch.Generator().manual_seed(cfg.seed)
    ckpt_dir = cfg.out / "checkpoints"
    version = cfg.version or "neu-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")

    yield Partial(
        Started(
            version=version,
            arch=cfg.arch,
            size=cfg.size,
            device=device.type,
            init=init,
            train=len(train_s),
            val=len(val_s),
            test=len(test_s),
            epochs=cfg.epochs,
            teacher=str(cfg.teacher) if cfg.teacher else None,
        )
    )
    best_key, best_epoch, bad_epochs = (-1.0, -1.0, -np.inf), 0, 0
    epoch_times: list[float] = []
    for epoch in range(1, cfg.epochs + 1):
        te = time.monotonic()
        model.train()
        perm = torch.randperm(len(train_s), generator=g)
        total_loss = 0.0
        for i in range(0, len(perm), cfg.batch_size):
            check(cancel)
            idx = perm[i : i + cfg.batch_size]
            if len(idx) < 2 * world:
                continue  # BatchNorm cannot train on a batch of one (the same on every rank)
            idx = idx[rank::world]
            x = x_train[idx].float() / 255.0
            y = y_train[idx]
            if guided:
                x, m, y = guidance.composite(
                    x, masks[idx], y, primary[idx], g, cfg.composite_prob, cfg.secondary_target
                )
                x, m, y = guidance.counterfactuals(
                    x, m, y, primary[idx], g, cfg.box_keep_prob, cfg.box_remove_prob
                )
                x, m = geometric_with_masks(x, m, g, cfg.aug_strength)
                x = photometric(x, g, cfg.aug_strength) if cfg.aug_strength > 0 else x
            else:
                x = augment(x, g, cfg.aug_strength)
            x = corruptions(x, g, cfg.corruption_prob)
            x = _normalize(x.to(device), spec).contiguous(memory_format=torch.channels_last)
            y = y.to(device)
            with torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
                if cfg.box_guidance > 0:
                    logits, feats = model(x)
                    cam = guidance.class_maps(net, feats)
                    outside = guidance.outside_box_share(cam, m.to(device), y)
                else:
                    logits, outside = model(x), 0.0
                loss = F.binary_cross_entropy_with_logits(logits.float(), y)
                loss = loss + cfg.box_guidance * outside
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            sched.step()
            total_loss += loss.detach().item() * len(idx)
            yield Progress(
                (epoch - 1) * steps_per_epoch + i // cfg.batch_size + 1,
                total_steps,
                f"epoch {epoch}/{cfg.epochs}",
            )
        p_val = predict_probs(net, x_val, spec, device)
        val_ap = metrics.macro_ap(y_val, p_val)
        val_bce = float(metrics.per_image_bce(y_val, p_val).mean())
        val_top1 = metrics.top1_accuracy(np.array([s.primary for s in val_s]), p_val)
        epoch_times.append(time.monotonic() - te)
        key = checkpoint_key(cfg.select, val_top1, val_ap, val_bce)
        improved = key > best_key
        if improved:
            best_key, best_epoch, bad_epochs = key, epoch, 0
            if distributed.is_main():  # rank-0-only writes
                _save_checkpoint(
                    net, ckpt_dir / "best.safetensors", {"epoch": epoch, "val_macro_ap": val_ap}
                )
        else:
            bad_epochs += 1
        elapsed = time.monotonic() - t0
        remaining = cfg.epochs - epoch
        yield Partial(
            Epoch(
                epoch=epoch,
                epochs=cfg.epochs,
                loss=round(total_loss * world / len(train_s), 6),  # rank 0 sees 1/world
                val_macro_ap=round(val_ap, 6),
                val_bce=round(val_bce, 6),
                val_top1=round(val_top1, 6),
                lr=opt.param_groups[0]["lr"],
                best_epoch=best_epoch,
                elapsed_s=round(elapsed, 1),
                eta_s=round(remaining * float(np.mean(epoch_times[-5:])), 1),
            )
        )
        if bad_epochs >= cfg.patience:
            yield Partial(EarlyStop(epoch=epoch, best_epoch=best_epoch))
            break
        if cfg.max_minutes and elapsed > cfg.max_minutes * 60:
            yield Partial(TimeLimit(epoch=epoch, best_epoch=best_epoch))
            break

    check(cancel)
    distributed.barrier()  # every rank has trained; the best checkpoint is on disk
    if not distributed.is_main():
        return None  # rank 0 evaluates and exports
    yield Progress(total_steps, total_steps, "evaluating and exporting the best checkpoint")
    return _finish(cfg, ds, net, spec, device, version, init, best_epoch, x_val, y_val, test_s, t0)


def teacher_targets(
    teacher_dir: Path,
    classes: tuple[str, ...],
    samples: list[Sample],
    x: torch.Tensor,
    spec: PreprocessSpec,
    device: torch.device,
) -> np.ndarray:
    """The teacher version's probabilities on the (un-augmented) training plates, (N, C).

    The teacher sees the plates at its own input size: a 144 px teacher shown a 128 px
    student's plates would see every defect 11 % smaller than it was trained on.
    """
    teacher, tcard = load_torch_model(teacher_dir, device=str(device))
    if tuple(tcard.classes) != tuple(classes):
        raise DatasetError(f"teacher classes {tcard.classes} differ from the data's {classes}")
    tspec = tcard.preprocessing
    same = (tspec.size, tspec.interpolation) == (spec.size, spec.interpolation)
    return predict_probs(teacher, x if same else _load_split(samples, tspec), tspec, device)


def checkpoint_key(select: str, top1: float, ap: float, bce: float) -> tuple[float, ...]:
    """How an epoch ranks for the checkpoint kept (higher is better).

    Rounded: a difference in the 7th digit is noise, and the next criterion decides.

    >>> a, b = checkpoint_key("ap", 0.99, 0.970, 0.08), checkpoint_key("ap", 1.0, 0.969, 0.07)
    >>> a > b
    True
    >>> checkpoint_key("top1", 0.99, 0.970, 0.08) > checkpoint_key("top1", 1.0, 0.969, 0.07)
    False
    """
    first = round(top1, 6) if select == "top1" else round(ap, 6)
    return (first, round(ap, 6), -bce)


def _finish(
    cfg: TrainConfig,
    ds: Dataset,
    model: torch.nn.Module,
    spec: PreprocessSpec,
    device: torch.device,
    version: str,
    init: str,
    best_epoch: int,
    x_val: torch.Tensor,
    y_val: np.ndarray,
    test_s: list[Sample],
    t0: float,
) -> Done:
    """Reload the best checkpoint, calibrate and tune thresholds on val, fit the unfamiliar-plate
    score (:func:`inspector.trust.fit.fit_trust`), evaluate, export the two-output version."""
    from safetensors.torch import load_file

    model = model.to(memory_format=torch.contiguous_format)
    model.load_state_dict(load_file(str(cfg.out / "checkpoints" / "best.safetensors")))
    model.eval()
    if cfg.half_weights:
        # Round before evaluating, so thresholds and the card's metrics are the shipped weights'.
        round_weights_to_half(model)
    val_s = ds.split("val")
    train_s = ds.split("train")  # decoded again (seconds): train() keeps its tensor to itself
    trust = fit_trust(
        model,
        spec,
        _load_split(train_s, spec),
        np.array([s.primary for s in train_s]),
        x_val,
        y_val,
        device,
        half_weights=cfg.half_weights,
    )  # folds the temperatures into the head: everything below sees calibrated logits
    p_val = predict_probs(model, x_val, spec, device)
    thresholds = np.array(trust.thresholds)
    evals = {
        "val": metrics.summarize(
            y_val, p_val, ds.classes, thresholds, np.array([s.primary for s in val_s])
        )
    }
    if test_s:
        x_test = _load_split(test_s, spec)
        p_test = predict_probs(model, x_test, spec, device)
        evals["test"] = metrics.summarize(
            ds.targets(test_s),
            p_test,
            ds.classes,
            thresholds,
            np.array([s.primary for s in test_s]),
        )
    card = ModelCard(
        version=version,
        architecture=cfg.arch,
        classes=ds.classes,
        preprocessing=spec,
        thresholds=tuple(float(t) for t in thresholds),
        metrics=evals,
        data_hash=ds.content_hash(ds.split("train") + val_s),
        parent=cfg.parent,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        training={
            **cfg.to_json_dict(),
            "init": init,
            "best_epoch": best_epoch,
            "wall_time_s": round(time.monotonic() - t0, 1),
            "torch": torch.__version__,
        },
    )
    card = trust.apply(card)
    parity = np.stack([spec.normalize(a[0]) for a in x_val[:16].numpy()])  # real images
    model_dir, diff = export_model_version(
        model.cpu(),
        card,
        cfg.out / "model",
        parity,
        weights_dtype="float16" if cfg.half_weights else "float32",
        outputs=trust.scored(model),
    )
    headline = ("macro_ap", "top1_accuracy", "top1_errors")
    return Done(
        model_dir=str(model_dir),
        version=version,
        best_epoch=best_epoch,
        onnx_parity_max_abs_diff=diff,
        val={k: evals["val"].get(k) for k in headline},
        test={k: evals["test"].get(k) for k in headline} if test_s else None,
        wall_time_s=round(time.monotonic() - t0, 1),
    )
