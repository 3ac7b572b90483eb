"""Installed as sitecustomize.py in a directory put first on egg_pair's PYTHONPATH by nodemanager_standin.py.

Records, in the file named by KFPLUG_WATCH_OUT, each watched function that is called at least once (in any
thread): one line `FILE:FUNCTION` per function, the first time. The functions to watch are in watch.json
beside this file: [[file suffix, function name], ...]. Nothing else changes in the process.
"""

import json
import os
import sys
import threading

_HERE = os.path.dirname(os.path.abspath(__file__))
_OUT = os.environ.get("KFPLUG_WATCH_OUT")
with open(os.path.join(_HERE, "watch.json")) as _handle:
    _WATCH = [tuple(item) for item in json.load(_handle)]
_NAMES = {name for _, name in _WATCH}
_SEEN = set()


def _profile(frame, event, arg):
    if event != "call" or frame.f_code.co_name not in _NAMES:
        return
    code = frame.f_code
    for suffix, name in _WATCH:
        if code.co_name == name and code.co_filename.endswith("/" + suffix) and (suffix, name) not in _SEEN:
            _SEEN.add((suffix, name))
            with open(_OUT, "a") as out:
                out.write(f"{suffix}:{name}\n")


if _OUT and _WATCH:
    sys.setprofile(_profile)
    threading.setprofile(_profile)
