"""French and English strings of the reports and digests (French is the default)."""

from __future__ import annotations

from datetime import date

LANGUAGES: tuple[str, ...] = ("fr", "en")

# key: (français, English)
STRINGS: dict[str, tuple[str, str]] = {
    "title": ("Rapport d’écoute client — {brand}", "Customer listening report — {brand}"),
    "all_brands": ("toutes marques", "all brands"),
    "period": (
        "Période : {start} → {end} ({kind}), comparée à {pstart} → {pend}",
        "Period: {start} → {end} ({kind}), compared with {pstart} → {pend}",
    ),
    "kind.week": ("semaine", "week"),
    "kind.month": ("mois", "month"),
    "kind.custom": ("dates choisies", "chosen dates"),
    "generated": ("Généré le {at}", "Generated on {at}"),
    "kpis": ("Chiffres clés", "Headline figures"),
    "kpi.documents": ("Verbatims", "Verbatims"),
    "kpi.analysed": ("Analysés", "Analysed"),
    "kpi.positive": ("Positifs", "Positive"),
    "kpi.negative": ("Négatifs", "Negative"),
    "kpi.net": ("Sentiment net", "Net sentiment"),
    "col.figure": ("Indicateur", "Figure"),
    "col.value": ("Période", "Period"),
    "col.previous": ("Précédente", "Previous"),
    "col.change": ("Évolution", "Change"),
    "topics": (
        "Parcours client : volume et sentiment net par thème",
        "Customer journey: volume and net sentiment by topic",
    ),
    "col.topic": ("Thème", "Topic"),
    "col.mentions": ("Mentions", "Mentions"),
    "col.net": ("Sentiment net", "Net sentiment"),
    "col.net_change": ("Évol. sentiment", "Sentiment change"),
    "topics_chart": (
        "Mentions par thème (période et précédente)",
        "Mentions by topic (period and previous)",
    ),
    "chart.current": ("période", "period"),
    "chart.previous": ("précédente", "previous"),
    "competitors": (
        "Concurrents : différences significatives",
        "Competitors: significant differences",
    ),
    "competitors_note": (
        "Sentiment net de chaque concurrent comparé à {brand}, thème par thème ; seules les "
        "différences significatives (test z bilatéral, α = 5 %, au moins {min_n} mentions de "
        "chaque côté) sont listées.",
        "Net sentiment of each competitor against {brand}, topic by topic; only significant "
        "differences (two-sided z-test, α = 5%, at least {min_n} mentions on each side) are listed.",
    ),
    "competitors_none": (
        "Aucune différence significative sur la période.",
        "No significant difference in the period.",
    ),
    "col.competitor": ("Concurrent", "Competitor"),
    "col.theirs": ("Leur sentiment net", "Their net sentiment"),
    "col.ours": ("Sentiment net de {brand}", "{brand} net sentiment"),
    "col.verdict": ("Écart", "Difference"),
    "better": ("meilleur que {brand}", "better than {brand}"),
    "worse": ("moins bon que {brand}", "worse than {brand}"),
    "sla": ("Boîte de réception : tickets et délais (SLA)", "Inbox: tickets and SLA"),
    "sla.opened": ("Tickets ouverts", "Tickets opened"),
    "sla.closed": ("Tickets clos", "Tickets closed"),
    "sla.breached": ("Délais dépassés", "SLA breaches"),
    "sla.median": ("Délai médian de première réponse", "Median time to first response"),
    "sla.hours": ("{h} h", "{h} h"),
    "sla.na": ("pas de réponse sur la période", "no answer in the period"),
    "sla.team": ("Équipe : {team}", "Team: {team}"),
    "themes": ("Thèmes émergents", "Emerging themes"),
    "col.theme": ("Thème émergent", "Emerging theme"),
    "col.size": ("Verbatims", "Verbatims"),
    "verbatims": ("Verbatims représentatifs", "Representative verbatims"),
    "verbatims_note": (
        "Cités tels quels, choisis par centralité ({method}) parmi les verbatims du thème.",
        "Quoted as written, chosen by centrality ({method}) among the topic's verbatims.",
    ),
    "method.embeddings": (
        "plus proches du centre des plongements sémantiques",
        "closest to the centroid of the sentence embeddings",
    ),
    "method.tfidf": (
        "plus proches du centre des vecteurs TF-IDF",
        "closest to the centroid of the TF-IDF vectors",
    ),
    "sentiment.positive": ("positif", "positive"),
    "sentiment.negative": ("négatif", "negative"),
    "sentiment.neutral": ("neutre", "neutral"),
    "no_data": ("Aucun verbatim publié sur la période.", "No verbatim published in the period."),
    "digest.subject": (
        "Synthèse {kind} {brand} : {start} → {end}",
        "{brand} {kind} digest: {start} → {end}",
    ),
    "digest.attached": ("Le rapport PDF est joint.", "The PDF report is attached."),
}


def t(key: str, lang: str, **values: object) -> str:
    fr, en = STRINGS[key]
    text = en if lang == "en" else fr
    return text.format(**values) if values else text


def fmt_day(day: date, lang: str) -> str:
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()


def fmt_number(value: float, lang: str, digits: int = 0, sign: bool = False) -> str:
    """``1 234,5`` in French (narrow no-break space), ``1,234.5`` in English."""
    text = f"{value:{'+' if sign else ''},.{digits}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text
