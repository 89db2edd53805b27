"""docs/modules.md lists every module `weft list --json` reports, under its kind, with every setting
and its default; and nothing the registry no longer has. Run scripts/module_reference to rebuild
the page after changing a module.
Usage: module_reference_test.py WEFT SOURCE_DIR"""
import json
import os
import re
import subprocess
import sys

weft, source = sys.argv[1], sys.argv[2]
registered = json.loads(subprocess.run([weft, "list", "--json"], capture_output=True, text=True, check=True).stdout)
KIND_TITLES = {"Layers": "layer", "Losses": "loss", "Optimizers": "optimizer", "Learning-rate schedules": "schedule",
               "Regularisers": "regularizer", "Initialisers": "initializer"}
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| (.*?) \| .* \|$")
SETTING = re.compile(r"`([a-z0-9_]+)` (?:= `([^`]*)`|required)")

# The page as {kind: {module: {setting: default}}}, a required setting's default None.
page = {}
kind = None
for line in open(os.path.join(source, "docs", "modules.md")).read().splitlines():
    if line.startswith("## "):
        kind = KIND_TITLES.get(line[3:].strip(), line[3:].strip())
        page.setdefault(kind, {})
    m = ROW.match(line)
    if m and kind:
        page[kind][m.group(1)] = {k: (json.loads(v) if v else None) for k, v in SETTING.findall(m.group(2))}

failures = []
for kind, modules in registered.items():
    documented = page.get(kind, {})
    for module in modules:
        name, settings = module["name"], module["settings"]
        if name not in documented:
            failures.append(f"{kind} '{name}' is registered but missing from docs/modules.md")
            continue
        for key, default in settings.items():
            if key not in documented[name]:
                failures.append(f"{kind} '{name}': setting '{key}' (default {json.dumps(default)}) is missing")
            elif documented[name][key] != default:
                failures.append(f"{kind} '{name}': setting '{key}' documented with default "
                                f"{json.dumps(documented[name][key])}, registered with {json.dumps(default)}")
        for key in set(documented[name]) - set(settings):
            failures.append(f"{kind} '{name}': documented setting '{key}' is not registered")
    for name in set(documented) - {m["name"] for m in modules}:
        failures.append(f"{kind} '{name}' is documented but not registered")
for kind in set(page) - set(registered):
    failures.append(f"docs/modules.md has a section for kind '{kind}', which the registry does not have")

count = sum(len(m) for m in registered.values())
if count < 60:
    failures.append(f"weft list reported only {count} modules: the listing, not the page, is broken")
for f in failures:
    print("FAIL " + f)
if failures:
    sys.exit(1)
print(f"module_reference_test: {count} modules and their settings documented as registered")
