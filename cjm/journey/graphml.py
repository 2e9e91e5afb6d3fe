"""The journey graph as GraphML, for graph tools (Gephi, yEd, igraph, networkx, Cytoscape).

Written by hand rather than by networkx.write_graphml: that one infers each attribute's type from
the Python values and fails on None, so an attribute nobody filled in (an emotion, a volume)
would vanish or break the file. Here every attribute is declared once with its `attr.type`
(int, double, string) and a value is simply left out where it is unknown, which GraphML readers
take as missing (igraph: NaN, networkx: no key). Parallel transitions stay separate edges, each
with the transition's key as its id.
"""

import re
import xml.etree.ElementTree as ET

from .model import Journey

NS = "http://graphml.graphdrawing.org/xmlns"
SCHEMA = (
    "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd"
)
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# (domain, attribute name, GraphML type)
KEYS = (
    ("graph", "title", "string"),
    ("graph", "state", "string"),
    ("graph", "language", "string"),
    ("node", "name", "string"),
    ("node", "kind", "string"),
    ("node", "stage", "string"),
    ("node", "stage_name", "string"),
    ("node", "stage_index", "int"),
    ("node", "channel", "string"),
    ("node", "channel_name", "string"),
    ("node", "channel_kind", "string"),
    ("node", "emotion", "int"),
    ("edge", "key", "string"),
    ("edge", "kind", "string"),
    ("edge", "label", "string"),
    ("edge", "volume", "int"),
    ("edge", "conversion", "double"),
)


# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the file).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _value(value) -> str:
    """A GraphML data value (doubles in repr form: shortest exact text)."""
    return repr(value) if isinstance(value, float) else ILLEGAL.sub("", str(value))


def to_graphml(journey: Journey, conversions: dict[str, float | None] | None = None) -> bytes:
    """The journey as a GraphML document (UTF-8 bytes).

    `conversions` maps transition keys to their conversion (volume ÷ volume entering the source,
    from the analytics); leave it out and the edges carry no conversion.
    """
    ET.register_namespace("", NS)
    ET.register_namespace("xsi", XSI)
    root = ET.Element(f"{{{NS}}}graphml", {f"{{{XSI}}}schemaLocation": SCHEMA})
    ids = {}
    for i, (domain, name, kind) in enumerate(KEYS):
        ids[domain, name] = f"d{i}"
        ET.SubElement(
            root,
            f"{{{NS}}}key",
            {"id": f"d{i}", "for": domain, "attr.name": name, "attr.type": kind},
        )
    graph = ET.SubElement(root, f"{{{NS}}}graph", {"id": "journey", "edgedefault": "directed"})

    def data(parent, domain: str, values: dict) -> None:
        for d, name, _ in KEYS:
            if d == domain and values.get(name) is not None:
                ET.SubElement(parent, f"{{{NS}}}data", {"key": ids[d, name]}).text = _value(
                    values[name]
                )

    data(
        graph,
        "graph",
        {"title": journey.title, "state": journey.state, "language": journey.language},
    )
    stages = {s.key: (i, s) for i, s in enumerate(journey.stages)}
    channels = {c.key: c for c in journey.channels}
    for tp in journey.touchpoints:
        node = ET.SubElement(graph, f"{{{NS}}}node", {"id": tp.key})
        index, stage = stages.get(tp.stage, (None, None))
        channel = channels.get(tp.channel)
        data(
            node,
            "node",
            {
                "name": tp.name,
                "kind": tp.kind,
                "stage": tp.stage,
                "stage_name": stage.name if stage else None,
                "stage_index": index,
                "channel": tp.channel,
                "channel_name": channel.name if channel else None,
                "channel_kind": channel.kind if channel else None,
                "emotion": tp.emotion,
            },
        )
    conversions = conversions or {}
    for tr in journey.transitions:
        edge = ET.SubElement(
            graph, f"{{{NS}}}edge", {"id": tr.key, "source": tr.source, "target": tr.target}
        )
        data(
            edge,
            "edge",
            {
                "key": tr.key,
                "kind": tr.kind,
                "label": tr.label,
                "volume": tr.volume,
                "conversion": conversions.get(tr.key),
            },
        )
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
