"""Summarise the JUnit reports of a stress run: every test that failed at least once."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path


def failures(report: Path) -> tuple[int, list[str]]:
    """(tests run, names of those that failed or erred) in one JUnit XML file."""
    root = ET.parse(report).getroot()
    cases = list(root.iter("testcase"))
    failed = [
        f"{case.get('classname')}::{case.get('name')}"
        for case in cases
        if case.find("failure") is not None or case.find("error") is not None
    ]
    return len(cases), failed


def main(folder: Path) -> int:
    reports = sorted(folder.glob("run-*.xml"))
    tally: Counter[str] = Counter()
    for report in reports:
        ran, failed = failures(report)
        tally.update(failed)
        print(f"{report.stem}: {ran} tests, {len(failed)} failed")
    missing = len(list(folder.glob("run-*.log"))) - len(reports)
    if missing:
        print(f"{missing} run(s) wrote no report: see their logs in {folder}")
    if not tally and not missing:
        print(f"stress: no test failed in {len(reports)} runs")
        return 0
    print("stress: tests that failed at least once (runs failed of runs):")
    for name, count in tally.most_common():
        print(f"  {count}/{len(reports)}  {name}")
    return 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
