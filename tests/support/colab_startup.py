# An IPython startup script that makes a kernel look like Colab's to the setup cell, without
# any hook in the notebook itself. The tests copy it into a temporary IPYTHONDIR
# (profile_default/startup/), after filling in the three constants below:
#   * a module named google.colab is put in sys.modules, so the Colab branch runs;
#   * the branch's `!pip install ... git+https://...` installs INSTALL_INSTEAD (the locally
#     built helpers wheel, plus any pip options) instead of the repository's address;
#   * when REPO is not empty, an audit hook records every file the kernel touches, or module
#     it imports, inside REPO (the checkout), other than REPO/.venv (where the course keeps
#     its torch).
# Each rewritten command and each touch of the repository is appended to LOG as a JSON line.
import json as _json
import os as _os
import re as _re
import sys as _sys
import threading as _threading
import types as _types

INSTALL_INSTEAD = "__INSTALL_INSTEAD__"
REPO = "__REPO__"
LOG = "__LOG__"


def _colab_check_setup():
    google = _sys.modules.get("google") or _types.ModuleType("google")
    colab = _types.ModuleType("google.colab")
    google.colab = colab
    _sys.modules["google"], _sys.modules["google.colab"] = google, colab

    def log(kind, what):
        with open(LOG, "a") as f:
            f.write(_json.dumps({"kind": kind, "what": what}) + "\n")

    shell = get_ipython()  # noqa: F821 (IPython runs this file in the user namespace)
    system = shell.system

    def colab_like_system(cmd, *args, **kwargs):
        if _re.match(r"\s*pip\s+install\b", cmd) and "git+https://" in cmd:
            cmd = _re.sub(r"git\+https://\S+", INSTALL_INSTEAD, cmd)
            log("pip", cmd)
        return system(cmd, *args, **kwargs)

    shell.system = colab_like_system

    if not REPO:
        return
    repo = _os.path.realpath(REPO) + _os.sep
    venv = repo + ".venv" + _os.sep
    seen = set()
    events = {"open", "os.listdir", "os.scandir", "os.chdir", "os.mkdir", "os.rename",
              "os.remove", "os.rmdir", "os.symlink", "os.link", "os.truncate", "os.utime",
              "shutil.copyfile", "shutil.copytree", "shutil.move", "shutil.rmtree", "glob.glob",
              "import", "ctypes.dlopen", "os.exec", "os.posix_spawn", "os.spawn", "os.system",
              "subprocess.Popen", "os.startfile"}

    def inside(value):
        if isinstance(value, (str, bytes, _os.PathLike)):
            try:
                p = _os.path.realpath(_os.fsdecode(value))
            except (TypeError, ValueError):
                return False
            return (p + _os.sep).startswith(repo) and not p.startswith(venv)
        if isinstance(value, (list, tuple)):
            return any(inside(v) for v in value[:50])
        return False

    local = _threading.local()

    def hook(event, args):
        if event in events and not getattr(local, "busy", False):
            local.busy = True  # the hook's own work (realpath, writing LOG) is not recorded
            try:
                for a in args:
                    if inside(a):
                        key = (event, str(a))
                        if key not in seen:
                            seen.add(key)
                            log("repository", f"{event}: {a}")
                        break
            finally:
                local.busy = False

    _sys.addaudithook(hook)


_colab_check_setup()
del _colab_check_setup
