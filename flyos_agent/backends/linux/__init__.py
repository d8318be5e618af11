"""The Linux kernel backend (netlink part): links, addresses, VRFs, tunnels, routes, rules."""

from flyos_agent.backends.linux.backend import LinuxBackend

__all__ = ["LinuxBackend"]
