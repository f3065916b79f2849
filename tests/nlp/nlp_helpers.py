"""Helpers shared by the NLP tests."""

from __future__ import annotations

from pathlib import Path

from listening.config.nlp import NLPSettings
from listening.settings import Settings


def plain_settings(data_dir: Path, **nlp: object) -> Settings:
    """Defaults only (no environment), with a private data dir."""
    return Settings(database_url=f"sqlite:///{data_dir / 'x.db'}", data_dir=str(data_dir),
                    nlp=NLPSettings.model_validate(nlp))


# varied texts for the encoder runtimes' parity tests
ENCODER_TEXTS = [
    "Livraison rapide, produit conforme.",
    "Le SAV ne répond jamais 😡😡 !!!",
    "I love it ❤️ but the price is a bit high…",
    "Ça  fait   trois\tsemaines\nque j'attends ma commande n°12345",
    "ok",
    "Produit reçu cassé, remboursement refusé. Je vais porter plainte !",
    "é è ê ë à ù ç œ Æ — « guillemets » et ‘apostrophes’",
    "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ ① ﬁn",
    "Super 🎉🎉🎉 merci l'équipe 🙏",
    "Où est mon colis ??? Commande passée il y a 15 jours",
]
ENCODER_LONG = "The parcel arrived late and the box was damaged. " * 70  # > 512 tokens: two windows
