"""Locks a freshly forked session process down before it runs any of the model's code.

Layers, applied in this order (each reported by :func:`probe` so the server can log them):

1. Privileges: as root, the session switches to its own uid/gid (one per session slot), so
   its files are private and RLIMIT_NPROC counts only its own processes. Not root: the
   session keeps the server's uid and relies on the layers below.
2. Resource limits: CPU seconds, address space, processes/threads, open files, file size,
   no core dumps.
3. ``PR_SET_NO_NEW_PRIVS`` and non-dumpable (so /proc/PID/mem of a session is not readable
   by a sibling with the same uid).
4. Landlock (unprivileged LSM): read-only access to system and Python paths, read-write only
   to the session's own directory; no TCP bind/connect (ABI >= 4); no signals to and no
   abstract Unix sockets of processes outside the session (ABI >= 6).
5. seccomp: no new sockets of any family (the session's only channel to the server is
   already connected), no ptrace, no io_uring, no namespaces, no mounts, no kernel keyrings,
   BPF or perf events.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1

SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13
FS_TRUNCATE = 1 << 14
FS_IOCTL_DEV = 1 << 15
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR

# Namespaces a session must never create (user namespaces are the usual escape route).
CLONE_NAMESPACES = (
    0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80
)

DENIED_SYSCALLS = [
    "ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2", "pivot_root",
    "chroot", "unshare", "setns", "bpf", "keyctl", "add_key", "request_key",
    "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "swapon", "swapoff", "reboot", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at",
    "fanotify_init", "socket", "acct", "quotactl", "settimeofday", "clock_settime",
    "lookup_dcookie", "mount_setattr", "fsopen", "fsmount", "fsconfig", "move_mount",
    "open_tree",
]  # fmt: skip


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    abi = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))  # fmt: skip
    return abi if abi > 0 else 0


def seccomp_available() -> bool:
    try:
        import seccomp  # noqa: F401
    except ImportError:
        return False
    return True


def probe(want_landlock: bool, want_seccomp: bool) -> dict:
    """Which protections this machine gives sessions."""
    abi = landlock_abi() if want_landlock else 0
    return {
        "root": os.geteuid() == 0,
        "landlock_abi": abi,
        "landlock_fs": abi >= 1,
        "landlock_net": abi >= 4,
        "landlock_scope": abi >= 6,
        "seccomp": want_seccomp and seccomp_available(),
    }


def _prctl(option: int, arg: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


def set_subreaper() -> None:
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def set_parent_death_signal(sig: int) -> None:
    _prctl(PR_SET_PDEATHSIG, sig)


def drop_privileges(uid: int, gid: int, workdir: str) -> None:
    os.chown(workdir, uid, gid)
    os.chmod(workdir, 0o700)
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def apply_rlimits(limits: dict) -> None:
    def cap(kind, soft, hard=None):
        hard = soft if hard is None else hard
        _, current_hard = resource.getrlimit(kind)
        if current_hard != resource.RLIM_INFINITY:
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(kind, (soft, hard))

    cpu = int(limits["cpu_seconds"])
    # SIGXCPU at the soft limit, SIGKILL one second later if it is caught.
    cap(resource.RLIMIT_CPU, cpu, cpu + 1)
    cap(resource.RLIMIT_AS, int(limits["memory_bytes"]))
    cap(resource.RLIMIT_NPROC, int(limits["max_processes"]))
    cap(resource.RLIMIT_NOFILE, int(limits["max_open_files"]))
    cap(resource.RLIMIT_FSIZE, int(limits["max_file_bytes"]))
    cap(resource.RLIMIT_CORE, 0)


def _add_path(ruleset_fd: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # paths that do not exist on this machine are simply not granted
    try:
        if not os.path.isdir(path):
            access &= FILE_RIGHTS
        attr = _PathBeneathAttr(access, fd)
        if _libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset_fd),
                         ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(attr),
                         ctypes.c_uint32(0)) != 0:  # fmt: skip
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_add_rule({path}): {os.strerror(err)}")
    finally:
        os.close(fd)


def apply_landlock(abi: int, workdir: str, readable: list[str]) -> None:
    fs = (1 << 13) - 1
    if abi >= 2:
        fs |= FS_REFER
    if abi >= 3:
        fs |= FS_TRUNCATE
    if abi >= 5:
        fs |= FS_IOCTL_DEV
    net = NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0
    scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(fs, net, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset_fd = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                               ctypes.c_size_t(size), ctypes.c_uint32(0))  # fmt: skip
    if ruleset_fd < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"landlock_create_ruleset: {os.strerror(err)}")
    try:
        for path in readable:
            _add_path(ruleset_fd, path, READ_RIGHTS)
        for device in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"):
            _add_path(ruleset_fd, device, FS_READ_FILE | FS_WRITE_FILE)
        _add_path(ruleset_fd, workdir, fs)
        if _libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset_fd),
                         ctypes.c_uint32(0)) != 0:  # fmt: skip
            err = ctypes.get_errno()
            raise OSError(err, f"landlock_restrict_self: {os.strerror(err)}")
    finally:
        os.close(ruleset_fd)


def apply_seccomp() -> None:
    import seccomp

    denied = seccomp.ERRNO(errno.EPERM)
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            f.add_rule(denied, name)
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall on this architecture/libseccomp
    # clone3 hides its flags from seccomp: make libc fall back to clone, whose flags we check.
    f.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    f.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NAMESPACES,
                                             CLONE_NAMESPACES))  # fmt: skip
    for flag in (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                 0x40000000, 0x80):  # fmt: skip
        f.add_rule(denied, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.load()


def readable_paths(extra: list[str], work_root: str) -> list[str]:
    """System and Python paths, never the work root or a folder above it."""
    paths = ["/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc"]
    paths += [sys.prefix, sys.base_prefix, sys.exec_prefix]
    # sys.path[0] is the zygote's working directory under -m: not a library folder.
    paths += [p for p in sys.path[1:] if p and os.path.isdir(p)]
    paths += extra
    root = os.path.realpath(work_root)
    seen, out = set(), []
    for p in paths:
        p = os.path.realpath(p)
        if p in seen or p == "/" or root == p or root.startswith(p.rstrip("/") + "/"):
            continue
        seen.add(p)
        out.append(p)
    return out


def apply(spec: dict, protections: dict) -> None:
    """Applies every layer to the current process. Raises when a requested layer fails."""
    workdir = spec["workdir"]
    os.umask(0o077)
    os.chdir(workdir)
    if spec.get("uid") is not None and os.geteuid() == 0:
        drop_privileges(int(spec["uid"]), int(spec["gid"]), workdir)
    apply_rlimits(spec["limits"])
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    if protections.get("landlock_fs"):
        apply_landlock(protections["landlock_abi"], workdir, readable_paths(spec.get("readable", []), spec["work_root"]))
    if protections.get("seccomp"):
        apply_seccomp()
