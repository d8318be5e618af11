"""NETCONF over SSH (RFC 6241/6242): a thin translator from XML RPCs to the Manager."""

from flyos_agent.northbound.netconf.server import NetconfServer, load_host_key
from flyos_agent.northbound.netconf.session import Options

__all__ = ["NetconfServer", "Options", "load_host_key"]
