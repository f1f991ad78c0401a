"""The review web app: server-rendered pages for annotators and a JSON API under /api.

Auth is a per-annotator token scoped to batches: `Authorization: Bearer <token>`
for the API; in a browser `?token=` once, after which it rides in a cookie.
Edited queries are re-scored by the same leak detector the pipeline used
(one detector per app, loaded on the first edit).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from pydantic import ValidationError

from pipeline.review.batches import ReviewBatch, find_batch
from pipeline.review.scoring import EditScorer
from pipeline.review.store import REASONS, DecisionIn, Event, ReviewStore, Token

COOKIE = "leakless_review"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # one path segment, no dot-dot, no slash


def highlight(text: str, spans: list[str]) -> Markup:
    """The text, escaped, with every leaked span wrapped in <mark>."""
    spans = sorted({span for span in spans if span.strip()}, key=len, reverse=True)
    if not spans:
        return escape(text)
    pattern = re.compile("|".join(re.escape(span) for span in spans), re.IGNORECASE)
    out, last = [], 0
    for match in pattern.finditer(text):
        out += [escape(text[last:match.start()]), Markup("<mark>"), escape(match.group()), Markup("</mark>")]
        last = match.end()
    return Markup("").join(out + [escape(text[last:])])


class Review:
    """What the routes share: the runs folder, the store, the batch cache and the edit scorer."""

    def __init__(self, runs_dir: Path, store: ReviewStore, detector=None):
        self.runs_dir = Path(runs_dir).resolve()
        self.store = store
        self.rescore = EditScorer(detector)
        self._batches: dict[str, ReviewBatch] = {}

    def batch(self, batch_id: str) -> ReviewBatch | None:
        # Exported batches never change (a re-export is refused), so caching them is safe.
        if batch_id not in self._batches:
            found = find_batch(self.runs_dir, batch_id)
            if found is None:
                return None
            self._batches[batch_id] = found
        return self._batches[batch_id]

    def token_of(self, request: Request) -> Token:
        header = request.headers.get("authorization", "")
        raw = header[7:] if header.lower().startswith("bearer ") else None
        token = self.store.token(raw or request.query_params.get("token") or request.cookies.get(COOKIE))
        if token is None:
            raise HTTPException(401, "a valid review token is required", headers={"WWW-Authenticate": "Bearer"})
        return token

    def allowed_batch(self, token: Token, batch_id: str) -> ReviewBatch:
        if not token.allows(batch_id):
            raise HTTPException(403, f"this token is not scoped to batch {batch_id}")
        batch = self.batch(batch_id)
        if batch is None:
            raise HTTPException(404, f"no batch {batch_id}")
        return batch

    def decide(self, token: Token, decision: DecisionIn, source: str = "web") -> Event:
        batch = self.allowed_batch(token, decision.batch_id)
        if decision.pair_id not in batch.items:
            raise HTTPException(404, f"no pair {decision.pair_id} in batch {decision.batch_id}")
        if decision.pair_id not in batch.manifest.pairs_for(token.annotator):
            raise HTTPException(403, f"pair {decision.pair_id} is not assigned to {token.annotator}")
        item = batch.items[decision.pair_id]
        score = self.rescore(item, decision.edited_query) if decision.action == "edit" else None
        return self.store.record(decision, annotator=token.annotator, run_id=item.run_id,
                                 new_leak_score=score, source=source)

    def progress(self, token: Token, batch: ReviewBatch) -> dict:
        mine = {e.pair_id: e for e in self.store.current(batch_id=batch.manifest.batch_id,
                                                         annotator=token.annotator)}
        items = batch.items_for(token.annotator)
        decided = [item for item in items if item.pair_id in mine]
        return {"batch_id": batch.manifest.batch_id, "run_id": batch.manifest.run_id, "total": len(items),
                "decided": len(decided), "skipped": sum(mine[i.pair_id].action == "skip" for i in decided),
                "decisions": mine}

    def image(self, token: Token, run_id: str, name: str) -> Path:
        if not (SAFE_NAME.match(run_id) and SAFE_NAME.match(name)):
            raise HTTPException(400, "bad image path")
        if not any((found := self.batch(b)) and found.manifest.run_id == run_id for b in token.batches):
            raise HTTPException(403, f"this token has no batch of run {run_id}")
        folder = (self.runs_dir / run_id / "images").resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise HTTPException(404, "no such image")
        return path


def create_app(runs_dir: Path, store: ReviewStore | None = None, detector=None) -> FastAPI:
    review = Review(runs_dir, store or ReviewStore.for_runs(runs_dir), detector)
    environment = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
    environment.filters["highlight"] = highlight
    templates = Jinja2Templates(env=environment)
    app = FastAPI(title="leakless review")
    app.state.review = review
    token_of = review.token_of

    @app.middleware("http")
    async def token_to_cookie(request: Request, call_next):
        """A browser's `?token=` is swapped for a cookie and stripped from the address bar."""
        raw = request.query_params.get("token")
        if request.method == "GET" and raw and review.store.token(raw):
            response = RedirectResponse(request.url.remove_query_params("token"), status_code=303)
            response.set_cookie(COOKIE, raw, httponly=True, samesite="strict")
            return response
        return await call_next(request)

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, token: Token = Depends(token_of)):
        batches = [review.progress(token, batch) for b in token.batches if (batch := review.batch(b))]
        return templates.TemplateResponse(request, "index.html.j2", {"token": token, "batches": batches})

    @app.get("/batch/{batch_id}")
    def first_open(batch_id: str, token: Token = Depends(token_of)):
        batch = review.allowed_batch(token, batch_id)
        done = review.progress(token, batch)["decisions"]
        items = batch.items_for(token.annotator)
        index = next((i for i, item in enumerate(items) if item.pair_id not in done), 0)
        return RedirectResponse(f"/batch/{batch_id}/{index}", status_code=303)

    @app.get("/batch/{batch_id}/{index}", response_class=HTMLResponse)
    def item_page(request: Request, batch_id: str, index: int, token: Token = Depends(token_of)):
        batch = review.allowed_batch(token, batch_id)
        items = batch.items_for(token.annotator)
        if not 0 <= index < len(items):
            raise HTTPException(404, "no such item")
        progress = review.progress(token, batch)
        item = items[index]
        return templates.TemplateResponse(request, "item.html.j2", {
            "token": token, "batch": batch, "item": item, "index": index, "total": len(items),
            "progress": progress, "decision": progress["decisions"].get(item.pair_id), "reasons": REASONS,
        })

    @app.post("/batch/{batch_id}/{index}")
    async def item_submit(request: Request, batch_id: str, index: int, token: Token = Depends(token_of)):
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8")).items()}
        items = review.allowed_batch(token, batch_id).items_for(token.annotator)
        if not 0 <= index < len(items):
            raise HTTPException(404, "no such item")
        try:
            decision = DecisionIn(batch_id=batch_id, pair_id=items[index].pair_id, action=form.get("action", ""),
                                  reason=form.get("reason") or None, edited_query=form.get("edited_query"))
        except ValidationError as error:
            raise HTTPException(400, error.errors()[0]["msg"]) from None
        review.decide(token, decision)
        following = index if decision.action == "edit" else min(index + 1, len(items) - 1)
        return RedirectResponse(f"/batch/{batch_id}/{following}", status_code=303)

    @app.get("/image/{run_id}/{name}")
    def image(run_id: str, name: str, token: Token = Depends(token_of)):
        return FileResponse(review.image(token, run_id, name), media_type="image/png")

    @app.get("/api/batches")
    def api_batches(token: Token = Depends(token_of)) -> list[dict]:
        found = [review.progress(token, batch) for b in token.batches if (batch := review.batch(b))]
        return [{key: value for key, value in p.items() if key != "decisions"} for p in found]

    @app.get("/api/batches/{batch_id}")
    def api_batch(batch_id: str, token: Token = Depends(token_of)) -> dict:
        batch = review.allowed_batch(token, batch_id)
        return {"manifest": batch.manifest, "items": batch.items_for(token.annotator)}

    @app.get("/api/batches/{batch_id}/decisions")
    def api_decisions(batch_id: str, token: Token = Depends(token_of)) -> list[Event]:
        return list(review.progress(token, review.allowed_batch(token, batch_id))["decisions"].values())

    @app.post("/api/decisions", status_code=201)
    def api_decide(decision: DecisionIn, token: Token = Depends(token_of)) -> Event:
        return review.decide(token, decision)

    return app
