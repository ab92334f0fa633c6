"""Judge a pip-audit run for CI (called by scripts/ci_checks.sh).

Usage: python scripts/pip_audit_summary.py REPORT.json EXIT_STATUS STDERR.txt

- Any known vulnerability in a pinned package: print each one, exit 1.
- pip-audit could not reach the vulnerability service (no report, a connection error),
  or the service knew none of the pinned versions (every package skipped, as when
  PyPI's per-version JSON is not reachable): print "NOT AUDITED" and why, exit 0. CI
  must not fail for the lack of a network, and must not pretend it checked either.
- pip-audit failed for any other reason (a bad constraints file, a crash): exit 1.
"""
import json
import re
import sys
from pathlib import Path

#: What pip-audit (and requests beneath it) print when the service cannot be reached.
NETWORK_TROUBLE = re.compile(
    r"Could not connect|network may be blocking|ConnectionError|ConnectTimeout|ReadTimeout|"
    r"Max retries exceeded|Failed to establish a new connection|Name or service not known|"
    r"Temporary failure in name resolution|Connection refused|Network is unreachable|"
    r"timed out|not redirecting properly|SSLError|ProxyError", re.IGNORECASE)


def judge(report_text: str, status: int, stderr: str) -> tuple[int, list[str]]:
    """(exit status, lines to print) for one pip-audit run."""
    try:
        data = json.loads(report_text) if report_text.strip() else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        if NETWORK_TROUBLE.search(stderr):
            reason = next((line.strip() for line in stderr.splitlines()
                           if NETWORK_TROUBLE.search(line)), "")
            return 0, [f"pip-audit: NOT AUDITED - the vulnerability service could not be "
                       f"reached ({reason[:200]})"]
        return 1, [f"pip-audit failed without a report (exit status {status}):",
                   *stderr.strip().splitlines()[-20:]]
    deps = data.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    audited = [d for d in deps if "skip_reason" not in d]
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or ["?"])
            lines.append(f"VULNERABLE {dep['name']} {dep.get('version', '?')}: {vuln['id']} "
                         f"(fixed in {fixed})")
    if vulnerable:
        return 1, lines
    if not deps:
        return 1, ["pip-audit: the report lists no package at all (is constraints.txt empty?)"]
    if not audited:
        return 0, [f"pip-audit: NOT AUDITED - no vulnerability data could be fetched for any "
                   f"of the {len(deps)} pinned packages (the service answered none of the "
                   f"versions; e.g. {deps[0].get('skip_reason', '')[:120]})"]
    return 0, [f"pip-audit: {len(audited)} packages audited, no known vulnerability "
               f"({len(deps) - len(audited)} could not be looked up)"]


def main(argv: list[str]) -> int:
    report, status, stderr = Path(argv[1]), int(argv[2]), Path(argv[3])
    code, lines = judge(report.read_text("utf-8") if report.exists() else "", status,
                        stderr.read_text("utf-8", "replace") if stderr.exists() else "")
    for line in lines:
        print(line)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
