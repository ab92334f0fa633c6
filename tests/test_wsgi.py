"""The WSGI entry point (wsgi.py), as gunicorn loads it."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_served_app_freezes_its_start_up_objects_out_of_the_garbage_collector(tmp_path):
    # Unfrozen, a full collection walked every start-up object and held a dashboard view
    # for 100 ms every few dozen views (docs/performance.md).
    probe = "import gc, wsgi; print(wsgi.app.name, gc.get_freeze_count())"
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'w.sqlite3'}",
             "TRACKER_SCHEDULER": "off"})
    assert done.returncode == 0, done.stderr
    name, frozen = done.stdout.split()
    assert name == "tracker"
    assert int(frozen) > 10_000  # the modules and the app, not a handful of objects
