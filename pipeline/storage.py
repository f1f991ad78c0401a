"""Writes that never leave a half-written file: write beside the target, then rename.

A temporary file is named `.<target>.p<pid>@<host>[~<pid namespace>].<random>.tmp`, so that a later write in its folder
can tell one left by a killed process (removed) from one a live writer is filling (kept); a staging folder
(a release, an export, filled and then renamed into place: `pipeline.staging`) is named and swept the same way. Also the
errors that are the machine's (a full or read-only disk), which stop a run rather than fail an item."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import socket
import stat
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path


# Failures of the machine the user can fix (a full disk, a read-only folder), not bugs of ours: they
# stop a run (one `error:` line, exit 2) rather than fail one item for good.
ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})


def is_machine_error(error: BaseException | None) -> bool:
    """A fault of the machine the user can fix (`ENVIRONMENT_ERRNOS`), which no retry helps."""
    return isinstance(error, OSError) and error.errno in ENVIRONMENT_ERRNOS


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: os.umask can only be read by setting it, which is not safe beside other threads.
# mkstemp and mkdtemp create 0600 and 0700 for privacy; what we publish gets the user's usual modes.
FILE_MODE = 0o666 & ~_umask()
FOLDER_MODE = 0o777 & ~_umask()


def staging_dir(parent: Path, prefix: str, suffix: str = "") -> Path:
    """A new folder to fill and then rename into place, with the modes a plain mkdir would give it."""
    try:
        folder = Path(tempfile.mkdtemp(dir=parent, prefix=prefix, suffix=suffix))
    except PermissionError:  # it names the random folder it tried
        raise NotWritable(f"cannot write in {parent}", _nearest_existing(Path(parent))) from None
    # mkdir in a setgid (group-shared) parent sets the bit, so that what goes in keeps the group; keep it.
    folder.chmod(FOLDER_MODE | (folder.stat().st_mode & stat.S_ISGID))
    return folder


def permissions(path: Path) -> str:
    """`path`'s mode, owner and group as `ls -l` shows them (ids where this machine has no name for them)."""
    status = path.stat()
    try:
        owners = f"{path.owner()}:{path.group()}"
    except KeyError:  # a container's or an NFS share's ids
        owners = f"{status.st_uid}:{status.st_gid}"
    return f"{path.name} is {stat.filemode(status.st_mode)} {owners}"


class NotWritable(PermissionError):
    """A file or folder this user may not use (in a folder a team shares: another member's, made under
    umask 022): one line naming it, its mode and owner, and the fix."""

    def __init__(self, doing: str, refused: Path, change: str | None = None):
        access, usual = ("write", "g+w") if refused.is_dir() else ("read and write", "g+rw")
        change = change or usual
        super().__init__(errno.EACCES, f"{doing} ({permissions(refused)}): this user needs {access} access to it "
                                       f"(where a team shares it: umask 002 where it is made, or `chmod {change}` "
                                       "by its owner)")

    def __str__(self) -> str:
        return self.strerror


class WriteRefused(OSError):
    """A write a full, over-quota or read-only disk refused: write(2)'s error names no file, and a
    run, Prefect's home and TMPDIR may be on three disks. One line names the file and where its disk
    is mounted; the errno stays the one the disk gave (`is_machine_error`)."""

    def __init__(self, error: OSError, target: Path):
        super().__init__(error.errno, f"cannot write {target}: {error.strerror} (the disk mounted at "
                                      f"{mount_point(Path(target).parent)})", str(target))

    def __str__(self) -> str:
        return self.strerror


def mount_point(folder: Path) -> Path:
    """Where the disk that holds `folder` (or the nearest folder above it that exists) is mounted."""
    path = _nearest_existing(folder)
    while not os.path.ismount(path) and path.parent != path:
        path = path.parent
    return path


def _nearest_existing(folder: Path) -> Path:
    """The folder, or the nearest folder above it that exists: the one whose permissions refused."""
    folder = Path(os.path.abspath(folder))
    return next(above for above in (folder, *folder.parents) if above.exists())


# Folders this process has cleared of leftovers: a folder of images listed at each write would cost
# time that grows with the square of its size.
_swept_folders: set[str] = set()


def host_name() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"


def process_table() -> str:
    """This host, and on Linux its process table: containers on the host's network share its name
    but not its pids, so none can tell whether another's writer is alive."""
    try:
        return f"{host_name()}~{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return host_name()


def _temporary_prefix(target: Path) -> str:
    return f".{target.name}.p{os.getpid()}@{process_table()}."


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _is_leftover(path: Path) -> bool:
    """Whether `path` is a temporary file a killed process of this host left. Another host's (or
    container's) pids cannot be checked from here, so its files are not, nor are those from before
    the names carried their process."""
    ours = re.compile(r"\..+\.p(\d+)@" + re.escape(process_table()) + r"\.\w+\.tmp")
    match = ours.fullmatch(path.name)
    return bool(match) and not process_alive(int(match.group(1)))


def remove_leftovers(paths: Iterable[Path]) -> None:
    """Remove those of `paths` that are leftovers (`_is_leftover`); a live writer's file is kept."""
    for path in paths:
        if _is_leftover(path):
            path.unlink(missing_ok=True)  # another process sweeping the folder may have removed it first


def _sweep_once(folder: Path) -> None:
    """The folder's leftovers, once per folder and process."""
    key = os.path.abspath(folder)
    if key in _swept_folders:
        return
    _swept_folders.add(key)
    remove_leftovers(folder.glob(".*.tmp"))


@contextmanager
def atomic_path(target: Path):
    """Yields a temporary path in the target's folder; renamed onto the target only on success.
    A folder in the target's place is refused before any work."""
    target = Path(target)
    if target.is_dir():
        raise IsADirectoryError(f"{target}: is a folder; a file is written there")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _sweep_once(target.parent)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=_temporary_prefix(target), suffix=".tmp")
    except PermissionError:  # mkstemp's names the temporary file, which the user never asked for
        raise NotWritable(f"cannot write {target}", _nearest_existing(target.parent)) from None
    except OSError as error:  # no room for one more file, or a read-only disk
        if not is_machine_error(error):
            raise
        raise WriteRefused(error, target) from error
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
    except OSError as error:
        if not _refused_this_write(error, temporary):
            raise
        raise WriteRefused(error, target) from error
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _refused_this_write(error: OSError, temporary: str) -> bool:
    """A machine error writing the temporary file: write(2)'s names no file. One naming another file,
    or already said in full (a write nested in this one), is not this write's."""
    return (is_machine_error(error) and not isinstance(error, (NotWritable, WriteRefused))
            and error.filename in (None, temporary))


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: Path, value) -> None:
    atomic_write_text(target, json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


@contextmanager
def exclusive_lock(path: Path, busy: Callable[[str], Exception]):
    """Hold an flock on `path` for the block, or raise `busy(holder)` at once, `holder` the pid the
    holding process wrote ("" while it has locked but not yet written). The file stays: removing it
    would let a waiting process lock the removed file while a new one locks its successor. The kernel
    drops the lock when the process ends, kill -9 included."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, writable = _open_lock(path)
    with open(descriptor, "r+" if writable else "r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy(_living(handle.read().strip())) from None
        if writable:  # else the pid stays the last writer's: a lock file only an older leakless made so
            handle.truncate(0)
            handle.write(str(os.getpid()))
            handle.flush()
        yield


def _living(holder: str) -> str:
    """The pid in the lock file where that process still runs, else "": a holder that opened the lock
    read-only writes none, and the file keeps an earlier holder's, maybe long gone."""
    try:
        os.kill(int(holder), 0)
    except (ValueError, ProcessLookupError):
        return ""
    except PermissionError:  # it runs, as another user
        pass
    return holder


def _open_lock(path: Path) -> tuple[int, bool]:
    """A descriptor of the lock file, made if missing (never emptied unlocked), and whether it is open
    for writing. Another member's lock file that the group may not write is opened read-only: flock
    needs no write access. One made in a group-writable folder is made group-writable whatever its
    maker's umask, as whoever may write the folder may take the lock."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except PermissionError:
        try:
            return os.open(path, os.O_RDONLY), False
        except OSError:
            there = path.exists()
            raise NotWritable(f"cannot {'open' if there else 'make'} the lock file {path}",
                              path if there else path.parent) from None
    status = os.fstat(descriptor)
    if path.parent.stat().st_mode & stat.S_IWGRP and status.st_uid == os.geteuid() and not status.st_mode & stat.S_IWGRP:
        os.fchmod(descriptor, stat.S_IMODE(status.st_mode) | stat.S_IWGRP)
    return descriptor, True
