"""One session: receives code from the server, runs it in persistent globals, replies.

Runs inside the forked session process after isolation was applied.
"""

from __future__ import annotations

import ast
import os
import builtins
import signal
import sys
import threading
import time
import traceback

from rolloutfarm_sandbox import figures, media, protocol

CODE_NAME = "<code>"
TRACEBACK_LINES = 30


class _Interruptible:
    """SIGINT raises KeyboardInterrupt only while the model's code runs."""

    running = False

    @classmethod
    def handler(cls, signum, frame):
        if cls.running:
            raise KeyboardInterrupt("execution interrupted: wall-clock timeout")

    @classmethod
    def child_exited(cls, signum, frame):
        # Between executions nobody else waits: reap what exited (no zombies).
        if not cls.running:
            reap_orphans()


def _compile(code: str):
    """Compiles like a notebook cell: a trailing expression's value is printed."""
    tree = ast.parse(code, filename=CODE_NAME, mode="exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    body = compile(tree, CODE_NAME, "exec")
    tail = compile(last, CODE_NAME, "eval") if last is not None else None
    return body, tail


def _user_traceback(exc: BaseException) -> str:
    tb = exc.__traceback__
    # Drop the runtime's own frames: the model only needs its code's.
    while tb is not None and tb.tb_frame.f_code.co_filename != CODE_NAME:
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb)
    text = "".join(lines).splitlines()
    if len(text) > TRACEBACK_LINES:
        text = ["..."] + text[-TRACEBACK_LINES:]
    return "\n".join(text) + "\n"


def _error_line(exc: BaseException) -> str:
    message = str(exc)
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


class Session:
    def __init__(self, sock, limits: dict):
        self.sock = sock
        self.rfile = sock.makefile("rb", buffering=65536)
        self.limits = limits
        self.globals = {"__name__": "__main__", "__builtins__": builtins}

    def open(self, header: dict, media_dir: str) -> None:
        """Binds the open request's media, read from the connection as they arrive."""
        values = media.receive_all(header, self.rfile, self.limits["max_input_pixels"], media_dir)
        self.globals.update(values)

    def execute(self, code: str) -> tuple[dict, list[bytes]]:
        out = _capture_writer(self.limits["max_stdout_chars"])
        err = _capture_writer(self.limits["max_stderr_chars"])
        sink = figures.begin(self.limits["max_images"], self.limits["max_image_pixels"])
        status, error = "ok", ""
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        try:
            try:
                body, tail = _compile(code)
            except SyntaxError as e:
                status, error = "error", _error_line(e)
                err.write("".join(traceback.format_exception_only(type(e), e)))
            else:
                _Interruptible.running = True
                try:
                    exec(body, self.globals)
                    if tail is not None:
                        value = eval(tail, self.globals)
                        if value is not None:
                            print(repr(value))
                finally:
                    _Interruptible.running = False
        except KeyboardInterrupt as e:
            status, error = "interrupted", _error_line(e)
            err.write(_user_traceback(e))
        except BaseException as e:  # SystemExit too: the session goes on
            status, error = "error", _error_line(e)
            err.write(_user_traceback(e))
        finally:
            _Interruptible.running = False
            sys.stdout, sys.stderr = saved
            figures.end()
        header = {
            "status": status,
            "error": error,
            "stdout": out.getvalue(),
            "stderr": err.getvalue(),
            "sizes": [[w, h] for (_, w, h) in sink.images],
            "dropped": sink.dropped,
        }
        return header, [png for (png, _, _) in sink.images]

    def serve(self) -> None:
        while True:
            try:
                header, _ = protocol.receive(self.rfile)
            except EOFError:
                return
            op = header.get("op")
            if op == "exec":
                started = time.perf_counter()
                reply, blobs = self.execute(header.get("code", ""))
                reap_orphans()
                reply["micros"] = int((time.perf_counter() - started) * 1e6)
                protocol.send(self.sock, reply, blobs)
            elif op == "close":
                return
            else:
                protocol.send(self.sock, {"status": "error", "error": f"unknown op {op!r}"})


def _capture_writer(limit: int):
    from rolloutfarm_sandbox.capture import BoundedWriter

    return BoundedWriter(limit)


def install_signal_handlers() -> None:
    signal.signal(signal.SIGINT, _Interruptible.handler)
    signal.signal(signal.SIGCHLD, _Interruptible.child_exited)
    # Writing past RLIMIT_FSIZE then fails with EFBIG instead of killing the session.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # SIGCHLD may be delivered to another thread while the main thread waits for the next
    # request, and then its handler only runs when that request comes: poll as well.
    threading.Thread(target=_reap_between_executions, name="reaper", daemon=True).start()


def _reap_between_executions() -> None:
    while True:
        time.sleep(0.2)
        if not _Interruptible.running:
            try:
                reap_orphans()
            except Exception:  # a child reaped concurrently by the SIGCHLD handler
                pass


def _tracked_child_pids() -> set[int]:
    """Children that the model's code still waits for itself (subprocess, multiprocessing)."""
    import gc
    import subprocess

    kinds = [subprocess.Popen]
    try:
        from multiprocessing import popen_fork

        kinds.append(popen_fork.Popen)
    except ImportError:
        pass
    kinds = tuple(kinds)
    return {o.pid for o in gc.get_objects() if isinstance(o, kinds) and getattr(o, "pid", None)}


def reap_orphans() -> None:
    """Reaps exited children nobody waits for (this process is a child subreaper)."""
    tracked = None
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None:
            return
        if tracked is None:
            tracked = _tracked_child_pids()
        if info.si_pid in tracked:
            return
        try:
            os.waitpid(info.si_pid, os.WNOHANG)
        except ChildProcessError:
            return
