"""Questions about the machine's processes that several bricks ask (is the owner of a lock or a
folder still running?), answered one way."""

from data_gcp.processes.core import pid_alive

__all__ = ["pid_alive"]
