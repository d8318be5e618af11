"""Run a shell command inside a stock Debian kernel booted under QEMU (software emulation).

The guest's root file system is the host's own `/`, shared read-only over virtio-9p (the
guest runs the host's programs and the project's venv), with tmpfs where programs write; a
second, writable share is the job directory, where the command's output and exit code land.
The host's kernel lacks drivers (VRF, GRE, IPIP, WireGuard, VLAN, dummy) that Debian's
linux-image-amd64 has as modules; the guest loads them from /lib/modules/<its version>, which
that package installs on the host. There is no network device: the guest has loopback and the
namespaces the command creates.

Booting the uncompressed ELF kernel through its PVH entry point, on the q35 machine, takes a
few seconds; the kernel image and the initramfs are built once per kernel and kept in a cache.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from initramfs import INIT_SCRIPT, build_initramfs
from vmlinux import extract_vmlinux_file

HERE = Path(__file__).resolve().parent
QEMU = "qemu-system-x86_64"
GUEST_JOB_DIR = "/run/flyos-job"  # where the job directory is mounted in the guest
KERNEL_ARGS = "console=ttyS0 quiet panic=-1 mitigations=off init_on_alloc=0 random.trust_cpu=on"
MARKER = "flyos-vm: "
CONSOLE_TAIL = 40  # console lines quoted by a failure


class VmError(AssertionError):
    """The VM did not produce a result: missing tools, no boot, a timeout, a crash."""


@dataclass(frozen=True)
class Kernel:
    """A kernel image and its modules, as Debian's linux-image packages install them."""

    release: str
    image: Path
    modules: Path


@dataclass(frozen=True)
class BootFiles:
    kernel: Kernel
    vmlinux: Path
    initramfs: Path


@dataclass(frozen=True)
class VmResult:
    """What a job left: its exit code and output, and the guest's console for diagnostics."""

    exit_code: int
    output: str
    console: str
    job_dir: Path
    kernel_release: str
    boot_seconds: float
    total_seconds: float


def find_kernel() -> Kernel:
    """The newest /boot/vmlinuz-* that has its modules in /lib/modules (FLYOS_VM_KERNEL names
    a release instead)."""
    wanted = os.environ.get("FLYOS_VM_KERNEL")
    candidates = []
    for image in Path("/boot").glob("vmlinuz-*"):
        release = image.name.removeprefix("vmlinuz-")
        modules = Path("/lib/modules") / release
        if modules.is_dir() and (wanted is None or release == wanted):
            candidates.append(Kernel(release, image, modules))
    if not candidates:
        raise VmError(
            "no kernel for the VM tier: /boot/vmlinuz-* with /lib/modules/<release>"
            + (f" for {wanted}" if wanted else "")
            + " (scripts/install.sh installs linux-image-amd64)"
        )
    return max(candidates, key=lambda kernel: _version_key(kernel.release))


def _version_key(release: str) -> list[int]:
    return [int(number) for number in re.findall(r"\d+", release)]


def cache_dir() -> Path:
    """FLYOS_VM_CACHE, else ~/.cache/flyos-agent/vm."""
    configured = os.environ.get("FLYOS_VM_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "flyos-agent" / "vm"


def boot_files(kernel: Kernel) -> BootFiles:
    """The ELF kernel and the initramfs for `kernel`, built on first use and cached, keyed by
    the kernel release and image size and by the hash of the builder and the init script."""
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    image_key = f"{kernel.release}-{kernel.image.stat().st_size}"
    vmlinux = root / f"vmlinux-{image_key}"
    if not vmlinux.exists():
        extract_vmlinux_file(kernel.image, vmlinux)
        for stale in root.glob("vmlinux-*"):  # 60-odd MB each: keep only the current kernel's
            if stale != vmlinux and not stale.name.endswith(".partial"):
                stale.unlink(missing_ok=True)
    sources = b"".join(path.read_bytes() for path in (INIT_SCRIPT, HERE / "initramfs.py"))
    initramfs = root / f"initramfs-{image_key}-{hashlib.sha256(sources).hexdigest()[:16]}.gz"
    if not initramfs.exists():
        partial = initramfs.with_name(f"{initramfs.name}.{os.getpid()}.partial")
        partial.write_bytes(build_initramfs(kernel.modules))
        partial.replace(initramfs)
    return BootFiles(kernel, vmlinux, initramfs)


def qemu_command(files: BootFiles, job_dir: Path, *, memory: str, cpus: int) -> list[str]:
    """The QEMU command line: q35, TCG, no display, no network, console on stdout."""
    qemu = shutil.which(QEMU)
    if qemu is None:
        raise VmError(f"{QEMU} not found (scripts/install.sh installs qemu-system-x86)")

    def share(tag: str, path: Path, *options: str) -> list[str]:
        escaped = str(path).replace(",", ",,")  # QEMU's option syntax
        fsdev = ",".join(["local", f"id={tag}", f"path={escaped}", "security_model=none", *options])
        return ["-fsdev", fsdev, "-device", f"virtio-9p-pci,fsdev={tag},mount_tag={tag}"]

    return [
        qemu,
        *("-accel", "tcg", "-cpu", "max", "-machine", "q35"),
        *("-m", memory, "-smp", str(cpus)),
        *("-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio"),
        "-no-reboot",
        *("-kernel", str(files.vmlinux), "-initrd", str(files.initramfs)),
        *("-append", KERNEL_ARGS),
        *share("hostroot", Path("/"), "readonly=on", "multidevs=remap"),
        *share("job", job_dir, "multidevs=remap"),
    ]


class _Console:
    """Collects the guest console (QEMU's stdout) into memory and console.log, and notes when
    the guest's init reports that the job started."""

    def __init__(self, proc: subprocess.Popen[bytes], log: Path) -> None:
        self.lines: list[str] = []
        self.job_started = threading.Event()
        self._proc = proc
        self._log = log
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        with self._log.open("w") as log:
            for raw in self._proc.stdout:
                line = raw.decode(errors="replace").rstrip("\r\n")
                self.lines.append(line)
                log.write(line + "\n")
                log.flush()
                if line.startswith(MARKER + "job start"):
                    self.job_started.set()

    def finish(self) -> str:
        self._thread.join(5)
        return "\n".join(self.lines)

    def tail(self) -> str:
        return "\n".join(self.lines[-CONSOLE_TAIL:])


def run_in_vm(
    command: str,
    timeout: float,
    *,
    job_dir: Path | None = None,
    boot_timeout: float = 60.0,
    memory: str = "1G",
    cpus: int = 1,
) -> VmResult:
    """Boot the VM, run `command` (a /bin/sh script, as root, in /, stdin /dev/null) and return
    its exit code and combined stdout/stderr. Kernel modules load on demand, from the host's
    /lib/modules/<guest release>. The guest's files for the job live in `job_dir` (if None, a
    new temporary directory, left for inspection), mounted at GUEST_JOB_DIR in the guest.

    The VM is killed and VmError raised, quoting the console's tail, when init has not started
    the job within `boot_timeout` seconds or the VM still runs `timeout` seconds after launch;
    the guest itself kills the job a little earlier, so that its partial output survives.
    One vCPU: on this two-core host a second one made the emulated guest slower, not faster.
    """
    files = boot_files(find_kernel())
    job = job_dir if job_dir is not None else Path(tempfile.mkdtemp(prefix="flyos-vm-"))
    job.mkdir(parents=True, exist_ok=True)
    for stale in ("output", "exit-code", "kernel-release"):
        (job / stale).unlink(missing_ok=True)
    (job / "job.sh").write_text(command + "\n")
    (job / "timeout").write_text(f"{max(int(timeout - boot_timeout / 2), 10)}\n")

    start = time.monotonic()
    proc = subprocess.Popen(
        qemu_command(files, job, memory=memory, cpus=cpus),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    console = _Console(proc, job / "console.log")
    try:
        if not _wait_for_job_start(proc, console, boot_timeout):
            what = (
                f"the VM stopped (qemu exit {proc.returncode}) before its init started the job"
                if proc.poll() is not None
                else f"the VM did not start the job within {boot_timeout:.0f} s and was killed"
            )
            raise VmError(f"{what}; console tail:\n{console.tail()}")
        booted = time.monotonic() - start
        try:
            proc.wait(timeout=max(timeout - booted, 1))
        except subprocess.TimeoutExpired:
            raise VmError(
                f"the VM still ran after {timeout:.0f} s and was killed; "
                f"job output so far in {job / 'output'}; console tail:\n{console.tail()}"
            ) from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    total = time.monotonic() - start
    console_text = console.finish()
    exit_file = job / "exit-code"
    if not exit_file.exists():
        raise VmError(
            f"the VM ended (qemu exit {proc.returncode}) without the job's exit code; "
            f"console tail:\n{console.tail()}"
        )
    return VmResult(
        exit_code=int(exit_file.read_text()),
        output=(job / "output").read_text(errors="replace"),
        console=console_text,
        job_dir=job,
        kernel_release=(job / "kernel-release").read_text().strip(),
        boot_seconds=booted,
        total_seconds=total,
    )


def _wait_for_job_start(
    proc: subprocess.Popen[bytes], console: _Console, boot_timeout: float
) -> bool:
    deadline = time.monotonic() + boot_timeout
    while time.monotonic() < deadline:
        if console.job_started.wait(0.1):
            return True
        if proc.poll() is not None:
            return console.job_started.wait(1)
    return False
