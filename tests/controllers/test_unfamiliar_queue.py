"""The supervisors' sign-off queue lists unfamiliar plates with their reason (issue 16), without
Qt: a real SQLite workspace, the store's own API, jobs run inline."""

from __future__ import annotations

import math

from inspector.controllers.labels import LabelService
from inspector.controllers.review_queue import ReviewQueueController, reasons
from inspector.jobs import SyncRunner
from tests.supervisor_data import seed
from tests.unfamiliar_data import mark_unfamiliar

CONFIDENT, DOUBTFUL = "/plates/p001.bmp", "/plates/p000.bmp"  # p000: every fifth is doubtful


def test_unfamiliar_plates_head_the_queue_with_their_reason(tmp_path):
    svc = LabelService.open(tmp_path / "ws", user="sue", role="supervisor")
    try:
        seed(svc._store, 40)
        mark_unfamiliar(svc._store, {CONFIDENT: 9.0, DOUBTFUL: math.nan})
        ctl = ReviewQueueController(SyncRunner())
        ctl.set_service(svc.supervision(), str(tmp_path / "ws"))
        assert ctl.total == 9  # the 8 doubtful ones and the confident unfamiliar one
        first_two = {it.path for it in ctl.items[:2]}
        assert first_two == {CONFIDENT, DOUBTFUL}
        by_path = {it.path: it for it in ctl.items}
        why = ctl.reasons(by_path[CONFIDENT])
        assert why == [
            "unfamiliar plate: the model has not seen plates like this "
            "(score 9.00, flagged above 2.00)"
        ]
        why = ctl.reasons(by_path[DOUBTFUL])
        assert why[0].startswith("unfamiliar plate") and "could not be computed" in why[0]
        assert any(r.startswith("low confidence: ") for r in why[1:])  # both reasons, in order
        for it in ctl.items[2:]:
            assert all(r.startswith("low confidence: ") for r in reasons(it))
        assert ctl.prediction(by_path[CONFIDENT]).is_unfamiliar
        assert not ctl.prediction(ctl.items[-1]).is_unfamiliar
        # signing it off takes it out like any other decision
        ctl.select(ctl.items.index(by_path[CONFIDENT]))
        assert ctl.approve() and CONFIDENT not in {it.path for it in ctl.items}
    finally:
        svc.close()
