"""Doxygen input filter: weft's public headers document with plain // comments, a block before a
declaration or a trailing comment after a member. Doxygen reads /// and ///< for those, so this
rewrites them on the way in; the headers themselves stay in the project's comment style.
Usage (by Doxygen): doxygen_filter.py HEADER"""
import re
import sys

for line in open(sys.argv[1]):
    line = re.sub(r"^(\s*)// ", r"\1/// ", line)
    line = re.sub(r"(;|,|\{)(\s+)// ", r"\1\2///< ", line)
    sys.stdout.write(line)
