"""Re-leaks: a leakless query with one risky word of its description put back.

The withheld measurement of issue 13 asks how often the detector catches a rewrite
that leaves one word of the shown risk behind ("these pills substances", "this handgun
item"). `tests/data/releak_words.jsonl` holds, for 300 leakless pairs, the word a helper
chose blind as the one that names the description's risk; `releaked` puts it back the
same way: after the query's first "this"/"these"/"that"/"those" (else its first "the"),
or, with neither, as "(the WORD)" at the end. `misspelt` puts it back one edit off
("pistol" as "pitsol"), the way a hurried edit or an evasive one keeps a name.

The VLSBench sample's 60 pairs (the `evaluation_only` split) are read from a path, as the
shared reference folder has them; without it that split is reported as not scored.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline.detect.corpus import (SAMPLE_OPTION, TEAM_DATA, VLSBENCH_SAMPLE, LabelledRow, chosen_sample,
                                    evaluation_sets, read_team_sets, read_vlsbench_sample, sample_hash_problem)
from pipeline.env import PROJECT_ROOT
from pipeline.hashing import sha256_file
from pipeline.json_lines import numbered_lines

_POINTER = re.compile(r"\b(?:this|these|that|those)\s+", re.IGNORECASE)
_ARTICLE = re.compile(r"\bthe\s+", re.IGNORECASE)
_CLOSING = re.compile(r"[\s?.!]*$")


def releaked(query: str, word: str) -> str:
    """The query with `word` put back before the noun its first pointer or article points at."""
    for pattern in (_POINTER, _ARTICLE):
        match = pattern.search(query)
        if match:
            return f"{query[:match.end()]}{word} {query[match.end():]}"
    closing = _CLOSING.search(query)
    return f"{query[:closing.start()]} (the {word}){query[closing.start():]}"


def misspelt(word: str) -> str:
    """The word one edit off: its two middle letters swapped (one dropped when they are the
    same letter, "bottle" as "botle"); a word shorter than five letters is kept."""
    if len(word) < 5:
        return word
    middle = len(word) // 2
    if word[middle - 1] == word[middle]:
        return word[:middle] + word[middle + 1:]
    return word[:middle - 1] + word[middle] + word[middle - 1] + word[middle + 1:]


@dataclass(frozen=True)
class ReleakPair:
    row: LabelledRow     # the leakless pair
    word: str
    split: str           # "dev", "test" or "evaluation_only"

    @property
    def query(self) -> str:
        return releaked(self.row.query, self.word)

    @property
    def misspelt_query(self) -> str:
        return releaked(self.row.query, misspelt(self.word))


def releak_pairs(words_file: Path | None = None, sample: Path | None = None) -> list[ReleakPair]:
    """Every re-leak of the recorded words file (refused if it, or the VLSBench `sample`, no longer
    matches its hash); without a sample, none of the `evaluation_only` split."""
    recorded = evaluation_sets()["releak_words"]
    path = words_file or PROJECT_ROOT / recorded["file"]
    if sha256_file(path) != recorded["sha256"]:
        raise ValueError(f"{path} does not match the sha256 recorded in evaluation_sets.toml")
    rows = {row.id: row for row in read_team_sets(TEAM_DATA) + _sample_rows(sample)}
    split_of = {name: split for split in ("dev", "test", "evaluation_only") for name in recorded[split]}
    pairs = []
    for _, line in numbered_lines(path.read_text(encoding="utf-8")):
        record = json.loads(line)
        split = split_of[record["id"].split(":")[0]]
        if record["word"] is None or (sample is None and split == "evaluation_only"):
            continue  # the helper found nothing risky in the description, or the pair is not here
        pairs.append(ReleakPair(rows[record["id"]], record["word"], split))
    return pairs


def _sample_rows(sample: Path | None) -> list[LabelledRow]:
    if sample is None:
        return []
    problem = sample_hash_problem(sample)
    if problem:
        raise ValueError(f"{sample}: not the VLSBench sample recorded in evaluation_sets.toml ({problem})")
    return read_vlsbench_sample(sample)


def main(argv: list[str] | None = None) -> None:
    """Print, per split, the share of re-leaks the shipped detector flags, and of re-leaks with
    the word misspelt, beside the share of their leakless originals it flags."""
    parser = argparse.ArgumentParser(prog="python -m pipeline.detect.releak", description=main.__doc__)
    parser.add_argument(SAMPLE_OPTION, type=Path, dest="sample",
                        help=f"VLSBench's released rows, for the evaluation_only split (default: {VLSBENCH_SAMPLE} "
                             "where it is; without one that split is not scored)")
    args = parser.parse_args(argv)
    try:
        sample = chosen_sample(args.sample)
        pairs = releak_pairs(sample=sample)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    from pipeline.detect import LeakDetector, LeakInput

    detector = LeakDetector()
    releaks = detector.score([LeakInput(p.query, p.row.image_description) for p in pairs])
    misspelt_releaks = detector.score([LeakInput(p.misspelt_query, p.row.image_description) for p in pairs])
    originals = detector.score([LeakInput(p.row.query, p.row.image_description) for p in pairs])
    print(f"detector {detector.version}\n"
          "split             pairs  re-leaks flagged  misspelt re-leaks flagged  originals flagged")
    for split in ("dev", "test", "evaluation_only"):
        if split == "evaluation_only" and sample is None:
            print(f"{split:<17} not scored (no VLSBench sample: {VLSBENCH_SAMPLE} is not here; "
                  f"pass {SAMPLE_OPTION} PATH)")
            continue
        chosen = [i for i, p in enumerate(pairs) if p.split == split]

        def share(scores):
            return sum(scores[i].leak for i in chosen) / len(chosen)
        print(f"{split:<17} {len(chosen):>5}  {share(releaks):>15.1%}  {share(misspelt_releaks):>24.1%}  "
              f"{share(originals):>17.1%}")


if __name__ == "__main__":
    main()
