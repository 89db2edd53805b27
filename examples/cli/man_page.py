"""Writes weft.1, the man page of the `weft` command, from the program's own --help texts, so the
page and --help cannot disagree: the description of each subcommand, its positionals and every
option with its type, default and explanation, plus the environment and pointers to docs/.
Usage: man_page.py WEFT VERSION OUTPUT"""
import re
import subprocess
import sys

weft, version, output = sys.argv[1], sys.argv[2], sys.argv[3]


def help_text(*command):
    return subprocess.run([weft, *command, "--help"], capture_output=True, text=True, check=True).stdout


def roff(text):
    """Text safe in a roff line: backslashes and minus signs escaped, no leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\\&" + text if text[:1] in (".", "'") else text


def entries(help_output, section):
    """(term, explanation) of each entry under `section:` ("Options", "Positionals"). CLI11 puts the
    explanation after the term on the same line, or on the next line when the term is long."""
    found, inside = [], False
    for line in help_output.splitlines():
        if re.match(r"^\S.*:$", line):
            inside = line == section + ":"
            continue
        if not inside or not line.strip():
            continue
        if re.match(r"^  \S", line):
            term, _, explanation = line.strip().partition("  ")
            found.append([term.strip(), explanation.strip()])
        elif found:
            found[-1][1] = (found[-1][1] + " " + line.strip()).strip()
    return found


def term_roff(term):
    """`--data TEXT=/usr/...` as bold option names and an italic value part."""
    names, _, value = term.partition(" ")
    return f"\\fB{roff(names)}\\fR" + (f" \\fI{roff(value)}\\fR" if value else "")


main_help = help_text()
summary = main_help.splitlines()[0].split(": ", 1)[-1]
commands = entries(main_help, "Subcommands")
page = [f'.TH WEFT 1 "" "weft {version}" "User Commands"',
        ".SH NAME", f"weft \\- {roff(summary)}",
        ".SH SYNOPSIS", ".B weft", "\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]",
        ".SH DESCRIPTION",
        "weft trains neural networks from JSON model specs on multicore CPUs, with bit-identical",
        "results for any thread count, and writes models and checkpoints as HDF5 files.",
        "Each command below lists its arguments and options, as \\fBweft \\fICOMMAND\\fB \\-\\-help\\fR prints them.",
        "Errors are one line on standard error and a non-zero exit status.",
        ".SH COMMANDS"]
for command, explanation in commands:
    text = help_text(command)
    page += [f'.SS "weft {command}"', roff(explanation)]
    for section in ("Positionals", "Options"):
        for term, what in entries(text, section):
            if term.startswith("-h,--help"):
                continue
            page += [".TP", term_roff(term), roff(what) if what else ""]
page += [".SH ENVIRONMENT", ".TP", ".B WEFT_PLUGIN_PATH",
         "Colon-separated plugin files or folders (every *.so in them) whose modules every command loads,",
         "as with \\fB\\-\\-plugin\\fR.",
         ".SH SEE ALSO",
         "The documentation pages in the source tree: README.md and docs/ (getting started, model specs and",
         "the module reference, training, file formats, datasets, extending and embedding weft,",
         "performance, reliability)."]
open(output, "w").write("\n".join(line for line in page if line is not None) + "\n")
