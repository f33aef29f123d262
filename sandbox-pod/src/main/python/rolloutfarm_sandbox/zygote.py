"""The fork server: one warm Python process that forks a session process per request.

Talks to the Java server over stdin/stdout, one JSON object per line:

* requests ``{"op": "fork", "id", "sid", "token", "socket", "workdir", "uid", "gid", "limits"}``,
  ``{"op": "signal", "pid", "sig"}``, ``{"op": "interrupt", "pid"}`` and ``{"op": "kill", "id", "pid", "uid", "workdir"}``;
* replies ``{"id", "pid"}`` / ``{"id", "ok"}`` / ``{"id", "error"}`` and events
  ``{"event": "ready", "protections"}`` and ``{"event": "exit", "pid", "code", "signal"}``.

Every session process is a child of this process, and both are child subreapers: whatever a
session starts (even with setsid and a double fork) stays below the session, or below this
process once the session itself is gone; processes here that are not a live session are
killed. So nothing a session started survives it, and everything is reaped (no zombies).
"""

from __future__ import annotations

import argparse
import errno
import gc
import io
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
import traceback

# Single-threaded numerical libraries: a forked child only gets the forking thread.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import cv2  # noqa: E402
import matplotlib  # noqa: E402
import numpy  # noqa: E402
from PIL import Image  # noqa: E402

from rolloutfarm_sandbox import figures, isolation, protocol, runtime  # noqa: E402

cv2.setNumThreads(0)


def _warm_up() -> None:
    """Touches the lazy parts (PIL plugins, font cache, PNG writer) once, before any fork."""
    import matplotlib.pyplot as plt

    figures.install()
    Image.init()
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    Image.open(io.BytesIO(buffer.getvalue())).load()
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    Image.open(io.BytesIO(jpeg.getvalue())).load()
    fig = plt.figure(figsize=(1, 1))
    plt.plot([0, 1], [0, 1])
    plt.title("warm")
    fig.savefig(io.BytesIO(), format="png")
    plt.close("all")
    numpy.zeros(4).sum()
    cv2.cvtColor(numpy.zeros((2, 2, 3), numpy.uint8), cv2.COLOR_BGR2RGB)
    _ = matplotlib.__version__


class Zygote:
    def __init__(self, protections: dict, readable: list[str], work_root: str):
        self.protections = protections
        self.readable = readable
        self.work_root = work_root
        self.pid = os.getpid()
        self.sessions: dict[int, str] = {}
        self.pending = b""
        self.out = sys.stdout.buffer
        self.last_sweep = 0.0
        self.own_fds: tuple[int, ...] = ()

    def emit(self, message: dict) -> None:
        os.write(1, (json.dumps(message, separators=(",", ":")) + "\n").encode())

    # --- requests ------------------------------------------------------------------------

    def handle(self, request: dict) -> None:
        op = request.get("op")
        try:
            if op == "fork":
                self.emit({"id": request["id"], "pid": self.fork(request)})
            elif op == "signal":
                pid = int(request["pid"])
                if pid in self.sessions:
                    try:
                        os.kill(pid, int(request["sig"]))
                    except ProcessLookupError:
                        pass
            elif op == "interrupt":
                # The execution is over: its subprocesses go, the session process gets SIGINT.
                pid = int(request["pid"])
                if pid in self.sessions:
                    _kill_tree(pid, include_root=False)
                    _signal(pid, signal.SIGINT)
            elif op == "kill":
                self.kill(request)
                self.emit({"id": request["id"], "ok": True})
            else:
                self.emit({"id": request.get("id"), "error": f"unknown op {op!r}"})
        except Exception as e:
            self.emit({"id": request.get("id"), "error": f"{type(e).__name__}: {e}"})

    def fork(self, request: dict) -> int:
        request["readable"] = self.readable
        request["work_root"] = self.work_root
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _session_main(request, self.protections, self.pid, self.own_fds)
            except BaseException:
                try:
                    traceback.print_exc()
                except BaseException:
                    pass
            finally:
                os._exit(code)
        self.sessions[pid] = request["sid"]
        return pid

    def kill(self, request: dict) -> None:
        pid = int(request["pid"])
        uid = request.get("uid")
        if uid is not None and os.geteuid() == 0:
            _kill_uid(int(uid))
        live = pid in self.sessions
        _kill_tree(pid, include_root=live)
        if live:
            try:
                _, status = os.waitpid(pid, 0)
                self._exited(pid, status)
            except ChildProcessError:
                pass
        self.reap()
        workdir = request.get("workdir")
        if workdir:
            _remove_tree(workdir)

    # --- children ------------------------------------------------------------------------

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._exited(pid, status)

    def _exited(self, pid: int, status: int) -> None:
        if pid in self.sessions:
            sid = self.sessions.pop(pid)
            self.emit(
                {
                    "event": "exit",
                    "pid": pid,
                    "sid": sid,
                    "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                }
            )

    def sweep(self) -> None:
        """Kills processes that were handed to this subreaper and are not live sessions."""
        for pid, ppid in _process_parents().items():
            if ppid == self.pid and pid not in self.sessions:
                _kill_tree(pid, include_root=True)
        self.reap()

    # --- main loop -----------------------------------------------------------------------

    def run(self) -> None:
        wake_r, wake_w = os.pipe()
        self.own_fds = (wake_r, wake_w)
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.emit({"event": "ready", "pid": self.pid, "protections": self.protections})
        while True:
            ready, _, _ = select.select([0, wake_r], [], [], 1.0)
            if wake_r in ready:
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
            self.reap()
            if 0 in ready:
                chunk = os.read(0, 1 << 20)
                if not chunk:
                    self.shutdown()
                    return
                self.pending += chunk
                while b"\n" in self.pending:
                    line, self.pending = self.pending.split(b"\n", 1)
                    if line.strip():
                        self.handle(json.loads(line))
            now = time.monotonic()
            if now - self.last_sweep >= 1.0:
                self.last_sweep = now
                self.sweep()

    def shutdown(self) -> None:
        """The server went away: nothing of ours may outlive it."""
        for pid in list(self.sessions):
            _kill_tree(pid, include_root=True)
        self.sweep()


def _process_parents() -> dict[int, int]:
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        parents[int(name)] = int(fields[1])
    return parents


def _descendants(root: int, parents: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    out, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_tree(root: int, include_root: bool) -> None:
    """Stops the whole tree first (so it cannot fork away), then kills it."""
    if include_root:
        _signal(root, signal.SIGSTOP)
    seen: set[int] = set()
    for _ in range(50):
        found = [p for p in _descendants(root, _process_parents()) if p not in seen]
        if not found:
            break
        for pid in found:
            _signal(pid, signal.SIGSTOP)
        seen.update(found)
    for pid in seen:
        _signal(pid, signal.SIGKILL)
    if include_root:
        _signal(root, signal.SIGKILL)


def _kill_uid(uid: int) -> None:
    """Kills every process of a per-session uid from a helper that runs as that uid."""
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            for _ in range(1000):
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    break
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def _remove_tree(path: str) -> None:
    def make_writable(function, failed, _exc_info):
        parent = os.path.dirname(failed)
        try:
            os.chmod(parent, 0o700)
            os.chmod(failed, 0o700)
        except OSError:
            pass
        try:
            function(failed)
        except OSError:
            pass

    if os.path.lexists(path):
        shutil.rmtree(path, onerror=make_writable)


def _session_main(
    request: dict, protections: dict, zygote_pid: int, inherited: tuple[int, ...]
) -> int:
    """Runs in the forked child: connect back, lock down, decode media, serve."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    isolation.set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != zygote_pid:
        return 1
    os.setsid()
    isolation.set_subreaper()
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    for fd in inherited:  # the zygote's own pipes; library-owned files stay open
        try:
            os.close(fd)
        except OSError:
            pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(request["socket"])
    protocol.send(sock, {"token": request["token"], "pid": os.getpid()})
    workdir = request["workdir"]
    try:
        isolation.apply(request, protections)
    except Exception as e:
        protocol.send(sock, {"error": f"isolation failed: {type(e).__name__}: {e}"})
        return 3
    os.dup2(1, 2)  # from here on nothing goes to the server's log
    os.environ.clear()
    os.environ.update(
        {
            "HOME": workdir,
            "TMPDIR": workdir,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
        }
    )
    import tempfile

    tempfile.tempdir = workdir
    runtime.install_signal_handlers()
    session = runtime.Session(sock, request["limits"])
    header = protocol.receive_header(session.rfile)
    started = time.perf_counter()
    try:
        session.open(header, os.path.join(workdir, ".media"))
    except Exception as e:
        protocol.send(sock, {"error": str(e)})
        return 4
    protocol.send(sock, {"ok": True, "micros": int((time.perf_counter() - started) * 1e6)})
    del header
    session.serve()
    return 0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="rolloutfarm_sandbox")
    parser.add_argument("--no-landlock", action="store_true")
    parser.add_argument("--no-seccomp", action="store_true")
    parser.add_argument("--readable", action="append", default=[])
    parser.add_argument("--work-root", required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    isolation.set_subreaper()
    _warm_up()
    protections = isolation.probe(not args.no_landlock, not args.no_seccomp)
    readable = list(args.readable)
    readable.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    readable.append(matplotlib.get_data_path())
    readable.append(matplotlib.get_cachedir())
    gc.collect()
    gc.freeze()
    Zygote(protections, readable, args.work_root).run()


if __name__ == "__main__":
    main()
