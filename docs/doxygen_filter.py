"""Doxygen input filter: weft's public headers document with plain // comments, a block before a
declaration or a trailing comment after a member. Doxygen reads /// and ///< for those, so this
rewrites them on the way in; the headers themselves stay in the project's comment style.

Some layouts need more than a prefix swap, or Doxygen would attach the text to the wrong name or
misread it:
- The block under `#pragma once` describes the whole header. Left alone it would document the
  next declaration Doxygen sees, `namespace weft`, which then collected every header's summary;
  the `#pragma once` line becomes `/// @file` so the block lands on the file's page instead
  (one line for one, so Doxygen's warnings keep the header's line numbers).
- A trailing comment continued on the following lines, aligned under its `//`, still describes
  the member it trails; as a plain /// block it would document the next member instead.
- The headers set examples and file layouts off by a blank comment line and two spaces of
  indent. Markdown wants four for a code block, and read as prose their `<layer>/<param>`
  placeholders would be taken for HTML tags, so such lines get two more spaces. (An indented
  line right under other text, like a list item's continuation, stays text.)
Usage (by Doxygen): doxygen_filter.py HEADER"""
import re
import sys

# After a declaration (;), an enumerator or argument (,), an opening brace, or a body written on
# one line (`int f() const { return f_; }  // ...`).
TRAILING = re.compile(r"(;|,|\{|\{.*\})(\s+)// ")
COMMENT_ONLY = re.compile(r"^(\s*)//( |$)")


def main(path):
    trailing_column = None  # the column of the `//` of the trailing comment just above, if any
    above = None            # the text of the comment line just above (None: not a comment)
    with open(path) as header:
        for number, line in enumerate(header, start=1):
            line = line.rstrip("\n")
            comment = COMMENT_ONLY.match(line)
            if number == 1 and line.strip() == "#pragma once":
                line, above = "/// @file", None
            elif comment and len(comment.group(1)) == trailing_column:
                line = comment.group(1) + "///< " + line[comment.end():]
            elif comment:
                text = line[comment.end():]
                if text.startswith("  ") and (above == "" or (above or "").startswith("    ")):
                    text = "  " + text
                line, above, trailing_column = comment.group(1) + "/// " + text, text, None
            else:
                trailing = TRAILING.search(line)
                trailing_column = trailing.end() - 3 if trailing else None
                line, above = TRAILING.sub(r"\1\2///< ", line), None
            sys.stdout.write(line.rstrip() + "\n")


main(sys.argv[1])
