"""The API reference builds clean: Doxygen, run with the project's Doxyfile (as `meson compile -C
build docs` runs it) into a scratch folder, reports no warning at all, so every public name of
the headers is documented and no comment trips Doxygen's parser. And the pages carry what the
headers say: every public header has its page with its leading comment, the classes a newcomer
starts from have theirs, and no header's leading comment ends up on the namespace page (where
Doxygen puts it without docs/doxygen_filter.py's @file rule).
Usage: api_reference_test.py DOXYGEN DOXYFILE SOURCE_DIR"""
import glob
import html
import os
import re
import subprocess
import sys
import tempfile

doxygen, doxyfile, source = sys.argv[1], sys.argv[2], sys.argv[3]
headers = sorted(glob.glob(os.path.join(source, "framework", "weft", "*.hpp")) +
                 glob.glob(os.path.join(source, "io", "weft", "io", "*.hpp")))
failures = []


def page_text(path):
    """The text of an HTML page without tags and whitespace (links add spaces around a name)."""
    with open(path, encoding="utf-8") as page:
        return "".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read())).split())


def leading_comment(header):
    """The start of the comment under `#pragma once`, without Markdown's backticks and whitespace
    (so it compares with page_text; a `--flag` outside backticks would show as an en dash)."""
    lines = []
    with open(header, encoding="utf-8") as text:
        for line in list(text)[1:]:
            if not line.startswith("//"):
                break
            lines.append(line[2:])
    return "".join(re.sub(r"`", "", " ".join(lines)).split())[:60]


with tempfile.TemporaryDirectory() as scratch:
    log = os.path.join(scratch, "warnings.log")
    # Later settings win: the project's Doxyfile, then a scratch output and a warning log.
    with open(doxyfile, encoding="utf-8") as base:
        config = base.read() + f'\nOUTPUT_DIRECTORY = "{scratch}"\nWARN_LOGFILE = "{log}"\n'
    run = subprocess.run([doxygen, "-"], input=config, capture_output=True, text=True)
    warnings = []
    if os.path.isfile(log):
        with open(log, encoding="utf-8") as warnings_file:
            # With WARN_AS_ERROR Doxygen words its warnings "error:".
            warnings = sorted({line.strip() for line in warnings_file if re.search(r": (warning|error): ", line)})
    else:
        failures.append(f"doxygen wrote no warning log (exit code {run.returncode}): {run.stderr.strip()[-500:]}")
    for line in warnings:
        failures.append(line.replace(source + os.sep, ""))
    if run.returncode != 0:
        failures.append(f"doxygen exited with {run.returncode} (WARN_AS_ERROR fails it on any warning above) "
                        + run.stderr.strip()[-500:])

    pages = os.path.join(scratch, "html")
    if not os.path.isfile(os.path.join(pages, "index.html")):
        failures.append(f"no index.html in {pages}")
    for header in headers:
        name = os.path.basename(header)
        page = os.path.join(pages, name.replace("_", "__").replace(".hpp", "_8hpp.html"))
        if not os.path.isfile(page):
            failures.append(f"{name}: no page (is its leading comment missing?)")
            continue
        if leading_comment(header) not in page_text(page):
            failures.append(f"{name}: its page lacks the leading comment '{leading_comment(header)}'")
    for cls in ["classweft_1_1Trainer", "classweft_1_1Model", "classweft_1_1Layer", "classweft_1_1Tensor",
                "classweft_1_1Sequential", "structweft_1_1Registries"]:
        if not os.path.isfile(os.path.join(pages, cls + ".html")):
            failures.append(f"no page {cls}.html")
    namespace_page = os.path.join(pages, "namespaceweft.html")
    if os.path.isfile(namespace_page):
        namespace = page_text(namespace_page)
        for header in headers:
            if leading_comment(header) in namespace:
                failures.append(f"{os.path.basename(header)}: its leading comment is on the namespace weft page")
    else:
        failures.append("no page for namespace weft (docs/api_namespaces.dox documents it)")

for failure in failures:
    print(failure)
print(f"{len(headers)} headers, {len(warnings)} Doxygen warnings, {len(failures)} failures")
sys.exit(1 if failures else 0)
