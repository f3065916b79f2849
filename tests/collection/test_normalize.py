"""Text cleaning, language detection and date parsing of verbatims."""

from __future__ import annotations

from datetime import UTC, datetime

from listening.collection.normalize import clean_line, clean_text, detect_language, parse_date

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def test_normalize_repairs_mojibake_and_strips_html() -> None:
    raw = "<p>CafÃ© trÃ¨s  bon&nbsp;!</p><script>alert(1)</script><p>Livraison <b>rapide</b><br>merci</p>"
    assert clean_text(raw) == "Café très bon !\n\nLivraison rapide\nmerci"


def test_normalize_whitespace_keeps_paragraphs() -> None:
    assert clean_text("  a\t\tb \r\n\r\n\r\n\n c  ") == "a b\n\nc"
    assert clean_text("") == "" and clean_text(None) == ""
    assert clean_line("  Jean\n  Dupont ") == "Jean Dupont"
    assert clean_line("   ") is None


def test_normalize_text_with_ampersand_is_not_mangled() -> None:
    assert clean_text("Prix & qualité : 5 < 6") == "Prix & qualité : 5 < 6"


def test_normalize_detects_configured_languages() -> None:
    langs = ["fr", "en"]
    assert detect_language("Livraison rapide et soignée, merci beaucoup !", langs) == "fr"
    assert detect_language("Great product, the delivery was fast", langs) == "en"


def test_normalize_language_und_when_short_or_other() -> None:
    langs = ["fr", "en"]
    assert detect_language("ok", langs) == "und"
    assert detect_language("Top", langs) == "und"
    assert detect_language("Sehr gutes Produkt, schnelle Lieferung, gerne wieder", langs) == "und"
    assert detect_language("Sehr gutes Produkt, schnelle Lieferung, gerne wieder", ["de"]) == "de"
    assert detect_language("Great product, fast delivery", ["fr"]) == "und"


def test_normalize_parses_iso_and_rfc822_dates_to_utc() -> None:
    assert parse_date("2024-03-02T10:00:00Z") == datetime(2024, 3, 2, 10, tzinfo=UTC)
    assert parse_date("2024-03-02T10:00:00+02:00") == datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert parse_date("Tue, 10 Jun 2003 04:00:00 GMT") == datetime(2003, 6, 10, 4, tzinfo=UTC)
    # naive dates are read in the configured zone (Paris: UTC+1 in winter)
    assert parse_date("2024-01-05 10:00", naive_timezone="Europe/Paris") == datetime(
        2024, 1, 5, 9, tzinfo=UTC
    )


def test_normalize_parses_french_dates_and_relative_dates() -> None:
    three_days = parse_date("il y a 3 jours", "fr", now=NOW)
    assert three_days is not None and three_days.tzinfo is not None
    assert abs((NOW - three_days).total_seconds() - 3 * 86400) < 3600 * 2
    yesterday = parse_date("hier", "fr", now=NOW)
    assert yesterday is not None and yesterday.date() == datetime(2025, 6, 14).date()
    assert parse_date("Publié le 5 janvier 2025 à 14h30", "fr") == datetime(
        2025, 1, 5, 13, 30, tzinfo=UTC
    )
    # a date without a time stays on its day: local noon, not midnight (the previous UTC day)
    assert parse_date("12 mars 2024", "fr") == datetime(2024, 3, 12, 11, tzinfo=UTC)
    assert parse_date("2024-03-12", "fr") == datetime(2024, 3, 12, 11, tzinfo=UTC)
    assert parse_date("2024-03-12T00:00:00", "fr") == datetime(
        2024, 3, 11, 23, tzinfo=UTC
    )  # a time: kept
    # day first in French
    assert parse_date("03/04/2024", "fr") == datetime(2024, 4, 3, 10, tzinfo=UTC)


def test_normalize_unreadable_date_gives_none() -> None:
    assert parse_date("pas une date du tout", "fr") is None
    assert parse_date("") is None and parse_date(None) is None
