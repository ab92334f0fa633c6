"""The application on the benchmark database (BENCH_URL), for gunicorn; start-up objects
frozen out of the garbage collector's reach, as `wsgi.py` does."""
import gc
import os

from bench.common import make_app

app = make_app(os.environ["BENCH_URL"])
gc.freeze()
