"""One image per seed that still has live pairs.

Element-first seeds get their image made from the description (guarded first),
optionally checked and refined by an image checker for a few rounds (each refined prompt
guarded too, read with its seed's texts: `refined_prompt_hit`);
image-first seeds bring their pool image. PNGs go under the run's images/.
With a pool retriever the images were found before rewriting (`retrieval.py`): here the
seeds that the filters dropped since give theirs back to the pool.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.backends.base import GeneratedImage, ImageGenerator, ImageRequest
from pipeline.batch import Batch
from pipeline.contracts import ImageChecker, ItemError, Provenance, ReasonCode, StageName
from pipeline.guardrails import GuardHit, check_text, check_texts
from pipeline.images.checks import BytesChanged, shown_file
from pipeline.images.model_files import model_files_fingerprint
from pipeline.pool.retrieval import PoolRetriever
from pipeline.records import Blocked, Decision, Failure, Seed, Verdict, content_id
from pipeline.stages.base import Stage, drop_blocked_seeds, failure_from, save_image, stop_on_machine_error
from pipeline.stages.guardrail import pair_texts, seed_texts
from pipeline.stages.image_refine import RefineOutcome, RefineRequest, refine_images
from pipeline.storage import atomic_write_bytes


Made = dict[str, tuple[GeneratedImage, Provenance]]  # seed -> its image and what made it


def image_seed(item_id: str) -> int:
    """Each item's generation seed comes from its id, so reruns reproduce the image."""
    return int(content_id("image-seed", item_id)[:8], 16)


def seeds_texts(batch: Batch) -> dict[str, list[str]]:
    """Each seed's texts as the guardrail stage reads them: its element and source, and every live
    pair's description, queries, safety reason and source."""
    texts = {seed.id: seed_texts(seed) for seed in batch.seeds}
    for pair in batch.pairs:
        texts.setdefault(pair.seed_id, []).extend(pair_texts(pair))
    return texts


def refined_prompt_hit(prompt: str, beside: list[str], category: str) -> GuardHit | None:
    """The hard block on a prompt the image checker wrote, read as one item with its seed's texts, as
    a rewrite is read with its description: "A teenage girl at a photo studio." drawn for a query
    about lingerie is one hit, though neither text is alone. The shipped row keeps the original
    description, so no later check sees what the image was drawn from."""
    return check_texts([prompt, *beside], category)


def made_with_other_files(run_dir: Path, seed_ids: list[str], model_note: dict) -> list[str]:
    """The seeds among `seed_ids` whose saved image's note names the model of `model_note` with other
    `model_files` than it has now. An image without a note (a pool image, a fast generator's) or
    whose note was saved before folders were fingerprinted is not counted, as `_saved` reuses it."""
    now = model_note.get("model_files")
    if now is None:  # a hub id, or no model
        return []
    changed = []
    for seed_id in seed_ids:
        try:
            made_for = json.loads((run_dir / f"images/{seed_id}.json").read_text(encoding="utf-8"))["made_for"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if made_for.get("model") == model_note["model"] and made_for.get("model_files", now) != now:
            changed.append(seed_id)
    return changed


class ImageStage(Stage):
    name = StageName.images

    def __init__(self, generator: ImageGenerator, run_dir: Path, checker: ImageChecker | None = None,
                 max_rounds: int = 3, save_every: int | None = None):
        self.generator = generator
        self.run_dir = Path(run_dir)
        self.checker = checker
        self.max_rounds = max_rounds
        # A slow generator's images are saved every `save_every` requests (one wave over its
        # devices), so a killed build keeps them; a rerun reuses each whose request is unchanged.
        self.save_every = save_every

    def run(self, batch: Batch) -> Batch:
        descriptions = {}  # seed -> (description, category) of its first pair
        for pair in batch.pairs:
            descriptions.setdefault(pair.seed_id, (pair.image_description, pair.category))
        retrieved, lost = self._keep_retrieved(batch, set(descriptions))
        from_pool, blocked, to_make, unreadable = self._sort_seeds(batch, descriptions)
        decisions: list[Decision] = []
        on_disk: set[str] = set()  # saved as they were made (or found from a killed attempt): not written again
        generated, not_generated = self._generated(
            to_make, self._generate(to_make, descriptions, decisions, blocked, on_disk, seeds_texts(batch)))
        made = from_pool | generated
        images, meta, not_stored = self._store(batch, made, on_disk)
        # a made seed is none of the batch's images, so one in `images` is one that was stored
        image_by = {seed_id: provenance for seed_id, (_, provenance) in made.items() if seed_id in images}
        pairs = [pair if pair.seed_id in retrieved else
                 pair.model_copy(update={"image_ref": images[pair.seed_id], "image_by": image_by[pair.seed_id]})
                 for pair in batch.pairs if pair.seed_id in image_by or pair.seed_id in retrieved]
        batch = batch.model_copy(update={"pairs": pairs, "images": images, "image_meta": meta,
                                         "failures": [*batch.failures, *lost, *unreadable, *not_generated,
                                                      *not_stored],
                                         "decisions": batch.decisions + decisions})
        return drop_blocked_seeds(batch, blocked)

    def _sort_seeds(self, batch: Batch, descriptions: dict) -> tuple[Made, list[Blocked], list[Seed], list[Failure]]:
        """The live seeds not served before rewriting, by where their image comes from: (read from the
        pool, blocked by the guardrails on their description, to be made, pool images that could not
        be read)."""
        seeds = {seed.id: seed for seed in batch.seeds}
        made, blocked, to_make, failures = {}, [], [], []
        for seed_id, (description, category) in descriptions.items():
            seed = seeds[seed_id]
            if seed_id in batch.images:
                continue  # retrieved before rewriting
            if seed.image_path:
                result = self._from_pool(seed)
                if isinstance(result, ItemError):
                    failures.append(failure_from(result, item_id=seed_id, seed_id=seed_id, stage=self.name,
                                                 category=seed.category))
                else:
                    made[seed_id] = result
            elif hit := check_text(description, category):
                blocked.append(Blocked(item_id=seed_id, seed_id=seed_id, stage=StageName.image_prompt,
                                       rule=hit.rule, matched=hit.matched))
            else:
                to_make.append(seed)
        return made, blocked, to_make, failures

    def _generated(self, seeds: list[Seed], results: list) -> tuple[Made, list[Failure]]:
        """(seed -> its image and the generator's provenance, a failure for each seed whose image
        could not be made); a seed the checker rejected is in neither."""
        made, failures = {}, []
        for seed, result in zip(seeds, results):
            if isinstance(result, ItemError):
                failures.append(failure_from(result, item_id=seed.id, seed_id=seed.id, stage=self.name,
                                             category=seed.category))
            elif result is not None:
                made[seed.id] = (result, self.generator.provenance)
        return made, failures

    def _store(self, batch: Batch, made: Made, on_disk: set[str]) -> tuple[dict[str, str], dict[str, dict],
                                                                           list[Failure]]:
        """The batch's images and their meta with the made ones added, each written under images/
        unless it is there already; a failure for each that could not be written."""
        images, meta, failures = dict(batch.images), dict(batch.image_meta), []
        for seed_id, (image, provenance) in made.items():
            saved = f"images/{seed_id}.png" if seed_id in on_disk else save_image(self.run_dir, seed_id, image.png,
                                                                                  self.name)
            if isinstance(saved, Failure):
                failures.append(saved)
                continue
            images[seed_id] = saved
            meta[seed_id] = {**image.meta, "backend": provenance.backend}
        return images, meta, failures

    def _keep_retrieved(self, batch: Batch, live: set[str]) -> tuple[set[str], list[Failure]]:
        """(The live seeds whose retrieved image still serves them, a failure for each whose image no
        longer can, with why: `PoolRetriever.reclaim`); images of dropped seeds go back."""
        if not isinstance(self.generator, PoolRetriever) or not batch.images:
            return set(), []
        self.generator.release(set(batch.images) - live)
        kept, failures = set(), []
        for seed_id in live & set(batch.images):
            if lost := self.generator.reclaim(seed_id, batch.image_meta[seed_id]):
                failures.append(Failure(item_id=seed_id, seed_id=seed_id, stage=self.name, error=lost))
            else:
                kept.add(seed_id)
        return kept, failures

    def _generate(self, seeds: list[Seed], descriptions: dict, decisions: list[Decision],
                  blocked: list[Blocked], on_disk: set[str], beside: dict[str, list[str]]):
        """One result per seed: an image, an ItemError, or None when the checker rejected it
        (or refined its prompt into one the guardrails stop, which `blocked` then records)."""
        if not seeds:
            return []
        if self.checker is None:
            requests = [ImageRequest(item_id=s.id, prompt=descriptions[s.id][0], seed=image_seed(s.id)) for s in seeds]
            return self._generate_saving(requests, on_disk) if self.save_every else self.generator.generate(requests)
        return self._refine(seeds, descriptions, decisions, blocked, on_disk, beside)

    def _refine(self, seeds: list[Seed], descriptions: dict, decisions: list[Decision],
                blocked: list[Blocked], on_disk: set[str],
                beside: dict[str, list[str]]) -> list[GeneratedImage | ItemError | None]:
        def guard(ask: RefineRequest, prompt: str) -> GuardHit | None:
            return refined_prompt_hit(prompt, beside.get(ask.item_id, []), descriptions[ask.item_id][1])

        outcomes = refine_images([RefineRequest(item_id=s.id, element=s.element.element,
                                                description=descriptions[s.id][0], seed=image_seed(s.id))
                                  for s in seeds], self.generator, self.checker, self.max_rounds, guard=guard)
        model_note = self._model_note() if self.save_every else None
        results = []
        for seed, outcome in zip(seeds, outcomes):
            rounds = [vars(r) for r in outcome.rounds]
            if outcome.error:
                results.append(ItemError(f"image refinement failed: {outcome.error}", transient=outcome.transient))
                continue
            if outcome.blocked:
                blocked.append(Blocked(item_id=seed.id, seed_id=seed.id, stage="image_refined_prompt",
                                       rule=outcome.blocked.rule, matched=outcome.blocked.matched))
            decisions.append(self._check_decision(seed, outcome))
            if not outcome.accepted:
                results.append(None)
                continue
            image = GeneratedImage(png=outcome.image.png, meta={**outcome.image.meta, "rounds": rounds})
            last = outcome.rounds[-1]
            # Saved with a note as the slow generator's images are (its record of what made the
            # image); the rounds still run again on a rerun, so the check is asked again too.
            if model_note is not None and self._save(ImageRequest(seed.id, last.prompt, last.seed), image, model_note):
                on_disk.add(seed.id)
            results.append(image)
        return results

    def _check_decision(self, seed: Seed, outcome: RefineOutcome) -> Decision:
        rounds = len(outcome.rounds)
        made_by = outcome.checked_by or Provenance(backend=self.checker.backend, model=self.checker.model,
                                        prompt_hash=self.checker.prompt_hash)
        return Decision(
            item_id=seed.id, seed_id=seed.id, stage=StageName.image_check, text=outcome.rounds[-1].prompt,
            attempt=rounds, scores={"shows_element": float(outcome.accepted)},
            verdict=Verdict.keep if outcome.accepted else Verdict.drop,
            code=ReasonCode.image_shown if outcome.accepted else ReasonCode.image_missing,
            reason=(f"shows the element after {rounds} round(s)" if outcome.accepted else
                    f"does not show the element after {rounds} round(s): {outcome.rounds[-1].explanation}"),
            backend=made_by.backend, model=made_by.model, prompt_hash=made_by.prompt_hash)

    def _generate_saving(self, requests: list[ImageRequest], on_disk: set[str]) -> list[GeneratedImage | ItemError]:
        model_note = self._model_note()
        results = {request.item_id: self._saved(request, model_note) for request in requests}
        on_disk.update(item_id for item_id, result in results.items() if result is not None)
        todo = [request for request in requests if results[request.item_id] is None]
        for start in range(0, len(todo), self.save_every):
            wave = todo[start:start + self.save_every]
            for request, result in zip(wave, self.generator.generate(wave)):
                results[request.item_id] = result
                if isinstance(result, GeneratedImage) and self._save(request, result, model_note):
                    on_disk.add(request.item_id)
        return [results[request.item_id] for request in requests]

    def outdated(self, done: Batch) -> bool:
        """Whether a batch this stage finished in an earlier attempt of the run holds images made from
        other files of the model folder than it holds now (new weights copied over it between a kill
        and the resume). The build then runs the stage again (`pipeline.build.run_stage`), which
        remakes each such image (`_saved`), so a run never ships two checkpoints under one name."""
        return bool(made_with_other_files(self.run_dir, list(done.images), self._model_note()))

    def _model_note(self) -> dict:
        """The backend and model saved images are made with; for a local model folder also a
        fingerprint of its files, so new weights at the same path make the images again rather
        than mixing two checkpoints under one name (a hub id names its weights itself)."""
        provenance = self.generator.provenance
        note = {"backend": provenance.backend, "model": provenance.model}
        if fingerprint := model_files_fingerprint(provenance.model):
            note["model_files"] = fingerprint
        return note

    @staticmethod
    def _made_for(request: ImageRequest, model_note: dict) -> dict:
        return {"prompt": request.prompt, "seed": request.seed, **model_note}

    def _save(self, request: ImageRequest, image: GeneratedImage, model_note: dict) -> bool:
        """The PNG first, then its note: a note is only ever beside a whole PNG. False when not
        saved: the stage then writes it with the others, or fails it there. A full disk stops the
        build now, not after the generator has made every image to come."""
        path = self.run_dir / f"images/{request.item_id}.png"
        try:
            atomic_write_bytes(path, image.png)
            path = path.with_suffix(".json")
            atomic_write_bytes(path, json.dumps(
                {"made_for": self._made_for(request, model_note), "meta": image.meta}).encode())
        except OSError as error:
            stop_on_machine_error(error, path)
            return False
        return True

    def _saved(self, request: ImageRequest, model_note: dict) -> GeneratedImage | None:
        note = self.run_dir / f"images/{request.item_id}.json"
        try:
            saved = json.loads(note.read_text(encoding="utf-8"))
            wanted = self._made_for(request, model_note)
            if "model_files" not in saved["made_for"]:  # saved before folders were fingerprinted: not
                wanted.pop("model_files", None)           # remade (hours of GPU) for want of a record
            if saved["made_for"] != wanted:
                return None
            return GeneratedImage(png=(self.run_dir / f"images/{request.item_id}.png").read_bytes(), meta=saved["meta"])
        except (OSError, ValueError, KeyError):
            return None

    def _from_pool(self, seed: Seed) -> tuple[GeneratedImage, Provenance] | ItemError:
        try:
            png, meta = shown_file(Path(seed.image_path), seed.image_sha256)
        except BytesChanged:
            return ItemError(f"cannot read pool image {seed.image_path}: its bytes changed since the run "
                             "was planned; rerun the build to plan it afresh")
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as error:
            return ItemError(f"cannot read pool image {seed.image_path}: {error}")
        # the backend names the pool (seed.source is the dataset the image came from); no model made the image
        provenance = Provenance(backend=self.generator.backend, model="", prompt_hash="")
        return GeneratedImage(png=png, meta={**meta, "file": seed.image_path}), provenance
