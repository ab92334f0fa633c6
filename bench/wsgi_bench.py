"""The application on the benchmark database (BENCH_URL), for gunicorn."""
import os

from bench.common import make_app

app = make_app(os.environ["BENCH_URL"])
