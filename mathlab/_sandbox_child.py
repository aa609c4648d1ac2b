"""Launcher for mathlab.sandbox: builds the jail, runs one program in it, reports back.

Run by `mathlab.sandbox` as ``python -I -S _sandbox_child.py CONFIG_JSON`` with the
program's source on stdin and a status pipe on fd ``CONFIG["status_fd"]``. Stdlib only
(os, sys, json, signal, ctypes) so that it starts fast; Linux only. Three processes:

launcher (this process, started as root or as an ordinary user)
    * joins the per-run memory cgroup the parent made, if any (root on cgroup v1);
    * root: forks a helper that stays root just long enough to write our uid/gid maps
      (65534 -> 65534 only), then we unshare a user namespace, then the mount, pid, net,
      ipc, uts and cgroup namespaces, open the directories to bind while we can still
      traverse them, and drop to uid/gid 65534 with no supplementary groups. From here on
      nothing we run has any privilege on the host: capabilities live only in the new
      user namespace, whose only uid is nobody.
    * enforces the wall-clock limit (SIGALRM) and stops early on SIGTERM (the parent
      sends it when the output cap is hit): it SIGKILLs "init", whose death makes the
      kernel kill every process of the pid namespace; waitpid(init) returns only once they
      are all gone, so when the launcher exits nothing of the program is left.
init (pid 1 of the new pid namespace)
    builds the filesystem view (a fresh read-only tmpfs root with read-only binds of the
    system and Python directories, a few device nodes, a private /proc and a size-capped
    tmpfs /tmp that is the working directory), pivots into it, forks the worker, reaps.
worker
    rlimits (address space, CPU, processes, file size, no core), no_new_privs, a Landlock
    domain (filesystem read-only except /tmp, no TCP, no signals or abstract sockets
    outside the sandbox), a seccomp filter (no namespace, mount, ptrace, bpf, keyring,
    memfd... syscalls), its own session, then exec of the Python interpreter on /tmp/main.py.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import struct
import sys

UID = GID = 65534  # nobody / nogroup, both inside the namespace and on the host

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NS_FLAGS = (
    CLONE_NEWNS
    | CLONE_NEWCGROUP
    | CLONE_NEWUTS
    | CLONE_NEWIPC
    | CLONE_NEWUSER
    | CLONE_NEWPID
    | CLONE_NEWNET
)

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x1, 0x2, 0x4
AT_RECURSIVE = 0x8000

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2

# Syscall numbers on x86_64 and on aarch64 ("-": none there): the ones we call through
# ctypes, then the ones seccomp refuses.
_ARCHES = ("x86_64", "aarch64")
_SYSCALLS = """
    pivot_root               155   41
    mount_setattr            442  442
    landlock_create_ruleset  444  444
    landlock_add_rule        445  445
    landlock_restrict_self   446  446
    clone                     56  220
    clone3                   435  435
    ptrace                   101  117
    mount                    165   40
    umount2                  166   39
    unshare                  272   97
    setns                    308  268
    add_key                  248  217
    request_key              249  218
    keyctl                   250  219
    bpf                      321  280
    perf_event_open          298  241
    userfaultfd              323  282
    kexec_load               246  104
    kexec_file_load          320  294
    init_module              175  105
    finit_module             313  273
    delete_module            176  106
    reboot                   169  142
    swapon                   167  224
    swapoff                  168  225
    acct                     163   89
    name_to_handle_at        303  264
    open_by_handle_at        304  265
    process_vm_readv         310  270
    process_vm_writev        311  271
    io_uring_setup           425  425
    io_uring_enter           426  426
    io_uring_register        427  427
    open_tree                428  428
    move_mount               429  429
    fsopen                   430  430
    fsconfig                 431  431
    fsmount                  432  432
    fspick                   433  433
    chroot                   161   51
    syslog                   103  116
    quotactl                 179   60
    vhangup                  153   58
    sethostname              170  161
    setdomainname            171  162
    kcmp                     312  272
    uselib                   134    -
    sysfs                    139    -
    memfd_create             319  279
"""
_NOT_DENIED = {"clone", "clone3"}  # filtered on their flags instead
ARCH = os.uname().machine
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}.get(ARCH, 0)
_ROWS = [line.split() for line in _SYSCALLS.strip().splitlines()]
_COL = _ARCHES.index(ARCH) + 1 if ARCH in _ARCHES else None
NR: dict[str, int] = {row[0]: int(row[_COL]) for row in _ROWS if _COL and row[_COL] != "-"}
DENY = sorted({nr for name, nr in NR.items() if name not in _NOT_DENIED})

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulong,
    ctypes.c_char_p,
]


class SetupError(Exception):
    pass


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise SetupError(f"{what}: {os.strerror(err)} (errno {err})")
    return ret


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def mount(src: str | None, tgt: str, fstype: str | None, flags: int, data: str | None = None):
    _check(libc.mount(_b(src), _b(tgt), _b(fstype), flags, _b(data)), f"mount {src} on {tgt}")


def unshare(flags: int, what: str) -> None:
    _check(libc.unshare(flags), f"unshare({what})")


def prctl(option: int, arg2: int = 0, arg3: int = 0) -> int:
    return libc.prctl(
        option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(0), ctypes.c_ulong(0)
    )


def status(fd: int, **kw) -> None:
    try:
        os.write(fd, (json.dumps(kw) + "\n").encode())
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# launcher


def write_file(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def enter_user_namespace() -> None:
    """Unshare a user namespace whose only uid/gid is 65534, mapped to host 65534 (root
    parent) or to our own uid/gid (unprivileged parent)."""
    euid, egid = os.geteuid(), os.getegid()
    if euid != 0:
        unshare(CLONE_NEWUSER, "user")
        write_file("/proc/self/setgroups", "deny")
        write_file("/proc/self/uid_map", f"{UID} {euid} 1\n")
        write_file("/proc/self/gid_map", f"{GID} {egid} 1\n")
        return
    # A process may map only its own uid into a namespace it created; to map nobody we
    # need a helper that stays in the parent namespace with CAP_SETUID and writes for us.
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    parent = os.getpid()
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            os.close(w1)
            os.close(r2)
            if os.read(r1, 1) == b"u":
                write_file(f"/proc/{parent}/uid_map", f"{UID} {UID} 1\n")
                write_file(f"/proc/{parent}/gid_map", f"{GID} {GID} 1\n")
                os.write(w2, b"k")
                code = 0
        except BaseException as exc:  # noqa: BLE001 - report anything, exit without cleanup
            try:
                os.write(w2, f"uid map: {exc}".encode()[:200])
            except OSError:
                pass
        os._exit(code)
    os.close(r1)
    os.close(w2)
    try:
        unshare(CLONE_NEWUSER, "user")
        os.write(w1, b"u")
    finally:
        os.close(w1)
        reply = os.read(r2, 256)
        os.close(r2)
        os.waitpid(helper, 0)
    if reply != b"k":
        raise SetupError(reply.decode(errors="replace") or "uid map helper failed")


def drop_to_nobody() -> None:
    # Capabilities survive (uid 0 is not mapped in the namespace, so there is no "root"
    # whose loss clears them); init needs them to mount, exec drops them for the worker.
    if os.geteuid() == 0 or os.getgroups():
        try:
            os.setgroups([])
        except OSError:
            pass  # unprivileged parent: setgroups is denied in the namespace
    os.setresgid(GID, GID, GID)
    os.setresuid(UID, UID, UID)


def open_binds(binds: list) -> list:
    out = []
    for path, kind in binds:
        if kind == "symlink":
            out.append((path, kind, os.readlink(path)))
        else:
            out.append((path, kind, os.open(path, os.O_PATH | os.O_CLOEXEC)))
    return out


def main() -> None:
    cfg = json.loads(sys.argv[1])
    sfd = cfg["status_fd"]
    code = sys.stdin.buffer.read()
    devnull = os.open("/dev/null", os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)
    ppid = os.getppid()
    try:
        if cfg.get("cgroup_procs"):  # join the memory cgroup the parent made for this run
            write_file(cfg["cgroup_procs"], str(os.getpid()))
        enter_user_namespace()
        unshare(
            CLONE_NEWNS
            | CLONE_NEWPID
            | CLONE_NEWNET
            | CLONE_NEWIPC
            | CLONE_NEWUTS
            | CLONE_NEWCGROUP,
            "mount,pid,net,ipc,uts,cgroup",
        )
        binds = open_binds(cfg["binds"])
        drop_to_nobody()
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the uid change: set it now
        if os.getppid() != ppid:
            raise SetupError("parent exited")
    except (OSError, SetupError) as exc:
        status(sfd, setup_error=f"launcher: {exc}")
        os._exit(3)

    alive_r, alive_w = os.pipe()  # init sees EOF here once the launcher is gone
    init = os.fork()
    if init == 0:
        try:
            os.close(alive_w)
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            os.set_blocking(alive_r, False)
            try:
                if os.read(alive_r, 1) == b"":
                    os._exit(3)
            except BlockingIOError:
                pass
            os.close(alive_r)
            init_main(cfg, code, binds, sfd)
        except BaseException as exc:  # noqa: BLE001
            status(sfd, setup_error=f"init: {exc}")
        os._exit(3)

    os.close(alive_r)
    for _, kind, fd in binds:
        if kind != "symlink":
            os.close(fd)
    outcome = {"timed_out": False, "terminated": False}

    def stop(signum, _frame):
        outcome["timed_out" if signum == signal.SIGALRM else "terminated"] = True
        try:
            os.kill(init, signal.SIGKILL)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGALRM, stop)
    signal.signal(signal.SIGTERM, stop)
    signal.setitimer(signal.ITIMER_REAL, float(cfg["timeout"]))
    while True:
        try:
            _, st = os.waitpid(init, 0)
            break
        except ChildProcessError:
            st = 0
            break
    signal.setitimer(signal.ITIMER_REAL, 0)
    status(sfd, init_status=st, **outcome)
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# init


def makedirs(path: str) -> None:
    os.makedirs(path, mode=0o755, exist_ok=True)


def set_readonly(path: str) -> None:
    attr = struct.pack("QQQQ", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    buf = ctypes.create_string_buffer(attr)
    ret = libc.syscall(NR["mount_setattr"], -100, _b(path), AT_RECURSIVE, buf, len(attr))
    if ret < 0:  # kernels before 5.12: non-recursive remount
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def build_root(cfg: dict, code: bytes, binds: list) -> list[str]:
    layers = []
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    new = "/tmp"  # any existing directory will do: the binds are already open as fds
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
    # the writable /tmp first: a bind that lives under /tmp (a venv in /tmp/ci/.venv, say)
    # is then mounted on top of it instead of being hidden by it
    makedirs(new + "/tmp")
    mb = int(cfg["disk_mb"])
    mount(
        "tmpfs",
        new + "/tmp",
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"size={mb}m,nr_inodes={max(1024, mb * 64)},mode=1777",
    )
    for path, kind, src in binds:
        tgt = new + path
        if kind == "symlink":
            makedirs(os.path.dirname(tgt))
            os.symlink(src, tgt)
            continue
        if kind == "dir":
            makedirs(tgt)
        else:
            makedirs(os.path.dirname(tgt))
            os.close(os.open(tgt, os.O_CREAT | os.O_WRONLY, 0o644))
        mount(f"/proc/self/fd/{src}", tgt, None, MS_BIND | MS_REC)
        if kind == "dev":
            mount(None, tgt, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NOEXEC)
        else:
            set_readonly(tgt)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("shm", "/tmp"),  # POSIX semaphores and shared memory (multiprocessing) land in /tmp
    ):
        makedirs(new + "/dev")
        os.symlink(target, f"{new}/dev/{name}")
    makedirs(new + "/proc")
    mount("proc", new + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    fd = os.open(new + "/tmp/main.py", os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(code)
    layers.append(
        "mount namespace: fresh read-only root with only the system and Python directories "
        f"(/root, /home, /work... hidden), private /proc, tmpfs /tmp ({mb} MiB) as the only "
        "writable place, gone with the namespace"
    )
    os.chdir(new)
    _check(libc.syscall(NR["pivot_root"], b".", b"."), "pivot_root")
    _check(libc.umount2(b".", MNT_DETACH), "umount old root")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    libc.sethostname(b"sandbox", 7)
    try:  # no nested user namespaces (seccomp also refuses unshare/clone with CLONE_NEW*)
        write_file("/proc/sys/user/max_user_namespaces", "0")
        layers.append("nested user namespaces disabled")
    except OSError:
        pass
    return layers


def drop_caps() -> None:
    header = struct.pack("Ii", 0x20080522, 0)
    data = bytes(24)
    libc.capset(ctypes.create_string_buffer(header), ctypes.create_string_buffer(data))


def init_main(cfg: dict, code: bytes, binds: list, sfd: int) -> None:
    layers = build_root(cfg, code, binds)
    for _, kind, fd in binds:
        if kind != "symlink":
            os.close(fd)
    prctl(PR_SET_DUMPABLE, 0)  # /proc/1/* stays closed to the program (exec resets it there)
    worker = os.fork()
    if worker == 0:
        try:
            worker_main(cfg, sfd, layers)
        except BaseException as exc:  # noqa: BLE001
            status(sfd, setup_error=f"worker: {exc}")
        os._exit(3)
    drop_caps()  # after the fork: the worker still needs CAP_SETPCAP to shrink its bounding set
    while True:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            status(sfd, setup_error="init: worker vanished")
            os._exit(3)
        if pid == worker:
            break
    if os.WIFSIGNALED(st):
        status(sfd, signal=os.WTERMSIG(st))
    else:
        status(sfd, exit_code=os.WEXITSTATUS(st))
    os._exit(0)  # the kernel now kills whatever the program left running


# ---------------------------------------------------------------------------------------------
# worker


def landlock(layers: list[str]) -> None:
    abi = libc.syscall(NR["landlock_create_ruleset"], None, 0, 1)
    if abi < 1:
        layers.append("landlock: unavailable")
        return
    fs_all = (1 << 13) - 1
    if abi >= 2:
        fs_all |= 1 << 13  # REFER
    if abi >= 3:
        fs_all |= 1 << 14  # TRUNCATE
    if abi >= 5:
        fs_all |= 1 << 15  # IOCTL_DEV
    net = 3 if abi >= 4 else 0  # BIND_TCP | CONNECT_TCP, no rule allows any port
    scoped = 3 if abi >= 6 else 0  # ABSTRACT_UNIX_SOCKET | SIGNAL
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    attr = struct.pack("QQQ", fs_all, net, scoped)[:size]
    ruleset = _check(
        libc.syscall(NR["landlock_create_ruleset"], ctypes.create_string_buffer(attr), size, 0),
        "landlock_create_ruleset",
    )
    read_only = 0b1101  # EXECUTE | READ_FILE | READ_DIR
    dev = (1 << 1) | (1 << 2) | ((1 << 14) if abi >= 3 else 0) | ((1 << 15) if abi >= 5 else 0)
    for path, access in (
        ("/", read_only),
        ("/tmp", fs_all),
        ("/dev/null", dev),
        ("/dev/zero", dev),
        ("/dev/full", dev),
    ):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        rule = ctypes.create_string_buffer(struct.pack("=Qi", access & fs_all, fd))
        _check(libc.syscall(NR["landlock_add_rule"], ruleset, 1, rule, 0), f"landlock rule {path}")
        os.close(fd)
    _check(libc.syscall(NR["landlock_restrict_self"], ruleset, 0), "landlock_restrict_self")
    os.close(ruleset)
    what = ["filesystem read-only except /tmp"]
    if net:
        what.append("no TCP bind/connect")
    if scoped:
        what.append("no signals or abstract unix sockets beyond the sandbox")
    layers.append(f"landlock ABI {abi}: " + ", ".join(what))


def seccomp(layers: list[str]) -> None:
    """A deny-list filter: the kernel interfaces a math program never needs and that
    containment escapes go through. clone3 gets ENOSYS (glibc then uses clone, whose
    flags we can inspect); clone with any CLONE_NEW* flag gets EPERM."""
    if not NR:
        return
    ld_w, jeq, jge, jset, ret = 0x20, 0x15, 0x35, 0x45, 0x06
    allow, eperm, enosys, kill = 0x7FFF0000, 0x00050001, 0x00050026, 0x80000000
    deny = DENY
    n = len(deny)
    prog = [
        (ld_w, 0, 0, 4),  # seccomp_data.arch
        (jeq, 1, 0, AUDIT_ARCH),
        (ret, 0, 0, kill),
        (ld_w, 0, 0, 0),  # seccomp_data.nr
        (jge, 0, 1, 0x40000000 if ARCH == "x86_64" else 0xFFFFFFFF),  # x32 numbers
        (ret, 0, 0, eperm),
        (jeq, 0, 1, NR["clone3"]),
        (ret, 0, 0, enosys),
        (jeq, 0, 4, NR["clone"]),
        (ld_w, 0, 0, 16),  # low half of args[0]: the clone flags
        (jset, 0, 1, CLONE_NS_FLAGS),
        (ret, 0, 0, eperm),
        (ret, 0, 0, allow),
    ]
    prog += [(jeq, n - i, 0, nr) for i, nr in enumerate(deny)]
    prog += [(ret, 0, 0, allow), (ret, 0, 0, eperm)]
    filt = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(filt)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buf))
    fbuf = ctypes.create_string_buffer(fprog)
    _check(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fbuf)), "seccomp")
    layers.append(
        f"seccomp: {len(deny)} syscalls refused (namespaces, mount, ptrace, bpf, "
        "keyrings, modules, memfd...), clone3 -> ENOSYS, clone with CLONE_NEW* -> EPERM"
    )


def worker_main(cfg: dict, sfd: int, layers: list[str]) -> None:
    import resource

    os.chdir("/tmp")
    os.setsid()  # own session and process group: kill(0, ...) must not reach the launcher
    mem = int(cfg["memory_mb"]) << 20
    cpu = int(cfg["cpu_s"])
    limits = [
        (resource.RLIMIT_AS, mem, mem),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        # launcher and init count too: they run as the same uid in this user namespace
        (resource.RLIMIT_NPROC, int(cfg["max_processes"]) + 2, int(cfg["max_processes"]) + 2),
        (resource.RLIMIT_FSIZE, int(cfg["disk_mb"]) << 20, int(cfg["disk_mb"]) << 20),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NOFILE, 256, 256),
        (resource.RLIMIT_MEMLOCK, 0, 0),
        (resource.RLIMIT_MSGQUEUE, 0, 0),
    ]
    for res, soft, hard in limits:
        resource.setrlimit(res, (soft, hard))
    layers.append(
        f"rlimits: address space {cfg['memory_mb']} MiB, CPU {cpu} s, "
        f"{cfg['max_processes']} processes/threads, files {cfg['disk_mb']} MiB, no core"
    )
    _check(prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    last_cap = int(open("/proc/sys/kernel/cap_last_cap").read())
    for cap in range(last_cap + 1):
        prctl(PR_CAPBSET_DROP, cap)
    if cfg.get("landlock", True):
        landlock(layers)
    if cfg.get("seccomp", True):
        seccomp(layers)
    if cfg.get("report_layers"):
        status(sfd, layers=layers)
    os.closerange(3, 1 << 16)
    env = cfg["env"]
    argv = [cfg["python"], *cfg["python_flags"], "/tmp/main.py"]
    try:
        os.execve(cfg["python"], argv, env)
    except OSError as exc:
        os.write(2, f"sandbox: cannot exec {cfg['python']}: {exc}\n".encode())
        os._exit(127)


if __name__ == "__main__":
    main()
