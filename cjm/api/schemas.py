"""Marshmallow schemas of the API: what a survey tool sends and gets back (and the OpenAPI doc).

Elements are referenced by their document keys, as in the cjm-studio/1 JSON document."""

from flask_smorest.error_handler import ErrorSchema
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf, Range

from ..evidence import RESPONDENT_MAX, VERBATIM_MAX
from ..journey.model import CES_RANGE, CSAT_RANGE, EVIDENCE_SOURCES, NPS_RANGE

MAX_BATCH = 1000
__all__ = ["ErrorSchema"]  # every error answer: code, status, message, errors (by location, field)


def storable(value: str) -> None:
    """Refuse text no database column can hold: NUL characters, lone UTF-16 surrogates."""
    if "\x00" in value:
        raise ValidationError("NUL characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValidationError("Not valid Unicode text.") from e


class Text(fields.String):
    """A string that can be stored as it is (the document says so with a pattern)."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"pattern": "^[^\\u0000]*$", **kwargs.get("metadata", {})}
        super().__init__(**kwargs)
        self.validators = [storable, *self.validators]


def key(element: str, nullable: bool = True) -> Text:
    """A reference to a map element by its key (null allowed in bodies, not in a query)."""
    return Text(
        allow_none=nullable,
        validate=Length(min=1, max=64),
        metadata={"description": f"Key of the map's {element}."},
    )


def score(scale: tuple[int, int], name: str) -> fields.Integer:
    """An optional score on one of the method's scales."""
    return fields.Integer(
        allow_none=True,
        strict=True,
        validate=Range(*scale),
        metadata={"description": f"{name}, {scale[0]}–{scale[1]}."},
    )


class ObservationInSchema(Schema):
    """One observation pushed by a survey tool."""

    class Meta:
        unknown = RAISE

    source = fields.String(
        required=True,
        validate=OneOf(EVIDENCE_SOURCES),
        metadata={"description": "Evidence source."},
    )
    touchpoint = key("touchpoint (its stage and channel are filled from it)")
    stage = key("stage (when there is no touchpoint)")
    channel = key("channel (when there is no touchpoint)")
    segment = key("customer group (segment)")
    date = fields.Date(
        allow_none=True,
        metadata={"description": "When observed (ISO 8601); not after tomorrow."},
    )
    respondent = Text(load_default="", validate=Length(max=RESPONDENT_MAX))
    csat = score(CSAT_RANGE, "CSAT")
    nps = score(NPS_RANGE, "NPS answer")
    ces = score(CES_RANGE, "CES")
    verbatim = Text(
        load_default="",
        validate=Length(max=VERBATIM_MAX),
        metadata={"description": "What the customer said (blank counts as none)."},
    )

    @validates_schema
    def tied_to_the_journey(self, data, **kwargs):
        """An observation needs a touchpoint, or at least a stage and/or a channel."""
        if not any(data.get(name) for name in PLACES):
            raise ValidationError(
                "Give a touchpoint, or a stage and/or a channel.", field_name="touchpoint"
            )

    @validates_schema
    def carries_a_measure(self, data, **kwargs):
        """An observation needs a score (CSAT, NPS, CES) or a verbatim."""
        if all(data.get(n) is None for n in SCORES) and not data.get("verbatim", "").strip():
            raise ValidationError(
                "Give at least one score (CSAT, NPS, CES) or a verbatim.", field_name="verbatim"
            )


PLACES, SCORES = ("touchpoint", "stage", "channel"), ("csat", "nps", "ces")
# The two rules above, in the document's terms (marshmallow cannot say them itself).
OBSERVATION_RULES = [
    {"anyOf": [{"properties": {n: {"type": "string"}}, "required": [n]} for n in PLACES]},
    {
        "anyOf": [
            *({"properties": {n: {"type": "integer"}}, "required": [n]} for n in SCORES),
            {"properties": {"verbatim": {"pattern": "\\S"}}, "required": ["verbatim"]},
        ]
    },
]


class ObservationBatchSchema(Schema):
    """Many observations at once; all are stored or none."""

    class Meta:
        unknown = RAISE

    observations = fields.List(
        fields.Nested(ObservationInSchema),
        required=True,
        validate=Length(min=1, max=MAX_BATCH),
        metadata={"description": f"At most {MAX_BATCH}; more answers 413."},
    )


class ObservationSchema(Schema):
    """A stored observation."""

    id = fields.Integer(required=True)
    source = fields.String(required=True, validate=OneOf(EVIDENCE_SOURCES))
    touchpoint = fields.String(allow_none=True, required=True)
    stage = fields.String(allow_none=True, required=True)
    channel = fields.String(allow_none=True, required=True)
    segment = fields.String(allow_none=True, required=True)
    date = fields.Date(allow_none=True, required=True)
    respondent = fields.String(required=True)
    csat = fields.Integer(allow_none=True, required=True)
    nps = fields.Integer(allow_none=True, required=True)
    ces = fields.Integer(allow_none=True, required=True)
    verbatim = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)


class ObservationsCreatedSchema(Schema):
    """The answer to a POST: how many were stored, and the stored observations."""

    created = fields.Integer(required=True)
    observations = fields.List(fields.Nested(ObservationSchema), required=True)


class ObservationQuerySchema(Schema):
    """Filters and page of the observation list."""

    source = fields.String(validate=OneOf(EVIDENCE_SOURCES))
    touchpoint = key("touchpoint", nullable=False)
    stage = key("stage", nullable=False)
    channel = key("channel", nullable=False)
    segment = key("segment", nullable=False)
    date_from = fields.Date(metadata={"description": "Observed on or after (ISO 8601)."})
    date_to = fields.Date(metadata={"description": "Observed on or before (ISO 8601)."})
    page = fields.Integer(load_default=1, validate=Range(1, 1_000_000))
    per_page = fields.Integer(load_default=100, validate=Range(1, 500))


class ObservationPageSchema(Schema):
    """One page of observations, oldest first."""

    observations = fields.List(fields.Nested(ObservationSchema), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class StageSchema(Schema):
    """A stage (column) of the journey."""

    key = fields.String(required=True)
    name = fields.String(required=True)


class ChannelSchema(Schema):
    """A channel where the customer meets the company."""

    key = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)


class SegmentSchema(Schema):
    """A customer group evidence is tied to."""

    key = fields.String(required=True)
    name = fields.String(required=True)


class TouchpointSchema(Schema):
    """A touchpoint, with the keys of its stage and channel."""

    key = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    stage = fields.String(required=True)
    channel = fields.String(required=True)
