"""Stands in for `java ... NodeManagerBootstrap -c FILE` in the nodemanager container: what egg_pair gets of FILE.

The eggroll 3.0 NodeManager (Java, not installable in CI) keeps the absolute path of its -c
file (CommonBoostrap: MetaInfo.STATIC_CONF_PATH) and starts every egg_pair through
bin/roll_pair/egg_pair_bootstrap.sh with `--config` that path, from its working directory
(the image's WORKDIR, EGGROLL_HOME). The bootstrap script reads
eggroll.resourcemanager.bootstrap.egg_pair.{venv,pythonpath,filepath} and
eggroll.resourcemanager.{clustermanager.host,clustermanager.port,nodemanager.port} from that
file and runs `python FILEPATH --config FILE --session-id ... --server-node-id ...
--cluster-manager HOST:PORT --node-manager PORT --processor-id ...` with PYTHONPATH
prefixed by the pythonpath value.

This script is installed as the container's `java`. It prints one JSON object:
- "config": egg_pair's own config loading (eggroll.config.Config: load_default, then
  load_properties(realpath(FILE)), then load_env, as egg_pair.main does) and the keys
  egg_pair and its bootstrap use, each resolved through eggroll's own accessors (an error
  is eggroll's own message);
- "egg_pair": egg_pair.py itself, started as the bootstrap script starts it, stopped with
  SIGTERM once it logs that it serves (or after a timeout), with its log and exit code, and the
  eggroll modules it imported (PYTHONPROFILEIMPORTTIME=1 in its environment: Python reports each
  import on stderr, which is read here and left out of the output) and, when the test asks for it
  (WATCH below), which of the watched functions it called (call_watch.py).
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

# where the test puts call_watch.py (as sitecustomize.py) and watch.json, if it watches egg_pair's calls
WATCH = "/opt/kfplug-app/watch"


def option(args, flag):
    return args[args.index(flag) + 1] if flag in args else None


def bootstrap_property(path, key):
    # the bootstrap's get_property: the value after '=' of the line that names the key
    with open(path) as handle:
        for line in handle:
            if key in line and "=" in line and not line.lstrip().startswith("#"):
                return line.split("=", 1)[1].strip()
    return ""


def resolve(config, dotted):
    node = config.eggroll
    for part in dotted.split(".")[1:]:
        node = getattr(node, part)
    return node


KEYS = [
    "eggroll.data.dir",
    "eggroll.logs.dir",
    "eggroll.resourcemanager.clustermanager.host",
    "eggroll.resourcemanager.clustermanager.port",
    "eggroll.resourcemanager.nodemanager.host",
    "eggroll.resourcemanager.nodemanager.port",
    "eggroll.resourcemanager.clustermanager.jdbc.url",
    "eggroll.resourcemanager.clustermanager.jdbc.username",
    "eggroll.resourcemanager.bootstrap.egg_pair.exepath",
    "eggroll.resourcemanager.bootstrap.egg_pair.pythonpath",
    "eggroll.resourcemanager.bootstrap.egg_pair.filepath",
    "eggroll.resourcemanager.process.tag",
]


def load(path):
    report = {"file": path, "values": {}, "errors": {}}
    try:
        from eggroll.config import Config

        config = Config()
        config.load_default()
        config.load_properties(os.path.realpath(path))
        config.load_env()
    except Exception:
        report["load_error"] = traceback.format_exc(limit=3)
        return report
    for key in KEYS:
        try:
            report["values"][key] = resolve(config, key)
        except Exception as error:
            report["errors"][key] = f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return report


def _read(path):
    with open(path) as handle:
        return handle.read()


def egg_pair(path, wait):
    filepath = bootstrap_property(path, "eggroll.resourcemanager.bootstrap.egg_pair.filepath")
    pythonpath = bootstrap_property(path, "eggroll.resourcemanager.bootstrap.egg_pair.pythonpath")
    host = bootstrap_property(path, "eggroll.resourcemanager.clustermanager.host")
    port = bootstrap_property(path, "eggroll.resourcemanager.clustermanager.port")
    node_port = bootstrap_property(path, "eggroll.resourcemanager.nodemanager.port")
    session = "kfplug_app_session"
    env = dict(os.environ, PYTHONPATH=f"{pythonpath}:{os.environ.get('PYTHONPATH', '')}", PYTHONPROFILEIMPORTTIME="1")
    watched = None
    if os.path.isfile(os.path.join(WATCH, "sitecustomize.py")):
        # call_watch.py: records the watched functions egg_pair calls
        handle, watched = tempfile.mkstemp(prefix="kfplug-watch-")
        os.close(handle)
        env.update(PYTHONPATH=f"{WATCH}:{env['PYTHONPATH']}", KFPLUG_WATCH_OUT=watched)
    command = ["python", filepath, "--config", path, "--session-id", session, "--server-node-id", "1",
               "--cluster-manager", f"{host}:{port}", "--node-manager", node_port or "0", "--processor-id", "1"]
    report = {"cwd": os.getcwd(), "command": command, "filepath_exists": os.path.isfile(filepath)}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    logs = None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.5)
        try:
            from eggroll.config import load_config

            logs = os.path.join(str(load_config(os.path.realpath(path)).eggroll.logs.dir), session, "eggs", "LOG")
            if os.path.exists(logs) and "egg_pair started at port=" in _read(logs):
                break
        except Exception:
            pass
    report["served"] = bool(logs and os.path.exists(logs) and "egg_pair started at port=" in _read(logs))
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    output = process.communicate()[0]
    lines = output.splitlines()
    imports = [line.rsplit("|", 1)[1].strip() for line in lines if line.startswith("import time:") and "|" in line]
    report["eggroll_modules"] = sorted({name for name in imports if name.split(".")[0] == "eggroll"})
    output = "\n".join(line for line in lines if not line.startswith("import time:"))
    report["returncode"] = process.returncode
    report["output"] = output[-4000:]
    report["log"] = _read(logs)[-4000:] if logs and os.path.exists(logs) else None
    if watched:
        report["watched_calls"] = sorted(set(_read(watched).splitlines()))
    return report


def main():
    args = sys.argv[1:]
    path = option(args, "-c")
    report = {"argv": args, "config": load(path) if path else None}
    if path and "load_error" not in report["config"]:
        report["egg_pair"] = egg_pair(path, float(os.environ.get("KFPLUG_EGG_PAIR_WAIT", "20")))
    print("KFPLUG-REPORT " + json.dumps(report, default=str), flush=True)


if __name__ == "__main__":
    main()
