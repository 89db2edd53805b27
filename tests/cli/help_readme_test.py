"""Every weft option README.md documents is listed by --help, under the subcommand it belongs to.

An option belongs to a subcommand when README.md shows it on a line that runs `weft <command>`
(a shell line, with its `\\` continuation lines, or a prose line quoting the command), or in the
table of `weft train` flags. Every other `--option` the README mentions must be listed by at least
one subcommand's --help, unless it is one of another program's options listed below with where
it comes from. Both directions of a drift fail: a documented option that is gone, and a README
line that pins an option on the wrong command.
Usage: help_readme_test.py WEFT README.md"""
import re
import subprocess
import sys

weft, readme = sys.argv[1], sys.argv[2]
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# Options of programs other than weft that README.md shows.
OTHER_PROGRAMS = {
    "--force-fallback-for": "meson setup",
    "--compare": "examples/python/weft_numpy.py",
    "--quick": "benchmarks/compare",
    "--no-accuracy": "benchmarks/compare",
    "--steps": "benchmarks/training_step_bench",
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

documented = {c: set() for c in subcommands}  # subcommand: options README pins on it
mentioned = set()                              # every option README names
failures = []
lines = open(readme).read().splitlines()
in_train_table = False
continued_command = None
for number, line in enumerate(lines, 1):
    options = set(OPTION.findall(line))
    mentioned |= options
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
            failures.append(f"README.md line {number} documents 'weft {c} {option}', which 'weft {c} --help' does not list")
every_listed = set().union(*listed.values())
for option in sorted(mentioned - every_listed - set(OTHER_PROGRAMS)):
    failures.append(f"README.md mentions {option}, which no subcommand's --help lists")
if len(documented["train"]) < 20:
    failures.append(f"found only {len(documented['train'])} weft train options in README.md: the parser lost the table")
for f in failures:
    print("FAIL " + f)
if failures:
    sys.exit(1)
print(f"help_readme_test: {sum(map(len, documented.values()))} documented uses of "
      f"{len(mentioned)} options, all listed by --help")
