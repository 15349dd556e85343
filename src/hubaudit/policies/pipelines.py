"""Policies on pipelines: closed stages, probabilities, and their order.

Stage ``metadata`` holds strings as HubSpot sends them (``"isClosed": "true"``, ``"probability":
"0.4"``). Archived stages are out of use and left out. By default only deal pipelines are
judged: the other objects' stages have no probability.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from hubaudit.model.changes import Severity
from hubaudit.model.findings import Breach
from hubaudit.model.items import Kind
from hubaudit.model.view import PortalView, ViewItem
from hubaudit.policies.base import Policy, Rules, object_type_of, wanted

DEFAULT_OBJECT_TYPES = ("deals",)


def _pipelines(view: PortalView, rules: Rules) -> Iterator[ViewItem]:
    only = rules.object_types(DEFAULT_OBJECT_TYPES)
    for item in sorted(view.of_kind(Kind.PIPELINE), key=lambda i: i.key):
        object_type = object_type_of(item.key)
        if (
            wanted(object_type, only)
            and view.read(f"pipeline:{object_type}")
            and item.canonical.get("archived") is not True
        ):
            yield item


def _stages(pipeline: ViewItem) -> list[tuple[str, Mapping[str, Any]]]:
    stages = pipeline.canonical.get("stages")
    if not isinstance(stages, Mapping):
        return []
    live = [
        (str(stage_id), stage)
        for stage_id, stage in stages.items()
        if isinstance(stage, Mapping) and stage.get("archived") is not True
    ]
    return sorted(live, key=lambda pair: (_number(pair[1].get("displayOrder")) or 0, pair[0]))


def _metadata(stage: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = stage.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _closed(stage: Mapping[str, Any]) -> bool:
    return str(_metadata(stage).get("isClosed", "")).lower() == "true"


def probability(stage: Mapping[str, Any]) -> float | None:
    value = _number(_metadata(stage).get("probability"))
    return value if value is not None and 0.0 <= value <= 1.0 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _label(stage_id: str, stage: Mapping[str, Any]) -> str:
    label = stage.get("label")
    return f"{label!r}" if isinstance(label, str) else stage_id


def check_closed_stages(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for pipeline in _pipelines(view, rules):
        closed = [(i, s) for i, s in _stages(pipeline) if _closed(s)]
        won = [i for i, s in closed if probability(s) == 1.0]
        lost = [i for i, s in closed if probability(s) == 0.0]
        if len(won) == 1 and len(lost) == 1 and len(closed) == 2:
            continue
        breaches.append(
            rules.breach(
                pipeline.key,
                pipeline.key,
                f"{len(closed)} closed stages: {len(won)} won (probability 1), "
                f"{len(lost)} lost (probability 0); expected exactly one of each",
                [f"pipeline:{object_type_of(pipeline.key)}"],
                {"closed": [i for i, _s in closed], "won": won, "lost": lost},
                pipeline.label,
            )
        )
    return breaches


def check_probability_order(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for pipeline in _pipelines(view, rules):
        inversions = []
        highest: tuple[str, Mapping[str, Any], float] | None = None
        for stage_id, stage in _stages(pipeline):
            chance = probability(stage)
            if _closed(stage) or chance is None:
                continue
            if highest is not None and chance < highest[2]:
                inversions.append(
                    f"{_label(stage_id, stage)} ({chance:g}) comes after "
                    f"{_label(highest[0], highest[1])} ({highest[2]:g})"
                )
            if highest is None or chance >= highest[2]:
                highest = (stage_id, stage, chance)
        if inversions:
            breaches.append(
                rules.breach(
                    pipeline.key,
                    pipeline.key,
                    "open stages' probabilities do not rise with their order: "
                    + "; ".join(inversions),
                    [f"pipeline:{object_type_of(pipeline.key)}"],
                    {"inversions": inversions},
                    pipeline.label,
                )
            )
    return breaches


def check_open_probability(view: PortalView, rules: Rules) -> list[Breach]:
    breaches = []
    for pipeline in _pipelines(view, rules):
        for stage_id, stage in _stages(pipeline):
            if not _closed(stage) and probability(stage) is None:
                raw = _metadata(stage).get("probability")
                said = "none" if raw in (None, "") else repr(raw)
                breaches.append(
                    rules.breach(
                        f"{pipeline.key}/{stage_id}",
                        pipeline.key,
                        f"open stage {_label(stage_id, stage)} has no probability "
                        f"from 0 to 1 ({said})",
                        [f"pipeline:{object_type_of(pipeline.key)}"],
                        {"stage": stage_id},
                        pipeline.label,
                    )
                )
    return breaches


POLICIES = (
    Policy(
        "pipeline-closed-stages",
        Severity.HIGH,
        "win rates and forecasts need one way to win and one way to lose a deal",
        "each deal pipeline has exactly one won and one lost closed stage",
        check_closed_stages,
    ),
    Policy(
        "pipeline-probability-order",
        Severity.MEDIUM,
        "a weighted forecast is wrong when a later stage is worth less than an earlier one",
        "open stages' probabilities rise with their display order",
        check_probability_order,
    ),
    Policy(
        "pipeline-open-probability",
        Severity.MEDIUM,
        "an open stage without a probability drops its deals out of the weighted forecast",
        "every open deal stage has a probability",
        check_open_probability,
    ),
)
