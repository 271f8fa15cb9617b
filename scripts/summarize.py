"""Adds up the test results in a directory: JUnit XML files (cmocka, pytest) and extra.txt
lines "NAME pass|fail" (build steps, fuzz runs, crashed binaries). Prints one line
"N passed, N failed" (", N skipped" when any) and exits 1 when anything failed or nothing ran."""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET


def parse(path: pathlib.Path) -> ET.Element:
    """One XML file; cmocka writes one <testsuites> document per test group into the same file,
    so the documents are read as the children of one synthetic root."""
    text = path.read_text(errors="replace")
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    return ET.fromstring("<all>" + text + "</all>")


def main(directory: str) -> int:
    passed = failed = skipped = 0
    root = pathlib.Path(directory)
    for path in sorted(root.glob("*.xml")):
        try:
            tree = parse(path)
        except ET.ParseError:
            print(f"unreadable results: {path.name}")
            failed += 1
            continue
        for case in tree.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                print(f"FAILED {path.stem}: {case.get('classname', '')}::{case.get('name')}")
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    extra = root / "extra.txt"
    if extra.exists():
        for line in extra.read_text().splitlines():
            name, _, outcome = line.partition(" ")
            if outcome == "pass":
                passed += 1
            else:
                failed += 1
                print(f"FAILED {name}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "test-results"))
