"""Every weft option README.md and docs/*.md document is listed by --help, under the subcommand it
belongs to.

An option belongs to a subcommand when a page shows it on a line that runs `weft <command>`
(a shell line, with its `\\` continuation lines, or a prose line quoting the command), or in the
table of `weft train` flags. Every other `--option` the pages mention must be listed by at least
one subcommand's --help, unless it is one of another program's options listed below with where
it comes from. Both directions of a drift fail: a documented option that is gone, and a line that
pins an option on the wrong command.
Usage: help_readme_test.py WEFT SOURCE_DIR"""
import glob
import os
import re
import subprocess
import sys

weft, source = sys.argv[1], sys.argv[2]
pages = [os.path.join(source, "README.md")] + sorted(glob.glob(os.path.join(source, "docs", "*.md")))
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Options of programs other than weft that the pages show.
OTHER_PROGRAMS = {
    "--force-fallback-for": "meson setup",
    "--compare": "examples/python/weft_numpy.py",
    "--quick": "benchmarks/compare",
    "--no-accuracy": "benchmarks/compare",
    "--no-speed": "benchmarks/compare",
    "--seeds": "benchmarks/compare",
    "--torch-order": "benchmarks/compare",
    "--steps": "benchmarks/training_step_bench",
    "--benchmark": "Google Benchmark's own --benchmark_* options of benchmarks/*_bench",
    "--oversubscribe": "mpirun (Open MPI)",
    "--hostfile": "mpirun (Open MPI)",
    "--quiet": "mpirun (Open MPI)",
    "--bind-to": "mpirun (Open MPI)",
}


def help_options(*command):
    """The options --help lists: the first token of its option lines (`  -o,--out TEXT ...`)."""
    text = subprocess.run([weft, *command, "--help"], capture_output=True, text=True, check=True).stdout
    found = set()
    for line in text.splitlines():
        m = re.match(r"\s+(?:-\w,)?(--[a-z][a-z0-9-]*)", line)
        if m:
            found.add(m.group(1))
    return found, text


_, main_help = help_options()
subcommands = re.findall(r"^  ([a-z_-]+) ", main_help.split("Subcommands:", 1)[1], re.M)
assert len(subcommands) >= 6, f"found only {subcommands} in weft --help"
listed = {c: help_options(c)[0] for c in subcommands}
command_at = re.compile(r"\bweft (" + "|".join(map(re.escape, subcommands)) + r")\b")

documented = {c: set() for c in subcommands}  # subcommand: (option, where) the pages pin on it
mentioned = {}                                 # every option the pages name: where first
failures = []
lines = [(f"{os.path.relpath(page, source)} line {number}", line)
         for page in pages for number, line in enumerate(open(page).read().splitlines(), 1)]
in_train_table = False
continued_command = None
for number, line in lines:
    options = set(OPTION.findall(line))
    for o in options:
        mentioned.setdefault(o, number)
    commands = command_at.findall(line) or ([continued_command] if continued_command else [])
    continued_command = commands[-1] if commands and line.rstrip().endswith("\\") else None
    if line.startswith("| flag | spec key"):
        in_train_table = True
    elif not line.startswith("|"):
        in_train_table = False
    if in_train_table:
        commands = ["train"]
    if len(set(commands)) > 1:
        # Several commands on one line: each option goes with the nearest command before it.
        for m in OPTION.finditer(line):
            before = command_at.findall(line[:m.start()])
            if before:
                documented[before[-1]].add((m.group(0), number))
        continue
    for c in set(commands):
        documented[c] |= {(o, number) for o in options}

for c, options in documented.items():
    for option, number in sorted(options):
        if option not in listed[c] and option not in OTHER_PROGRAMS:
            failures.append(f"{number} documents 'weft {c} {option}', which 'weft {c} --help' does not list")
every_listed = set().union(*listed.values())
for option in sorted(set(mentioned) - every_listed - set(OTHER_PROGRAMS)):
    failures.append(f"{mentioned[option]} mentions {option}, which no subcommand's --help lists")
if len(documented["train"]) < 20:
    failures.append(f"found only {len(documented['train'])} weft train options in the pages: the parser lost the table")
for f in failures:
    print("FAIL " + f)
if failures:
    sys.exit(1)
print(f"help_readme_test: {sum(map(len, documented.values()))} documented uses of "
      f"{len(mentioned)} options, all listed by --help")
