"""Atomic writes: a write that fails half-way leaves the previous file as it was, and no litter."""

from __future__ import annotations

import json

import pytest

from inspector import atomic


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "card.json"
    atomic.write_json(target, {"version": "v1"})
    with pytest.raises(RuntimeError), atomic.replacing(target) as tmp:
        tmp.write_text('{"version": "v2", "trunc')  # a writer that dies mid-file
        raise RuntimeError("disk full")
    assert json.loads(target.read_text()) == {"version": "v1"}
    assert [p.name for p in tmp_path.iterdir()] == ["card.json"]


def test_writes_create_the_folder_replace_the_old_file_and_are_readable_by_others(tmp_path):
    target = tmp_path / "a" / "b" / "x.txt"
    atomic.write_text(target, "old")
    atomic.write_text(target, "ünïcode new")
    assert target.read_text(encoding="utf-8") == "ünïcode new"
    assert target.stat().st_mode & 0o777 == atomic.FILE_MODE  # not mkstemp's owner-only 0600


def test_replace_dir_swaps_a_whole_folder_and_removes_the_old_one(tmp_path):
    final = tmp_path / "model"
    for version in ("v1", "v2"):
        staging = tmp_path / f".staging-{version}"
        atomic.write_text(staging / "card.json", version)
        atomic.replace_dir(staging, final)
    assert (final / "card.json").read_text() == "v2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_writers_that_choose_the_format_by_suffix_write_the_target(tmp_path):
    import numpy as np

    target = tmp_path / "maps.npy"
    with atomic.replacing(target) as tmp:
        np.save(tmp, np.arange(3))  # np.save appends .npy unless the name already ends in it
    assert np.load(target).tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["maps.npy"]
