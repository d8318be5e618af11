"""edit-config's <config> flattened into the Manager's list of Edits.

The data without an operation attribute becomes one Edit at the root with no
operation of its own, so the default-operation applies to it. Every element
that carries an `operation` attribute becomes its own Edit at its instance
path and is left out of its parent's edit; edits come in document order, an
element's own edit before the edits nested in it. The reading itself (one
pass, straight into tree values) is xmlreader's.
"""

from __future__ import annotations

from functools import cache

from lxml import etree

from flyos_agent.datastore.edit import Edit
from flyos_agent.northbound.netconf.xmldata import XmlCodec
from flyos_agent.northbound.netconf.xmlreader import ConfigReader
from flyos_agent.schema import Schema


@cache
def _reader(schema: Schema) -> ConfigReader:
    return ConfigReader(schema)


def flatten(codec: XmlCodec, config: etree._Element) -> list[Edit]:
    """The Edits that the children of `config` describe."""
    return _reader(codec.schema).edits(config)
