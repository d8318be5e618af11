"""edit-config and the other configuration operations, in both framings, with exact errors."""

from __future__ import annotations

import json

from lxml import etree
from ncclient import manager
from nchelpers import (
    BASE,
    NS,
    config,
    data,
    interface,
    route,
    rpc_error,
    texts,
    xml,
)

OP = f'xmlns:nc="{BASE}"'


def n(framing: str) -> int:
    """A digit per framing, so the two runs of a test use different entries."""
    return 1 if framing == "1.0" else 2


def routes(nc: manager.Manager, source: str = "running") -> dict[str, str]:
    """prefix -> via of the static routes in `source`."""
    reply = data(nc.get_config(source, filter=("subtree", f'<routing xmlns="{NS["rt"]}"/>')))
    prefixes = texts(reply, "//rt:static/rt:prefix")
    return {p: "".join(texts(reply, f"//rt:static[rt:prefix='{p}']/rt:via")) for p in prefixes}


def commit_route(nc: manager.Manager, prefix: str, via: str = "192.0.2.1") -> None:
    nc.edit_config(target="candidate", config=config(route(prefix, via)))
    nc.commit()


def test_merge_into_candidate_then_commit(nc: manager.Manager, framing: str) -> None:
    prefix = f"10.{n(framing)}1.0.0/24"
    nc.edit_config(target="candidate", config=config(route(prefix)))
    assert prefix in routes(nc, "candidate")
    assert prefix not in routes(nc)
    nc.commit()
    assert routes(nc)[prefix] == "192.0.2.1"


def test_create_existing_is_data_exists(nc: manager.Manager, framing: str) -> None:
    prefix = f"10.{n(framing)}2.0.0/24"
    commit_route(nc, prefix)
    again = rpc_error(
        lambda: nc.edit_config(
            target="candidate",
            config=config(route(prefix, attrs=f' {OP} nc:operation="create"')),
        )
    )
    assert again.tag == "data-exists"
    assert again.path is not None and f"frt:static[frt:prefix='{prefix}']" in again.path
    nc.discard_changes()


def test_delete_missing_is_data_missing_and_remove_is_quiet(
    nc: manager.Manager, framing: str
) -> None:
    prefix = f"10.{n(framing)}3.0.0/24"
    missing = rpc_error(
        lambda: nc.edit_config(
            target="candidate", config=config(route(prefix, attrs=f' {OP} nc:operation="delete"'))
        )
    )
    assert missing.tag == "data-missing"
    nc.discard_changes()
    nc.edit_config(
        target="candidate", config=config(route(prefix, attrs=f' {OP} nc:operation="remove"'))
    )
    commit_route(nc, prefix)
    nc.edit_config(
        target="candidate", config=config(route(prefix, attrs=f' {OP} nc:operation="delete"'))
    )
    nc.commit()
    assert prefix not in routes(nc)


def test_replace_and_nested_operations(nc: manager.Manager, framing: str) -> None:
    name = f"rp{n(framing)}"
    nc.edit_config(
        target="candidate",
        config=config(interface(name, extra="<mtu>1400</mtu><description>x</description>")),
    )
    nc.commit()
    replaced = (
        f'<interfaces xmlns="{NS["if"]}" {OP}><interface nc:operation="replace">'
        f"<name>{name}</name><type>ethernet</type><mtu>1500</mtu></interface></interfaces>"
    )
    nc.edit_config(target="candidate", config=config(replaced))
    nc.commit()
    got = data(
        nc.get_config("running", filter=("xpath", f"/if:interfaces/if:interface[if:name='{name}']"))
    )
    assert texts(got, "//if:mtu") == ["1500"]
    assert texts(got, "//if:description") == []
    nested = (
        f'<interfaces xmlns="{NS["if"]}" {OP}><interface><name>{name}</name>'
        '<mtu nc:operation="delete"/><description nc:operation="create">y</description>'
        "</interface></interfaces>"
    )
    nc.edit_config(target="candidate", config=config(nested))
    nc.commit()
    got = data(
        nc.get_config("running", filter=("xpath", f"/if:interfaces/if:interface[if:name='{name}']"))
    )
    assert texts(got, "//if:mtu") == []
    assert texts(got, "//if:description") == ["y"]


def test_default_operation_none_and_replace(nc: manager.Manager, framing: str) -> None:
    keep = f"10.{n(framing)}4.0.0/24"
    commit_route(nc, keep)
    nc.edit_config(
        target="candidate",
        config=config(route(f"10.{n(framing)}5.0.0/24")),
        default_operation="none",
    )
    assert f"10.{n(framing)}5.0.0/24" not in routes(nc, "candidate")
    body = "".join(etree.tostring(child).decode() for child in data(nc.get_config("running")))
    nc.edit_config(target="candidate", config=config(body), default_operation="replace")
    assert routes(nc, "candidate") == routes(nc)
    nc.discard_changes()


def test_invalid_value_names_the_path(nc: manager.Manager) -> None:
    bad = rpc_error(
        lambda: nc.edit_config(
            target="candidate", config=config(route("10.66.0.0/24", via="not-an-ip"))
        )
    )
    assert bad.tag == "invalid-value"
    assert bad.type == "application"
    assert bad.path == "/frt:routing/frt:static[frt:prefix='10.66.0.0/24']/frt:via"
    nc.discard_changes()


def test_test_only_validates_without_applying(nc: manager.Manager) -> None:
    nc.edit_config(target="running", config=config(route("10.67.0.0/24")), test_option="test-only")
    assert "10.67.0.0/24" not in routes(nc)
    dangling = route("10.68.0.0/24").replace("</via>", "</via><dev>nosuchdev</dev>")
    failed = rpc_error(
        lambda: nc.edit_config(target="running", config=config(dangling), test_option="test-only")
    )
    assert failed.tag in ("invalid-value", "data-missing")
    assert failed.path is not None


def test_writable_running_is_one_transaction(nc: manager.Manager, framing: str) -> None:
    prefix = f"10.{n(framing)}6.0.0/24"
    nc.edit_config(target="running", config=config(route(prefix)))
    assert prefix in routes(nc)
    assert prefix in routes(nc, "candidate")


def test_continue_on_error_applies_the_rest(nc: manager.Manager, framing: str) -> None:
    existing = f"10.{n(framing)}8.0.0/24"
    fresh = f"10.{n(framing)}9.0.0/24"
    commit_route(nc, existing)
    body = (
        f'<routing xmlns="{NS["rt"]}" {OP}>'
        f'<static nc:operation="create"><prefix>{existing}</prefix><via>192.0.2.1</via></static>'
        f'<static nc:operation="create"><prefix>{fresh}</prefix><via>192.0.2.1</via></static>'
        "</routing>"
    )
    failed = rpc_error(
        lambda: nc.edit_config(
            target="candidate", config=config(body), error_option="continue-on-error"
        )
    )
    assert failed.tag == "data-exists"
    assert fresh in routes(nc, "candidate")
    nc.discard_changes()
    rolled = rpc_error(
        lambda: nc.edit_config(
            target="running", config=config(body), error_option="rollback-on-error"
        )
    )
    assert rolled.tag == "data-exists"
    assert fresh not in routes(nc)


def test_copy_config_startup_inline_and_delete(nc: manager.Manager) -> None:
    commit_route(nc, "10.70.0.0/24")
    nc.copy_config(source="running", target="startup")
    assert "10.70.0.0/24" in routes(nc, "startup")
    nc.delete_config("startup")
    assert routes(nc, "startup") == {}
    inline = xml(f'<source xmlns="{BASE}">{config(route("10.71.0.0/24"))}</source>')
    nc.copy_config(source=inline, target="candidate")
    assert routes(nc, "candidate") == {"10.71.0.0/24": "192.0.2.1"}
    nc.discard_changes()
    same = rpc_error(lambda: nc.copy_config(source="running", target="running"))
    assert same.tag == "invalid-value"


def test_validate_datastore_and_inline_config(nc: manager.Manager) -> None:
    nc.validate("candidate")
    nc.validate("running")
    nc.dispatch(
        xml(f'<validate xmlns="{BASE}"><source>{config(interface("val0"))}</source></validate>')
    )
    untyped = interface("v1").replace("<type>ethernet</type>", "")
    broken = rpc_error(
        lambda: nc.dispatch(
            xml(f'<validate xmlns="{BASE}"><source>{config(untyped)}</source></validate>')
        )
    )
    assert broken.tag in ("invalid-value", "data-missing", "missing-element")


def test_rollback_compare_history_and_dry_run(nc: manager.Manager) -> None:
    commit_route(nc, "10.72.0.0/24")
    history = data_of(nc.dispatch(xml(f'<history xmlns="{NS["ops"]}"><limit>2</limit></history>')))
    assert len(history.xpath("ops:commit", namespaces=NS)) == 2
    assert texts(history, "ops:commit/ops:rollback") == ["0", "1"]
    assert texts(history, "ops:commit/ops:channel")[0] == "netconf"
    nc.dispatch(xml(f'<rollback xmlns="{NS["ops"]}"><index>1</index></rollback>'))
    diff = data_of(nc.dispatch(xml(f'<compare xmlns="{NS["ops"]}"/>')))
    assert texts(diff, "ops:change/ops:operation") == ["delete"]
    assert "10.72.0.0/24" in texts(diff, "ops:change/ops:target")[0]
    dry_run = f'<commit xmlns="{BASE}"><dry-run xmlns="{NS["fnc"]}"/></commit>'
    dry = data_of(nc.dispatch(xml(dry_run)))
    assert texts(dry, "fnc:change/fnc:operation") == ["delete"]
    assert "10.72.0.0/24" in routes(nc)
    nc.commit()
    assert "10.72.0.0/24" not in routes(nc)


def test_identical_commit_changes_nothing(nc: manager.Manager) -> None:
    commit_route(nc, "10.73.0.0/24")
    before = data_of(nc.dispatch(xml(f'<history xmlns="{NS["ops"]}"><limit>1</limit></history>')))
    commit_route(nc, "10.73.0.0/24")
    after = data_of(nc.dispatch(xml(f'<history xmlns="{NS["ops"]}"><limit>1</limit></history>')))
    assert texts(before, "ops:commit/ops:commit-id") == texts(after, "ops:commit/ops:commit-id")


def data_of(reply: object) -> etree._Element:
    """The <rpc-reply> element of a dispatched RPC."""
    return xml(str(reply).split("?>", 1)[-1])


def test_reconcile_rpc_reports_drift_as_json(nc: manager.Manager) -> None:
    check = f'<reconcile xmlns="{NS["ops"]}"><check/></reconcile>'
    report = data_of(nc.dispatch(xml(check)))
    assert json.loads(texts(report, "ops:report")[0]) == {}  # backend none owns no objects
    converge = data_of(nc.dispatch(xml(f'<reconcile xmlns="{NS["ops"]}"/>')))
    assert json.loads(texts(converge, "ops:report")[0]) == {}
