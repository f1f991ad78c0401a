"""What the detector is fitted with: `calibration.json` (the text-harm probe, the adapter, their blend and
the two thresholds), each fitted file checked against the sha256 it records, and the detector's version
made from the calibration's, the element library's and the risk lexicon's hashes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.detect.lexicon import CUES_FILE
from pipeline.detect.library_terms import library_digest
from pipeline.detect.signals import SIGNALS
from pipeline.detect.text_harm import TextHarmProbe
from pipeline.detect.text_harm_adapter import AdapterSettings, AdapterWeights, TextHarmAdapter
from pipeline.hashing import sha256_file

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


def blended(probe: np.ndarray, adapter: np.ndarray | None, blend: float) -> np.ndarray:
    """`text_harm`'s probability: the adapter's weighted by `blend`, the probe's by the rest."""
    return probe if adapter is None or blend == 0 else (1 - blend) * probe + blend * adapter


@dataclass(frozen=True)
class Calibration:
    probe: TextHarmProbe
    text_harm_threshold: float
    reveal_threshold: float
    digest: str
    adapter: TextHarmAdapter | None = None   # None when its blend is 0: the probe alone
    blend: float = 0.0
    adapter_settings: AdapterSettings = AdapterSettings()   # what the adapter was fitted with; folds refit with it

    def text_harm(self, query_features: np.ndarray, queries: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(blended probability, the adapter's own or None) of canonical queries."""
        adapter = self.adapter.probability(queries) if self.adapter is not None else None
        return blended(self.probe.probability(query_features), adapter, self.blend), adapter

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        raw = path.read_bytes()
        data = json.loads(raw)
        if tuple(data["signals"]) != SIGNALS:
            raise ValueError(f"{path}: fitted on signals {data['signals']}, detector has {list(SIGNALS)}")
        probe = TextHarmProbe.load(_checked(path, data["text_harm_probe"]))
        adapter, blend, settings = None, 0.0, AdapterSettings()
        if "text_harm_adapter" in data:
            settings = AdapterSettings(**data["text_harm_adapter"].get("settings", {}))
            if data["text_harm_adapter"]["blend"] > 0:
                blend = float(data["text_harm_adapter"]["blend"])
                adapter = _adapter(_checked(path, data["text_harm_adapter"]), data["text_harm_adapter"]["sha256"])
        return cls(probe, float(data["thresholds"]["text_harm"]), float(data["thresholds"]["reveal"]),
                   hashlib.sha256(raw).hexdigest()[:8], adapter, blend, settings)


@lru_cache(maxsize=4)
def _adapter(path: Path, sha256: str) -> TextHarmAdapter:
    # One merged encoder per adapter file and process: every detector a build makes shares it,
    # and its cache of scored queries.
    return TextHarmAdapter(AdapterWeights.load(path))


def _checked(calibration: Path, entry: dict) -> Path:
    path = calibration.with_name(entry["file"])
    if sha256_file(path) != entry["sha256"]:
        raise ValueError(f"{path} is not the file {calibration.name} was fitted with")
    return path


def detector_version(calibration_digest: str | None = None) -> str:
    """The detector's generation with the first 8 hex digits of its calibration's, element library's and
    risk lexicon's sha256: a change of any is another detector. Read from the files alone (no model is
    loaded), as `leakless --version` shows it."""
    digest = calibration_digest or sha256_file(CALIBRATION_FILE)[:8]
    return f"offline-11+{digest}+{library_digest()}+{sha256_file(CUES_FILE)[:8]}"  # 11: misspelt shown words
