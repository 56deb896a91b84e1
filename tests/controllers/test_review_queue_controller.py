"""The sign-off queue's controller without Qt: a real SQLite workspace, jobs run inline."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.controllers.labels import LabelService
from inspector.controllers.review_queue import (
    PAGE_SIZE,
    ReviewQueueController,
    day_bounds,
    reasons,
    shift_bounds,
)
from inspector.controllers.signoff_report import write_csv
from inspector.controllers.supervision import QueueFilter
from inspector.jobs import SyncRunner
from tests.supervisor_data import seed


def make(tmp_path: Path, role: str, user: str = "sue", n: int = 40):
    svc = LabelService.open(tmp_path / "ws", user=user, role=role)
    if n:
        seed(svc._store, n)
    ctl = ReviewQueueController(SyncRunner())
    said: list[str] = []
    ctl.message.connect(said.append)
    ctl.set_service(svc.supervision(), str(tmp_path / "ws"))
    return svc, ctl, said


@pytest.fixture()
def sup(tmp_path):
    svc, ctl, said = make(tmp_path, "supervisor")
    yield ctl, said, svc
    svc.close()


def test_opening_shows_the_doubtful_decisions_most_doubtful_first(sup):
    ctl, _, _ = sup
    assert ctl.total == 8 and len(ctl.items) == 8  # every fifth of 40 plates
    doubts = [i.doubt for i in ctl.items]
    assert doubts == sorted(doubts) and all(d <= 1 for d in doubts)
    assert ctl.current is ctl.items[0]
    why = reasons(ctl.current)
    assert "between 0.38 and 0.62 around its threshold 0.50" in why[0] or "close to 0.50" in why[0]


def test_approve_signs_off_and_moves_to_the_next(sup):
    ctl, said, svc = sup
    first = ctl.current
    assert ctl.approve()
    assert ctl.total == 7 and first not in ctl.items and ctl.current is ctl.items[0]
    (rev,) = svc._store.reviews(first.path)
    assert rev.decision == "approve" and rev.user == "sue"
    assert "approved by sue" in said[-1]
    ctl.refresh()  # the store agrees
    assert ctl.total == 7


def test_override_needs_a_reason(sup):
    ctl, said, svc = sup
    item = ctl.current
    assert not ctl.override(["scratches"], "   ")
    assert "needs a reason" in said[-1] and ctl.total == 8
    assert svc._store.reviews(item.path) == []
    assert ctl.override(["scratches"], "a scratch, not crazing")
    assert svc._store.labels(item.path) == ("scratches",)
    (rev,) = svc._store.reviews(item.path)
    assert rev.decision == "override" and rev.reason == "a scratch, not crazing"
    assert ctl.total == 7


def test_an_inspector_cannot_sign_off(tmp_path):
    svc, ctl, said = make(tmp_path, "inspector", user="ana")
    item = ctl.current
    assert not ctl.approve() and not ctl.override([], "clean")
    assert said[-1] == "only a supervisor can sign off decisions (you are signed in as inspector)"
    assert svc._store.reviews(item.path) == [] and ctl.total == 8
    svc.close()


def test_filters_by_user_and_date(sup):
    ctl, _, _ = sup
    ctl.set_filter(QueueFilter(user="ana"))
    assert ctl.total == 4 and {i.labelled_by for i in ctl.items} == {"ana"}
    since, until = day_bounds(None, None)
    assert since is None and until is None
    import datetime as dt

    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    ctl.set_filter(QueueFilter(since=day_bounds(tomorrow, None)[0]))
    assert ctl.total == 0 and ctl.current is None
    ctl.set_filter(QueueFilter(*[None] * 2, *shift_bounds()))
    assert ctl.total == 8


def test_paging(tmp_path):
    svc, ctl, _ = make(tmp_path, "supervisor", n=1100)  # 220 doubtful decisions
    assert ctl.total == 220 and len(ctl.items) == PAGE_SIZE
    first = [i.image_id for i in ctl.items]
    ctl.next_page()
    assert ctl.offset == PAGE_SIZE and not set(first) & {i.image_id for i in ctl.items}
    ctl.next_page()
    ctl.next_page()  # no fourth page
    assert ctl.offset == 2 * PAGE_SIZE and len(ctl.items) == 20
    ctl.previous_page()
    assert ctl.offset == PAGE_SIZE
    svc.close()


def test_the_report_csv_has_one_row_per_decision(sup, tmp_path):
    ctl, _, svc = sup
    ctl.approve()
    ctl.override(
        [],
        "clean plate",
    )
    ctl.approve()
    rows = svc.supervision().log(*shift_bounds())
    assert [r.decision for r in rows] == ["approve", "override", "approve"]
    n = write_csv(rows, tmp_path / "signoff.csv")
    lines = (tmp_path / "signoff.csv").read_text().splitlines()
    assert n == 3 and len(lines) == 4 and lines[0].startswith("reviewed_at,image,decision")
    assert ",override,sue,clean plate,no defect," in lines[2]
