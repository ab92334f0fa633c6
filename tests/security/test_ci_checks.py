"""The CI security checks judge honestly (issue 7, point 8): pip-audit fails on a real
finding, says "NOT AUDITED" (and passes) only when the vulnerability service cannot be
reached; every accepted bandit finding is explained in docs/security.md."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("pip_audit_summary",
                                               ROOT / "scripts" / "pip_audit_summary.py")
summary = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(summary)


def report(*deps) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


AUDITED_CLEAN = {"name": "flask", "version": "3.1.2", "vulns": []}
SKIPPED = {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be "
                                           "audited: flask (3.1.2)"}
VULNERABLE = {"name": "jinja2", "version": "3.1.2",
              "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]}


def test_a_known_vulnerability_fails_the_check():
    code, lines = summary.judge(report(AUDITED_CLEAN, VULNERABLE), 1, "")
    assert code == 1
    assert lines == ["VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)"]


def test_a_vulnerability_fails_even_when_other_packages_could_not_be_looked_up():
    assert summary.judge(report(SKIPPED, VULNERABLE), 1, "")[0] == 1


def test_a_clean_audit_passes_and_says_how_many_were_checked():
    code, lines = summary.judge(report(AUDITED_CLEAN, SKIPPED), 0, "")
    assert code == 0 and "1 packages audited" in lines[0] and "1 could not" in lines[0]


def test_no_reachable_service_passes_but_says_not_audited():
    code, lines = summary.judge(report(SKIPPED, SKIPPED), 0, "")
    assert code == 0 and "NOT AUDITED" in lines[0]
    stderr = ("ERROR:pip_audit._cli:Could not connect to PyPI's vulnerability feed\n"
              "Tip: your network may be blocking this service.\n")
    code, lines = summary.judge("", 1, stderr)
    assert code == 0 and "NOT AUDITED" in lines[0] and "Could not connect" in lines[0]
    code, lines = summary.judge("", 1, "requests.exceptions.ConnectionError: HTTPSConnection"
                                       "Pool(host='pypi.org'): Max retries exceeded")
    assert code == 0 and "NOT AUDITED" in lines[0]


def test_any_other_failure_without_a_report_fails():
    code, lines = summary.judge("", 1, "pip_audit: error: invalid requirement: 'flask=='\n")
    assert code == 1 and "without a report" in lines[0]
    assert summary.judge("not json", 1, "")[0] == 1
    assert summary.judge(report(), 0, "")[0] == 1  # nothing listed: not a pass


def test_every_accepted_bandit_finding_is_explained_in_the_security_page():
    baseline = json.loads((ROOT / "scripts" / "bandit-baseline.json").read_text("utf-8"))
    page = (ROOT / "docs" / "security.md").read_text("utf-8")
    accepted = [r for r in baseline["results"]
                if r["issue_severity"] in ("MEDIUM", "HIGH")]
    for finding in accepted:
        explained = [line for line in page.splitlines()
                     if finding["filename"] in line and finding["test_id"] in line]
        assert explained, f"{finding['filename']} {finding['test_id']} is not explained"
