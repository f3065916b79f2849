"""Routing rules: a validated YAML file, first-match-wins evaluation, and explanations.

Semantics (docs/ROUTING.md): rules are tried in file order and the FIRST rule whose
conditions all hold decides; later rules are not tried. Within a rule every condition
given must hold (AND); a list inside one condition matches when ANY item matches (OR).
A rule either opens a ticket (``then:``) or stops routing with no ticket (``skip: true``).
A document no rule matches gets no ticket.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from listening.errors import RoutingError
from listening.store.models import SOURCE_KINDS
from listening.taxonomy import load_topics

DEFAULT_RULES = Path(__file__).with_name("default_rules.yaml")
TOPICS: tuple[str, ...] = (
    "delivery",
    "stock",
    "customer_service",
    "price",
    "product",
    "returns",
    "payment",
    "website",
)
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
INTENTS: tuple[str, ...] = ("complaint", "question", "praise", "suggestion", "other")
URGENCY_FLAGS: tuple[str, ...] = (
    "legal_threat",
    "churn",
    "safety",
    "public_escalation",
    "repeated_contact",
)
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3", "P4")
HINT = "see docs/ROUTING.md for the rules format"

Sentiment = Literal["negative", "neutral", "positive"]
Intent = Literal["complaint", "question", "praise", "suggestion", "other"]
Urgency = Literal["legal_threat", "churn", "safety", "public_escalation", "repeated_contact"]
Topic = Literal[
    "delivery", "stock", "customer_service", "price", "product", "returns", "payment", "website"
]
Gate = Literal["off_topic", "other_language", "too_old"]
SourceKind = Literal[
    "review_site", "forum", "blog", "feed", "survey", "email",
    "reddit", "youtube", "mastodon", "bluesky", "x", "facebook", "instagram",
    "appstore", "googleplay", "trustpilot",
]
assert set(SourceKind.__args__) == set(SOURCE_KINDS)  # type: ignore[attr-defined]

_LIST_FIELDS = (
    "topics",
    "sentiment",
    "intent",
    "urgency",
    "source_kind",
    "brand_name",
    "language",
    "keywords",
)


def fold(text: str) -> str:
    """Lower case without accents: ``Livré`` and ``livre`` compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class Conditions(BaseModel):
    """``when:`` of a rule. Omitted conditions are not checked."""

    model_config = ConfigDict(extra="forbid")

    topics: list[str] | None = None  # ids of the active taxonomy (checked by parse_rules)
    topic_sentiment: dict[str, list[Sentiment]] | None = None
    sentiment: list[Sentiment] | None = None
    intent: list[Intent] | None = None
    urgency: list[Urgency] | None = None
    actionable: bool | None = None
    source_kind: list[SourceKind] | None = None
    brand: Literal["own", "competitor", "none", "any"] | None = None
    brand_name: list[str] | None = None
    language: list[str] | None = None
    rating_min: float | None = Field(default=None, ge=0, le=1)
    rating_max: float | None = Field(default=None, ge=0, le=1)
    keywords: list[str] | None = None
    regex: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _scalars_to_lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for name in _LIST_FIELDS:
                if isinstance(data.get(name), str):
                    data[name] = [data[name]]
            ts = data.get("topic_sentiment")
            if isinstance(ts, dict):
                data["topic_sentiment"] = {
                    k: [v] if isinstance(v, str) else v for k, v in ts.items()
                }
        return data

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value


class Action(BaseModel):
    """``then:`` of a rule: the ticket to open."""

    model_config = ConfigDict(extra="forbid")

    team: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    priority: Literal["P1", "P2", "P3", "P4"] = "P3"
    sla_hours: float | None = Field(default=None, gt=0)
    tags: list[str] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=list)


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    when: Conditions = Field(default_factory=Conditions)
    skip: bool = False
    then: Action | None = None
    allow: list[Gate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_outcome(self) -> Rule:
        if self.skip and self.then is not None:
            raise ValueError("a rule has either 'skip: true' or 'then:', not both")
        if not self.skip and self.then is None:
            raise ValueError("a rule needs 'then:' (team, priority...) or 'skip: true'")
        if self.skip and self.allow:
            raise ValueError(
                "'allow:' lets a ticket through a relevance gate; a 'skip' rule opens none"
            )
        return self


class RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> RulesFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"two rules are named {rule.name!r}; names must be unique")
            seen.add(rule.name)
        return self


@dataclass
class RuleSet:
    rules: list[Rule]
    source: str

    def check_targets(self, known: set[str]) -> None:
        """Fail when a rule notifies a target the settings do not define."""
        for rule in self.rules:
            for name in rule.then.notify if rule.then else []:
                if name not in known:
                    raise RoutingError(
                        f"{self.source}: rule {rule.name!r} notifies unknown target {name!r}; "
                        f"configured targets: {', '.join(sorted(known)) or 'none'}",
                        "define it in LISTENING_ROUTING__TARGETS or remove it from 'notify'",
                    )


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at the pydantic error location ``loc``."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
            if child is None:
                break
            node = child
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def parse_rules(text: str, source: str = "<rules>", topics: Sequence[str] | None = None) -> RuleSet:
    """Validate rules YAML; errors name the line, the field and the valid options.

    ``topics``: the topic ids rules may name (the active taxonomy's, default: the
    shipped journey taxonomy's).
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RoutingError(f"{source}:{where} not valid YAML ({problem})", HINT) from None
    if not isinstance(data, dict):
        raise RoutingError(f"{source}: expected a mapping with a 'rules:' list", HINT)
    try:
        parsed = RulesFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        line = _line_of(node, loc)
        where = f" line {line}:" if line else ""
        path = ".".join(str(p) for p in loc) or "(top)"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}; {_valid_keys(loc)}"
        raise RoutingError(f"{source}:{where} {path}: {msg}", HINT) from None
    _check_topics(
        parsed.rules, node, source, tuple(topics) if topics is not None else load_topics().ids
    )
    return RuleSet(rules=parsed.rules, source=source)


def _check_topics(
    rules: list[Rule], node: yaml.Node | None, source: str, known: tuple[str, ...]
) -> None:
    for i, rule in enumerate(rules):
        named = [("topics", t) for t in rule.when.topics or []]
        named += [("topic_sentiment", t) for t in rule.when.topic_sentiment or {}]
        for key, topic in named:
            if topic not in known:
                line = _line_of(node, ("rules", i, "when", key))
                where = f" line {line}:" if line else ""
                raise RoutingError(
                    f"{source}:{where} rules.{i}.when.{key}: unknown topic {topic!r}; "
                    f"valid topics: {', '.join(known)}",
                    f"use a topic id of the active taxonomy (LISTENING_NLP__TAXONOMY); {HINT}",
                )


def _valid_keys(loc: tuple[Any, ...]) -> str:
    parent = [p for p in loc[:-1] if isinstance(p, str)]
    model: type[BaseModel] = RulesFile
    if parent and parent[-1] == "when":
        model = Conditions
    elif parent and parent[-1] == "then":
        model = Action
    elif parent and parent[-1] == "rules":
        model = Rule
    return "valid keys: " + ", ".join(model.model_fields)


def load_rules(path: str | Path | None = None, topics: Sequence[str] | None = None) -> RuleSet:
    """Rules from ``path``, or the shipped defaults when ``path`` is empty (``topics``: see parse_rules)."""
    file = Path(path) if path else DEFAULT_RULES
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RoutingError(
            f"no such rules file: {file}", "give the path of a rules YAML file"
        ) from None
    except UnicodeDecodeError:
        raise RoutingError(f"{file}: not UTF-8 text", "save the rules file as UTF-8") from None
    return parse_rules(text, str(file), topics)


@dataclass
class RoutingInput:
    """What rules look at: a document, its source and brand, and its analysis."""

    text: str
    title: str | None = None
    language: str | None = None
    rating: float | None = None
    source_kind: str | None = None
    brand_kind: str = "none"  # own | competitor | none
    brand_name: str | None = None
    sentiment: str = "neutral"
    topics: list[dict[str, Any]] = field(default_factory=list)
    intent: str = "other"
    urgency: list[str] = field(default_factory=list)
    actionable: bool = False

    def topic_sentiments(self) -> dict[str, str]:
        return {str(t.get("topic")): str(t.get("sentiment", "neutral")) for t in self.topics}


@dataclass
class Check:
    condition: str
    passed: bool
    detail: str


@dataclass
class RuleTrace:
    rule: str
    matched: bool
    checks: list[Check]


@dataclass
class Evaluation:
    rule: Rule | None
    trace: list[RuleTrace]

    def to_dict(self) -> dict[str, Any]:
        return {
            "matched_rule": self.rule.name if self.rule else None,
            "skip": bool(self.rule and self.rule.skip),
            "action": self.rule.then.model_dump() if self.rule and self.rule.then else None,
            "trace": [
                {
                    "rule": t.rule,
                    "matched": t.matched,
                    "checks": [c.__dict__ for c in t.checks],
                }
                for t in self.trace
            ],
        }


def _any(name: str, wanted: list[str], actual: list[str] | str | None) -> Check:
    have = [actual] if isinstance(actual, str) else list(actual or [])
    hits = [w for w in wanted if w in have]
    return Check(name, bool(hits), f"wanted any of {wanted}, got {have or 'nothing'}")


def check_rule(rule: Rule, inp: RoutingInput) -> list[Check]:
    """Evaluate every condition of ``rule`` (no short-circuit, to explain all of them)."""
    c = rule.when
    checks: list[Check] = []
    topic_map = inp.topic_sentiments()
    if c.topics is not None:
        checks.append(_any("topics", list(c.topics), sorted(topic_map)))
    if c.topic_sentiment is not None:
        for topic, wanted in c.topic_sentiment.items():
            got = topic_map.get(topic)
            checks.append(
                Check(
                    f"topic_sentiment.{topic}",
                    got in wanted,
                    f"wanted {topic} {wanted}, got {got or 'topic absent'}",
                )
            )
    if c.sentiment is not None:
        checks.append(_any("sentiment", list(c.sentiment), inp.sentiment))
    if c.intent is not None:
        checks.append(_any("intent", list(c.intent), inp.intent))
    if c.urgency is not None:
        checks.append(_any("urgency", list(c.urgency), inp.urgency))
    if c.actionable is not None:
        checks.append(
            Check(
                "actionable",
                inp.actionable == c.actionable,
                f"wanted {c.actionable}, got {inp.actionable}",
            )
        )
    if c.source_kind is not None:
        checks.append(_any("source_kind", list(c.source_kind), inp.source_kind))
    if c.brand is not None:
        ok = c.brand == "any" or c.brand == inp.brand_kind
        checks.append(Check("brand", ok, f"wanted {c.brand}, got {inp.brand_kind}"))
    if c.brand_name is not None:
        names = [fold(n) for n in c.brand_name]
        got = fold(inp.brand_name or "")
        checks.append(
            Check("brand_name", got in names, f"wanted any of {c.brand_name}, got {inp.brand_name}")
        )
    if c.language is not None:
        checks.append(_any("language", list(c.language), inp.language))
    if c.rating_min is not None or c.rating_max is not None:
        lo = c.rating_min if c.rating_min is not None else 0.0
        hi = c.rating_max if c.rating_max is not None else 1.0
        ok = inp.rating is not None and lo <= inp.rating <= hi
        checks.append(Check("rating", ok, f"wanted {lo}..{hi}, got {inp.rating}"))
    haystack = f"{inp.title or ''}\n{inp.text}"
    if c.keywords is not None:
        folded = fold(haystack)
        hits = [k for k in c.keywords if re.search(rf"(?<!\w){re.escape(fold(k))}(?!\w)", folded)]
        checks.append(
            Check("keywords", bool(hits), f"wanted any of {c.keywords}, found {hits or 'none'}")
        )
    if c.regex is not None:
        found = re.search(c.regex, haystack, re.IGNORECASE)
        detail = f"/{c.regex}/ " + (f"matched {found.group(0)!r}" if found else "did not match")
        checks.append(Check("regex", found is not None, detail))
    return checks


def evaluate(ruleset: RuleSet, inp: RoutingInput) -> Evaluation:
    """First rule whose conditions all hold (or None), with the trace of the rules tried."""
    trace: list[RuleTrace] = []
    for rule in ruleset.rules:
        checks = check_rule(rule, inp)
        matched = all(ch.passed for ch in checks)
        trace.append(RuleTrace(rule.name, matched, checks))
        if matched:
            return Evaluation(rule, trace)
    return Evaluation(None, trace)


def input_from_analysis(
    text: str,
    analysis: dict[str, Any],
    *,
    title: str | None = None,
    rating: float | None = None,
    source_kind: str | None = None,
    brand_kind: str = "none",
    brand_name: str | None = None,
) -> RoutingInput:
    """A :class:`RoutingInput` from an analysis dict (the columns of ``analyses``)."""
    return RoutingInput(
        text=text,
        title=title,
        language=analysis.get("language"),
        rating=rating,
        source_kind=source_kind,
        brand_kind=brand_kind,
        brand_name=brand_name,
        sentiment=str(analysis.get("sentiment") or "neutral"),
        topics=list(analysis.get("topics") or []),
        intent=str(analysis.get("intent") or "other"),
        urgency=[str(u) for u in analysis.get("urgency") or []],
        actionable=bool(analysis.get("actionable")),
    )
