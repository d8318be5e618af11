"""The local IPC channel: newline-delimited JSON over a Unix socket (docs/ipc.md)."""

from flyos_agent.northbound.ipc.server import IpcServer, SocketInUse, bind_socket

__all__ = ["IpcServer", "SocketInUse", "bind_socket"]
