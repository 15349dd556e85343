"""``[[severity]]``: the config's own severity rules.

A plain (standard library) dataclass that pydantic validates like the schema's other tables
(its settings in ``__pydantic_config__``, its checks as :class:`~hubaudit.config.checks.Check`
markers), so that the severity rules (:mod:`hubaudit.policies.severity`), which every history
read imports, import no pydantic. No code builds one by hand: the loader validates them.
"""

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from hubaudit.config import checks
from hubaudit.model.changes import ChangeOp, Severity
from hubaudit.model.items import Kind


def _field_pattern(value: Any) -> str:
    if not isinstance(value, str):
        checks.fail('must be a field path pattern such as "options.*.label"')
    return value


@dataclass(frozen=True)
class SeverityOverride:
    """A ``[[severity]]`` rule from the config: it wins over the built-in severity table."""

    __pydantic_config__: ClassVar[dict[str, Any]] = checks.TABLE_SETTINGS

    severity: Annotated[Severity, checks.choice(Severity)]
    kind: Annotated[Kind | None, checks.choice(Kind)] = None
    key: Annotated[str, checks.TEXT] = "*"
    field: Annotated[str, checks.Check(_field_pattern)] = "**"
    op: Annotated[ChangeOp | None, checks.choice(ChangeOp)] = None
