"""DSL statements -> edits, against the real compiled schema and a real Manager."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flyos_agent.datastore import tree as trees
from flyos_agent.datastore.edit import Operation, apply_edits
from flyos_agent.datastore.journal import Journal
from flyos_agent.errors import DataExists, DataMissing, InUse
from flyos_agent.northbound.dsl import DslError, parse_edits
from flyos_agent.runtime.manager import Manager
from flyos_agent.schema import Schema, load_schema

SCHEMA: Schema = load_schema()

ORIGINAL = """\
route add static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
route set static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
route delete static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
route sync {
    static { prefix 10.0.0.0/24; via 192.168.1.1; dev eth0; track yes }
    bgp { prefix 172.16.0.0/16; local_pref 200; community [ 65001:100 ] }
    ospf { prefix 192.168.10.0/24; area 0.0.0.0; type external }
    pbr { prefix 10.1.0.0/16; fwmark 100; priority 1000; iif eth1 }
    static { prefix 20.0.0.0/24; via 192.168.2.1; dev eth1; track yes }
}
"""
ROUTE = (("routing", None), ("static", ("10.0.0.0/24",)))
ENTRY = {"prefix": "10.0.0.0/24", "via": "192.168.1.1", "dev": "eth0", "track": True}


def apply(text: str, tree: Any = trees.EMPTY) -> dict[str, Any]:
    for statement in parse_edits(SCHEMA, text):
        result = apply_edits(SCHEMA, tree, statement.edits)
        assert not result.errors, result.errors
        tree = result.tree
    return trees.tree_to_plain(SCHEMA, tree)


def error_of(text: str) -> DslError:
    with pytest.raises(DslError) as caught:
        parse_edits(SCHEMA, text)
    return caught.value


def test_the_original_examples_verbatim_mean_add_set_delete_and_sync() -> None:
    add, replace, delete, sync = parse_edits(SCHEMA, ORIGINAL)
    assert [(s.module, s.verb, s.kind) for s in (add, replace, delete)] == [
        ("routing", "add", "static"),
        ("routing", "set", "static"),
        ("routing", "delete", "static"),
    ]
    assert [(e.operation, e.path, e.value) for e in add.edits] == [(Operation.CREATE, ROUTE, ENTRY)]
    assert [(e.operation, e.path) for e in replace.edits] == [(Operation.REPLACE, ROUTE)]
    assert [(e.operation, e.path, e.value) for e in delete.edits] == [
        (Operation.DELETE, ROUTE, None)
    ]
    (whole,) = sync.edits
    assert whole.operation is Operation.REPLACE and whole.path == (("routing", None),)
    assert apply(ORIGINAL)["flyos-routing:routing"] == {
        "static": [ENTRY, {**ENTRY, "prefix": "20.0.0.0/24", "via": "192.168.2.1", "dev": "eth1"}],
        "pbr": [{"priority": 1000, "prefix": "10.1.0.0/16", "fwmark": 100, "iif": "eth1"}],
        "bgp": [{"prefix": "172.16.0.0/16", "local-pref": 200, "community": ["65001:100"]}],
        "ospf": [{"prefix": "192.168.10.0/24", "area": "0.0.0.0", "type": "external"}],
    }


def test_every_module_nested_blocks_lists_and_ipv6() -> None:
    config = apply(
        """
        nic add interface { name eth0; type ethernet; mtu 9000; enabled no
            ipv4 { address { ip 192.0.2.1; prefix_length 24 } }
            ipv6 { address { ip 2001:DB8::1; prefix-length 64 } } }
        interface add { name br0; type bridge }     // default kind of nic/interface
        acl add acl { name web; rule { sequence 10; action accept; protocol tcp
                                        destination { port [ 80 443 ] } } }
        acl set global { input web }
        nat add rule { sequence 1; action masquerade; out-interface eth0 }
        vrf add vrf { name blue; table 10 }
        tunnel add gre { name gre1; local 192.0.2.1; remote 198.51.100.1 }
        system set { hostname r1; description "edge router; rack 4" }
        route add static { prefix 2001:db8:1::/48; via fe80::1; dev eth0 }
        """
    )
    eth0 = config["flyos-interfaces:interfaces"]["interface"][1]
    assert eth0["enabled"] is False and eth0["mtu"] == 9000
    assert eth0["ipv6"] == {"address": [{"ip": "2001:db8::1", "prefix-length": 64}]}
    rule = config["flyos-acl:acls"]["acl"][0]["rule"][0]
    assert rule["destination"] == {"port": ["80", "443"]}
    assert config["flyos-acl:acls"]["global"] == {"input": "web"}
    assert config["flyos-system:system"]["description"] == "edge router; rack 4"
    assert config["flyos-tunnel:tunnels"]["gre"][0]["remote"] == "198.51.100.1"
    assert config["flyos-routing:routing"]["static"][0]["via"] == "fe80::1"


def test_kindless_modules_merge_and_delete_by_name() -> None:
    config = apply("system set { hostname r1; contact noc }\nsystem delete { contact }")
    assert config["flyos-system:system"] == {"hostname": "r1"}


def test_sync_replaces_exactly_one_module() -> None:
    before = apply(
        "route add static { prefix 10.9.0.0/16; via 10.0.0.1 }; system set { hostname a }"
    )
    tree = trees.tree_from_plain(SCHEMA, before)
    after = apply("route sync { bgp { prefix 10.8.0.0/16 } }", tree)
    assert after["flyos-routing:routing"] == {"bgp": [{"prefix": "10.8.0.0/16"}]}
    assert after["flyos-system:system"] == {"hostname": "a"}


@pytest.mark.parametrize(
    ("text", "message", "suggestion", "path"),
    [
        (
            "route add static { prefix 10.0.0.0/24; vai 1.1.1.1 }",
            "unknown keyword 'vai'",
            "via",
            "/flyos-routing:routing/static",
        ),
        ("rout add static { }", "unknown module 'rout'", "route", None),
        ("route ad static { }", "unknown verb 'ad'", "add", None),
        (
            "route add statc { }",
            "unknown kind 'statc' of route",
            "static",
            "/flyos-routing:routing",
        ),
        (
            "acl add acl { name a; rule { sequence 1; action accept; destinaton { } } }",
            "unknown keyword 'destinaton' in acls acl rule",
            "destination",
            "/flyos-acl:acls/acl/rule",
        ),
    ],
)
def test_unknown_words_say_did_you_mean(
    text: str, message: str, suggestion: str, path: str | None
) -> None:
    error = error_of(text)
    assert message in error.message
    assert error.suggestion == suggestion
    assert f"did you mean '{suggestion}'?" in error.message
    assert error.path == path


@pytest.mark.parametrize(
    ("text", "column", "message", "path"),
    [
        (
            "route add static { prefix 10.0.0.0/33 }",
            27,
            "invalid value for 'prefix'",
            "/flyos-routing:routing/static/prefix",
        ),
        (
            "route add static { prefix 10.0.0.0/8; metric ten }",
            46,
            "'ten' is not an integer",
            "/flyos-routing:routing/static/metric",
        ),
        (
            "route add static { prefix 10.0.0.0/8; type bogus }",
            44,
            "is not one of: unicast",
            "/flyos-routing:routing/static/type",
        ),
        (
            "route add static { prefix 10.0.0.0/8; track maybe }",
            45,
            "not a boolean",
            "/flyos-routing:routing/static/track",
        ),
        (
            "route add static { via 1.1.1.1 }",
            1,
            "a static entry needs prefix",
            "/flyos-routing:routing/static",
        ),
        (
            "route sync { static { prefix 1.0.0.0/8 } static { prefix 1.0.0.1/8 } }",
            42,
            "duplicate static entry 1.0.0.0/8",
            "/flyos-routing:routing/static",
        ),
        (
            "route add static { prefix 1.0.0.0/8; prefix 2.0.0.0/8 }",
            38,
            "'prefix' is given twice",
            "/flyos-routing:routing/static/prefix",
        ),
        (
            "route add static { prefix 1.0.0.0/8; state { installed true } }",
            38,
            "state data",
            "/flyos-routing:routing/static/state",
        ),
        (
            "route add bgp { prefix 1.0.0.0/8; community [ a:1 ] }",
            47,
            "community",
            "/flyos-routing:routing/bgp/community",
        ),
    ],
)
def test_bad_values_carry_line_column_and_the_yang_path(
    text: str, column: int, message: str, path: str
) -> None:
    error = error_of(text)
    assert (error.line, error.column) == (1, column)
    assert message in error.message
    assert error.path == path


def test_shape_errors() -> None:
    assert "needs a block" in error_of("route add static").message
    assert "expected '{'" in error_of("route add static extra { }").message
    assert "expected a verb" in error_of('route "add" { }').message
    assert "takes one value" in error_of("route add static { prefix }").message
    assert "takes a block" in error_of("acl add acl { name a; rule 5 { } }").message
    assert "takes a value, not a block" in error_of("route add static { via { } }").message
    assert error_of("route add static {\n  prefix 1.0.0.0/8\n  metric x\n}").line == 3


# ---------------------------------------------------------------------- against a Manager


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[Manager]:
    mgr = Manager(SCHEMA, Journal(tmp_path / "flyos.db", SCHEMA))
    mgr.start()
    yield mgr
    mgr.close()


def edit(manager: Manager, session: Any, text: str) -> None:
    for statement in parse_edits(SCHEMA, text):
        manager.edit(session, "candidate", statement.edits)


def test_semantic_errors_come_from_the_manager_with_the_yang_path(manager: Manager) -> None:
    session = manager.open_session("ops", "test")
    setup = "nic add interface { name eth0; type ethernet }\n"
    edit(manager, session, setup + "route add static { prefix 10.0.0.0/24; via 10.0.0.1 }")
    with pytest.raises(DataExists) as exists:
        edit(manager, session, "route add static { prefix 10.0.0.0/24; via 10.0.0.2 }")
    assert exists.value.path == "/flyos-routing:routing/static[prefix='10.0.0.0/24']"
    with pytest.raises(DataMissing) as missing:
        edit(manager, session, "route delete static { prefix 10.1.0.0/24 }")
    assert missing.value.path == "/flyos-routing:routing/static[prefix='10.1.0.0/24']"
    edit(manager, session, "route set static { prefix 10.0.0.0/24; dev eth9 }")
    with pytest.raises(Exception) as dangling:
        manager.commit(session)
    assert "/flyos-routing:routing/static[prefix='10.0.0.0/24']/dev" in str(dangling.value)


def test_edit_while_another_session_holds_the_lock(manager: Manager) -> None:
    holder, other = manager.open_session("a", "test"), manager.open_session("b", "test")
    manager.lock(holder, "candidate")
    with pytest.raises(InUse, match="locked by session"):
        edit(manager, other, "system set { hostname r2 }")
