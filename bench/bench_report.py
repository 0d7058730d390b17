"""How long a thousand accounts' report takes to open in a real browser, beyond an empty
page: clean, fifty drifting, and a rule with 999 violations (the organizations of
tests/test_report_scale.py, built by `merge` from a part file; no AWS needed).

    python bench/bench_report.py [--repeat 3]

Needs Debian's `chromium`. Quote the figures in notes; the tests assert only what is
deterministic (size, rows, what is folded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_browser import browse  # noqa: E402
from tests.test_report_scale import _merge  # noqa: E402

RULE = {
    "name": "no-operator-admin",
    "forbid": {"from": {"principal": "*operator"}, "to": {"admin": True}},
}
CASES = {"clean": (0, []), "fifty drifting": (50, []), "rule, 999 violations": (0, [RULE])}


def _seconds(url: str, shot: Path) -> float:
    start = time.perf_counter()
    browse(url, shot)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, (drifting, rules) in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            run_dir, _ = _merge(tmp_path, 1000, drifting, rules)
            report = run_dir / "report.html"
            blank = tmp_path / "blank.html"
            blank.write_text("<!DOCTYPE html><title>blank</title>")
            times = [
                _seconds(report.as_uri(), tmp_path / "r.png")
                - _seconds(blank.as_uri(), tmp_path / "b.png")
                for _ in range(args.repeat)
            ]
            size = report.stat().st_size / 2**20
            print(
                f"{name:22} {size:5.1f} MB  opens in {statistics.median(times):.2f} s beyond "
                f"an empty page (median of {args.repeat})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
