"""The offline VSIL leak detector: lexicon + MiniLM signals, calibrated on a labelled dev set."""

from pipeline.detect.detector import LeakDetector, LeakInput, LeakScore

__all__ = ["LeakDetector", "LeakInput", "LeakScore"]
