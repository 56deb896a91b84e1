"""Child process for the crash tests: label images in a loop, print each event id once the
write call has returned (i.e. once the store says it is durable).

    python writer_child.py WORKSPACE N_IMAGES SEED
"""

from __future__ import annotations

import random
import sys

from inspector.domain import NEU_CLASSES
from inspector.store import LabelStore


def main() -> None:
    ws, n_images, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    store = LabelStore.open(ws)
    print("ready", flush=True)
    while True:
        img = rng.randrange(1, n_images + 1)
        if rng.random() < 0.15:
            try:
                ev = store.undo(img, user="child")
            except Exception:  # nothing to undo on this image yet: label it instead
                continue
        else:
            labels = rng.sample(NEU_CLASSES, rng.randrange(0, 3))
            ev = store.set_labels(img, labels, user="child", reason="crash test")
        print(ev.id, flush=True)


if __name__ == "__main__":
    main()
