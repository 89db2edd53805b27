"""weft.1 renders without a groff warning, and its section for each subcommand shows every option
and positional that `weft COMMAND --help` lists (what the roff escaping could lose).
Usage: man_page_test.py WEFT weft.1"""
import re
import subprocess
import sys

weft, page = sys.argv[1], sys.argv[2]
failures = []
render = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-P-cbou", page], capture_output=True, text=True)
if render.returncode != 0 or render.stderr.strip():
    failures.append(f"groff: exit {render.returncode}: {render.stderr.strip()}")
text = render.stdout
sections = re.split(r"(?m)^   weft (\S+)\s*$", text)
by_command = dict(zip(sections[1::2], sections[2::2]))

main_help = subprocess.run([weft, "--help"], capture_output=True, text=True, check=True).stdout
commands = re.findall(r"^  ([a-z_-]+) ", main_help.split("Subcommands:", 1)[1], re.M)
if len(commands) < 6:
    failures.append(f"found only {commands} in weft --help")
for command in commands:
    if command not in by_command:
        failures.append(f"weft.1 has no section for 'weft {command}'")
        continue
    listed = subprocess.run([weft, command, "--help"], capture_output=True, text=True, check=True).stdout
    names = set(re.findall(r"(?m)^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)", listed)) - {"--help"}
    for name in sorted(names):
        if not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", by_command[command]):
            failures.append(f"weft.1's 'weft {command}' section lacks {name}")
for f in failures:
    print("FAIL " + f)
if failures:
    sys.exit(1)
print(f"man_page_test: {len(commands)} commands, every option shown")
