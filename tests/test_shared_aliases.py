"""Aliases kept in a module are shared by every thread of a server process: each must be
made ready before it is (models.base.shared_alias)."""
import importlib
import sys
import threading
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.orm.util import AliasedClass

import tracker
from tracker.models import Unit
from tracker.models.base import SHARED_ALIASES, shared_alias


def test_every_alias_kept_in_a_module_is_made_by_shared_alias():
    root = Path(tracker.__file__).parent
    names = [".".join(("tracker", *path.relative_to(root).with_suffix("").parts))
             for path in root.rglob("*.py")]
    kept = []
    for name in names:
        module = importlib.import_module(name.removesuffix(".__init__"))
        for attribute, value in vars(module).items():
            if isinstance(value, AliasedClass) and value not in SHARED_ALIASES:
                kept.append(f"{module.__name__}.{attribute}")
    assert len(names) > 50 and kept == []


def test_a_shared_alias_answers_for_every_column_from_threads_at_once():
    # Several threads ask a new alias for the column it stands for, at the same moment and
    # switching as often as the interpreter can: none may be told there is none (with a
    # plain `aliased`, about one alias in twelve was, for its last column).
    last = Unit.__table__.c.created_at
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        missed = 0
        for _ in range(200):
            selectable = inspect(shared_alias(Unit)).selectable
            found = []
            barrier = threading.Barrier(4)

            def ask():
                barrier.wait()
                found.append(selectable.corresponding_column(last))

            threads = [threading.Thread(target=ask) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            missed += sum(column is None for column in found)
    finally:
        sys.setswitchinterval(interval)
    assert missed == 0
