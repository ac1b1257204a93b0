"""Peak memory of a child process, shared by the benchmark scripts."""

from pathlib import Path


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM) in MB; 0.0 once it is gone or off Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
