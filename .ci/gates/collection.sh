#!/usr/bin/env bash
# Collection quality gate: `listening extract` on the real saved pages and feeds of
# ../shared/data (read-only; nothing from there is copied into the repository).
# Expected counts were fixed by reading each page (see docs/COLLECTION.md):
# every review / post / comment that has text, with author, date (and rating when the
# markup has one); none, and no error, where comments load through JavaScript or a
# product only carries an aggregate rating. Every feed yields all its entries, with a
# date wherever feedparser finds one in the file.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA="../shared/data"
PY="${PYTHON:-.venv/bin/python}"
LISTENING="${LISTENING:-.venv/bin/listening}"
if [ ! -d "$DATA/pages" ]; then
  echo "collection gate: $DATA/pages is absent, skipped"
  exit 0
fi
export LISTENING_GATE_DATA="$DATA" LISTENING_GATE_CLI="$LISTENING"
"$PY" - <<'PYEOF'
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import feedparser
from typer.testing import CliRunner

from listening.cli import app

DATA = Path(os.environ["LISTENING_GATE_DATA"])
CLI = os.environ["LISTENING_GATE_CLI"]
# file -> (expected items, fields every item must have)
PAGES = {
    "review_markup/zooroyal.de.trixie.html": (4, ("text", "author", "published_at", "rating")),
    "review_markup/chefkoch.de.mandarinen.html": (5, ("text", "author", "published_at")),
    "review_markup/madame.lefigaro.fr.dintestin.html": (1, ("text", "author", "published_at")),
    "review_markup/parallels.com.desktop.html": (0, ()),  # AggregateRating only
    "forum/foren.myoos.de.html": (1, ("text", "author", "published_at")),  # phpBB, one post
    "forum/pocketpc.ch.auslieferung.html": (20, ("text", "author", "published_at")),  # vBulletin 4
    "forum/mtb-news.de-tubeless.html": (5, ("text", "author", "published_at")),  # XenForo comments
    "forum/anglerboard.de-rute.html": (0, ()),  # XenForo article: "keine Kommentare vorhanden"
    "forum/wolfsrebellen-netz.forumieren.com.regeln.html": (3, ("text", "author", "published_at")),
    "forum/boingboing.net.millenials.html": (0, ()),  # Discourse comments loaded by JavaScript
    "blog_comments_fr/lopinion.fr.glyphosate.html": (6, ("text", "author", "published_at")),
    "blog_comments_fr/regards.fr.enquetes.html": (11, ("text", "author", "published_at")),
    "blog_comments_fr/dalloz-actualite.fr.raoult.html": (2, ("text", "author", "published_at")),
    "blog_comments_fr/france.attc.org-privatisations.html": (0, ()),  # no comment posted
    "blog_comments_fr/sciencesetavenir.fr.rumeur.html": (0, ()),  # comments loaded by JavaScript
}


RUNNER = CliRunner()


def run_extract(path: Path) -> tuple[list[dict] | None, str, float]:
    """`listening extract FILE --url URL --json` (in-process: the same typer command)."""
    started = time.monotonic()
    result = RUNNER.invoke(app, ["extract", str(path), "--url", f"https://example.org/{path.name}", "--json"])
    elapsed = time.monotonic() - started
    if result.exit_code != 0:
        return None, str(result.exception or result.output).strip()[-300:], elapsed
    lines = result.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else None, "", elapsed


# The real console script once, for its exit code and last-line JSON contract.
probe = DATA / "pages" / "review_markup" / "zooroyal.de.trixie.html"
proc = subprocess.run([CLI, "extract", str(probe), "--url", "https://www.zooroyal.de/x", "--json"],
                      capture_output=True, text=True, timeout=300)
if proc.returncode != 0 or len(json.loads(proc.stdout.strip().splitlines()[-1])) != 4:
    print(f"collection gate: `{CLI} extract` failed: {proc.stderr.strip()[-300:]}")
    sys.exit(1)

failures: list[str] = []
page_items = page_ok = 0
started = time.monotonic()
for rel, (expected, fields) in PAGES.items():
    items, error, _ = run_extract(DATA / "pages" / rel)
    if items is None:
        failures.append(f"{rel}: extract failed: {error}")
        continue
    missing = [f for item in items for f in fields if item.get(f) in (None, "")]
    status = "ok" if len(items) == expected and not missing else "FAIL"
    if status == "ok":
        page_ok += 1
    else:
        failures.append(f"{rel}: {len(items)} items (expected {expected}); missing fields: {sorted(set(missing))}")
    page_items += len(items)
    print(f"  {status:4} {rel}: {len(items)}/{expected} items")

feed_files = sorted(p for sub in ("real", "canonical") for p in (DATA / "feeds" / sub).iterdir()
                    if p.suffix in (".rss", ".atom", ".xml", ".rdf"))
feed_ok = 0
entries_total = dated_total = 0
for path in feed_files:
    reference = feedparser.parse(path.read_bytes())
    # an entry with neither title nor text (only an id) cannot be a verbatim
    expected = sum(1 for e in reference.entries
                   if (e.get("title") or e.get("summary") or e.get("content") or "") != "")
    dated = sum(1 for e in reference.entries
                if e.get("published_parsed") or e.get("updated_parsed") or e.get("created_parsed"))
    items, error, _ = run_extract(path)
    if items is None:
        failures.append(f"feeds/{path.parent.name}/{path.name}: extract failed: {error}")
        print(f"  FAIL feeds/{path.parent.name}/{path.name}: {error}")
        continue
    with_date = sum(1 for i in items if i.get("published_at"))
    ok = len(items) == expected and with_date >= dated
    feed_ok += ok
    entries_total += len(items)
    dated_total += with_date
    if not ok:
        failures.append(f"feeds/{path.parent.name}/{path.name}: {len(items)}/{expected} entries, "
                        f"{with_date}/{dated} dated")
    print(f"  {'ok' if ok else 'FAIL':4} feeds/{path.parent.name}/{path.name}: "
          f"{len(items)}/{expected} entries, {with_date}/{dated} dated")

elapsed = time.monotonic() - started
print(f"collection gate: pages {page_ok}/{len(PAGES)} exact ({page_items} items), "
      f"feeds {feed_ok}/{len(feed_files)} complete ({entries_total} entries, {dated_total} dated), "
      f"{elapsed:.0f} s")
if failures:
    print("FAILED:")
    for failure in failures:
        print("  -", failure)
    sys.exit(1)
PYEOF
