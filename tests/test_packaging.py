"""A regular, non-editable install ships the NLP heads and analyses text without the source tree.

Cheap on purpose: a fresh venv whose ``.pth`` reuses this test environment's installed
dependencies (as a plain path, so the editable install of the working tree is NOT
activated), then ``pip install --no-deps --no-build-isolation .``: the wheel pip builds
is what a user gets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_non_editable_install_ships_the_heads_and_analyses(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # dependencies from the test venv, added as a plain path line: its .pth files (the
    # editable finder of the working tree) are not processed
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    # a clean copy of the project: pip builds in the tree, and a stale build/ folder of an
    # earlier build must not hide a file the package data leaves out
    src = tmp_path / "src"
    for name in ("pyproject.toml", "README.md", "listening", "nlp", "dashboards", "spiders"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LISTENING_", "PYTHON"))}
    env["LISTENING_DATA_DIR"] = str(tmp_path / "data")
    install = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(src),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    models = Path(site, "nlp", "models")
    names = ["aspect_sentiment", "intent", "sentiment", "topics", "urgency"]
    assert sorted(p.stem for p in models.glob("*.npz")) == names
    assert {f"{n}.json" for n in names} | {"calibration.json"} <= {p.name for p in models.glob("*.json")}
    assert not list(models.glob("*.joblib"))  # data-only heads: no pickle ships
    probe = (
        "import json, nlp, nlp.pipeline as p; "
        "print(json.dumps({'nlp': nlp.__file__, 'shipped': str(p.SHIPPED_MODELS)}))"
    )
    where = json.loads(
        subprocess.run(
            [str(python), "-c", probe],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
        ).stdout
    )
    assert where["nlp"].startswith(site) and where["shipped"].startswith(site)
    analysed = subprocess.run(
        [
            str(python),
            "-m",
            "listening.cli",
            "analyze-text",
            "--json",
            "Colis jamais livré, le service client ne répond pas.",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert analysed.returncode == 0, analysed.stderr[-3000:]
    result = json.loads(analysed.stdout.strip().splitlines()[-1])
    assert "delivery" in {t["topic"] for t in result["topics"]}
    assert sys.prefix != str(env_dir)  # the probe ran in the new environment, not this one
