"""The CPU one view of a page costs the application, measured in-process: for comparing two
checkouts of the code on the same data, where the HTTP runs are too noisy to show a few
milliseconds. Run it from each checkout in turn, several times, alternating:

    python -m bench.pagecpu --url postgresql+psycopg://…/bench /tickets?per_page=50 /dashboard

Each page is viewed `--warm` times, then `--views` times measured; the figure is the
process's CPU time per measured view (the database's own work is not in it) and the wall
time beside it. The user is one of the generated ones (`--user`, the province office by
default), logged in through the login form.
"""
import argparse
import sys
import time

from bench.common import PASSWORD, make_app


def measure(client, path: str, views: int, warm: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per view of `path`."""
    for _ in range(warm):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(views):
        client.get(path)
    return ((time.process_time() - cpu) / views * 1000,
            (time.perf_counter() - wall) / views * 1000)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", help="pages to view, e.g. /tickets?per_page=50")
    parser.add_argument("--url", required=True, help="the benchmark database (SQLAlchemy URL)")
    parser.add_argument("--user", default="office", help="a generated user (default: office)")
    parser.add_argument("--views", type=int, default=200, help="measured views per page")
    parser.add_argument("--warm", type=int, default=20, help="views before measuring")
    args = parser.parse_args(argv)
    client = make_app(args.url).test_client()
    response = client.post("/login", data={"username": args.user, "password": PASSWORD})
    if response.status_code != 302:
        print(f"{args.user} cannot log in to {args.url.split('@')[-1]}", file=sys.stderr)
        return 1
    failed = False
    for path in args.paths:
        try:
            cpu, wall = measure(client, path, args.views, args.warm)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            failed = True
            continue
        print(f"{path}: {cpu:.2f} ms CPU, {wall:.2f} ms wall per view ({args.views} views)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
