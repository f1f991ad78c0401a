"""Re-scoring an annotator's edited query with the pipeline's own leak detector."""

from __future__ import annotations

import threading

from pipeline.review.batches import ReviewItem


class EditScorer:
    """One detector per process, loaded on the first edit (it loads MiniLM)."""

    def __init__(self, detector=None):
        self._detector = detector
        self._lock = threading.Lock()

    def detector(self):
        with self._lock:
            if self._detector is None:
                from pipeline.detect.detector import LeakDetector
                self._detector = LeakDetector()
            return self._detector

    def __call__(self, item: ReviewItem, query: str) -> float:
        from pipeline.detect.detector import LeakInput
        leak_input = LeakInput(query=query, image_description=item.image_description, category=item.category,
                               element_terms=(item.element,))
        return self.detector().score([leak_input])[0].score
