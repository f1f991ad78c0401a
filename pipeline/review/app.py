"""The review web app: server-rendered pages for annotators and a JSON API under /api.

Auth (`auth.py`): a per-annotator token scoped to batches, as `Authorization:
Bearer` for the API; in a browser `?token=` once, swapped for a session cookie.
An edited query is re-checked like any candidate (`scoring.py`): re-scored by
the pipeline's leak detector and run through the harm check's text rules. An
edit that leaks or fails the harm check is shown with its spans and a warning,
and counts only with an explicit override and reason; an over-long one is refused.
Browser decisions are recorded with source `web`, API calls with source `api`.
"""

from __future__ import annotations

import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
import pyarrow.parquet as pq

from pipeline.review import auth
from pipeline.review.batches import ReviewBatch
from pipeline.review.decision_conflicts import DecisionChanged, RequestIdReused
from pipeline.review.decisions import REASONS, DecisionIn, Event
from pipeline.review.forms import (DecisionRefused, EditNeedsOverride, check_form_pair, check_image_seen, check_shown,
                                   conflict_note, decision_of, highlight, image_state_shown_again, kept_edit,
                                   new_request_id, request_id_of, saved_note, shown_of)
from pipeline.review.scoring import edit_limit
from pipeline.review.service import Review, next_open
from pipeline.review.store import ReviewStore, Token
from pipeline.writers.shard_reader import shard_columns, shard_paths

PLACEHOLDER_BACKEND = "placeholder"  # the offline image backend's grid, not a picture of anything


def placeholder_pairs(run_dir: Path) -> frozenset[str]:
    """The run's pairs whose image is a placeholder grid (its shards' `image_backend`); none for a run
    whose shards do not record it."""
    shards = shard_paths(run_dir)
    if not shards or "image_backend" not in pq.read_schema(shards[0]).names:
        return frozenset()
    frame = shard_columns(run_dir, ["id", "image_backend"])
    return frozenset(frame.loc[frame["image_backend"] == PLACEHOLDER_BACKEND, "id"])


def create_app(runs_dir: Path, store: ReviewStore | None = None, detector=None, warm: bool = False) -> FastAPI:
    """`warm=True` loads the detector at start-up, so the first edit does not wait for it."""
    review = Review(runs_dir, store or ReviewStore.for_runs(runs_dir), detector)
    environment = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True)
    environment.filters["highlight"] = highlight
    templates = Jinja2Templates(env=environment)
    placeholders: dict[str, frozenset[str]] = {}  # run id -> its placeholder pairs (a finished run's shards never change)

    def has_placeholder_image(item) -> bool:
        if item.run_id not in placeholders:
            placeholders[item.run_id] = placeholder_pairs(review.runs_dir / item.run_id)
        return item.pair_id in placeholders[item.run_id]

    @asynccontextmanager
    async def lifespan(_app):
        if warm:
            await run_in_threadpool(review.rescore.warm)
        yield

    # no /docs or /redoc: unauthenticated, and their pages load scripts from a CDN the CSP refuses
    app = FastAPI(title="leakless review", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = review

    def api_token(request: Request) -> Token:
        return auth.api_token(request, review.store)

    def browser_token(request: Request) -> Token:
        return auth.browser_token(request, review.store)

    def any_token(request: Request) -> Token:
        """Read-only routes (images) take either: a Bearer token or a browser session."""
        return api_token(request) if auth.bearer(request) else browser_token(request)

    def page(request: Request, name: str, context: dict, status_code: int = 200):
        session = request.cookies.get(auth.COOKIE)
        context = {"csrf": auth.csrf_token(session) if session else "", "token": None,
                   "csp_nonce": request.state.csp_nonce, **context}
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, error: HTTPException):
        """Browsers get an HTML page; the API keeps its JSON."""
        if request.url.path.startswith("/api/"):
            return await http_exception_handler(request, error)
        return page(request, "error.html.j2", {"status": error.status_code, "detail": error.detail},
                    status_code=error.status_code)

    @app.exception_handler(EditNeedsOverride)
    async def needs_override(request: Request, error: EditNeedsOverride):
        check = error.check
        return JSONResponse(status_code=409, content={
            "detail": f"the edit needs an override_reason: {error}", "new_leak_score": check.score,
            "leak_threshold": check.threshold, "leak_spans": list(check.spans), "harm_verdict": check.harm_verdict,
            "harm_reason": check.harm_reason, "problems": list(check.problems)})

    @app.exception_handler(DecisionRefused)
    async def decision_refused(request: Request, error: DecisionRefused):
        return await error_page(request, HTTPException(400, str(error)))

    @app.exception_handler(DecisionChanged)
    async def decision_changed(request: Request, error: DecisionChanged):
        """A browser is told what is saved now and gets the item's address to open by GET: reloading
        this page would post the refused form again."""
        if request.url.path.startswith("/api/"):
            return await error_page(request, HTTPException(409, str(error)))
        return page(request, "error.html.j2", {"status": 409, "detail": conflict_note(error),
                                               "item_url": request.url.path}, status_code=409)

    @app.exception_handler(RequestIdReused)
    async def request_id_reused(request: Request, error: RequestIdReused):
        return await error_page(request, HTTPException(409, str(error)))

    @app.middleware("http")
    async def url_token_to_session(request: Request, call_next):
        """A GET with `?token=` opens a session and redirects to the same address without the token.
        A browser signed in as someone else is asked before switching (no silent login CSRF)."""
        raw = request.query_params.get("token")
        if raw is None:
            return await call_next(request)
        token = review.store.token(raw) if request.method == "GET" else None
        if token is None:
            problem = ("this review link is not valid (revoked or mistyped)" if request.method == "GET"
                       else "a token is never taken from the address of a POST: use the Authorization header")
            return await error_page(request, HTTPException(401, problem))
        url = request.url.remove_query_params("token")
        clean = auth.same_site_path(url.path) + (f"?{url.query}" if url.query else "")
        current = review.store.session(request.cookies.get(auth.COOKIE))
        if current is not None and current.token_hash != token.token_hash:
            return page(request, "switch.html.j2", {"current": current, "new": token, "raw": raw, "next": clean},
                        status_code=409)
        response = RedirectResponse(clean, status_code=303)
        if current is None:
            auth.set_session_cookie(response, request, review.store.open_session(token))
        return response

    @app.middleware("http")  # added last, so it runs first: the pages above render with its nonce
    async def with_security_headers(request: Request, call_next):
        request.state.csp_nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        response.headers.update(auth.security_headers(request.state.csp_nonce))
        return response

    async def form_of(request: Request) -> dict[str, str]:
        form = {key: values[0] for key, values in parse_qs((await request.body()).decode("utf-8")).items()}
        auth.check_csrf(request, form)
        return form

    @app.post("/switch")
    async def switch(request: Request):
        form = await form_of(request)
        token = review.store.token(form.get("token"))
        if token is None:
            raise HTTPException(401, "this review link is not valid (revoked or mistyped)")
        response = RedirectResponse(auth.same_site_path(form.get("next", "/")), status_code=303)
        auth.set_session_cookie(response, request, review.store.open_session(token))
        return response

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, token: Token = Depends(browser_token)):
        batches = [review.progress(token, batch) for b in token.batches if (batch := review.batch(b))]
        return page(request, "index.html.j2", {"token": token, "batches": batches})

    @app.get("/batch/{batch_id}")
    def first_open(batch_id: str, token: Token = Depends(browser_token)):
        batch = review.allowed_batch(token, batch_id)
        index = next_open(batch.items_for(token.annotator), review.progress(token, batch)["decisions"], -1)
        return RedirectResponse(f"/batch/{batch_id}/{'done' if index is None else index}", status_code=303)

    @app.get("/batch/{batch_id}/done", response_class=HTMLResponse)
    def batch_done(request: Request, batch_id: str, saved: int | None = None,
                   token: Token = Depends(browser_token)):
        batch = review.allowed_batch(token, batch_id)
        progress = review.progress(token, batch)
        return page(request, "done.html.j2", {"token": token, "progress": progress,
                                              "saved": saved_note(progress, batch.items_for(token.annotator), saved)})

    def item_context(token: Token, batch: ReviewBatch, index: int, saved: int | None = None,
                     image_state: str = "unseen") -> dict:
        items = batch.items_for(token.annotator)
        if not 0 <= index < len(items):
            raise HTTPException(404, "no such item")
        progress = review.progress(token, batch)
        decision = progress["decisions"].get(items[index].pair_id)
        return {"token": token, "batch": batch, "item": items[index], "index": index, "total": len(items),
                "progress": progress, "decision": decision,
                "shown": decision.id if decision else 0, "request_id": new_request_id(),
                "reasons": REASONS, "flagged": None,
                "override_ticked": False, "problem": None, "draft": None,
                "edit_limit": edit_limit(items[index]), "saved": saved_note(progress, items, saved),
                "placeholder_image": has_placeholder_image(items[index]), "image_state": image_state,
                "terms_note": review.rescore.terms_note(items[index])}

    @app.get("/batch/{batch_id}/{index}", response_class=HTMLResponse)
    def item_page(request: Request, batch_id: str, index: int, saved: int | None = None, image: str | None = None,
                  token: Token = Depends(browser_token)):
        """`?image=seen`: an annotator without JavaScript says they can see the image (the page cannot tell)."""
        return page(request, "item.html.j2", item_context(token, review.allowed_batch(token, batch_id), index, saved,
                                                          image_state="seen" if image == "seen" else "unseen"))

    @app.post("/batch/{batch_id}/{index}")
    async def item_submit(request: Request, batch_id: str, index: int, token: Token = Depends(browser_token)):
        form = await form_of(request)
        batch = review.allowed_batch(token, batch_id)
        context = item_context(token, batch, index)
        check_form_pair(form, context["item"], index)
        shown = shown_of(form)
        try:
            check_shown(context["item"].pair_id, context["decision"], shown)
        except DecisionChanged:
            # a form sent again after its answer was lost (a browser resends a POST on a reset
            # connection): the store answers it with what it recorded the first time
            if not review.store.recorded_request(token.annotator, request_id_of(form)):
                raise
        if form.get("action") == "keep":
            form = kept_edit(form, context["decision"])
        # the forms of a page shown again (flagged, refused) name the decision the posted form named, not one
        # read afresh: an override form must never turn a stale page into a current one
        context["shown"], context["image_state"] = shown, image_state_shown_again(form)
        try:
            check_image_seen(form)  # in here: a refused edit is shown again with its text kept
            event = review.decide(token, decision_of(form, batch_id, context["item"].pair_id), shown=shown)
        except RequestIdReused:  # this page's request id recorded another decision: the page is stale
            raise DecisionChanged(context["item"].pair_id, context["decision"], from_this_page=True) from None
        except EditNeedsOverride as flagged:
            return page(request, "item.html.j2", {**context, "flagged": flagged,
                                                  "override_ticked": bool(form.get("override"))}, status_code=409)
        except DecisionRefused as refused:  # the item again, with what to fix and the annotator's text kept
            draft = form.get("edited_query") if form.get("action") == "edit" else None
            return page(request, "item.html.j2", {**context, "problem": str(refused), "draft": draft},
                        status_code=400)
        # every decision, an edit too, moves on to the next undecided pair, which says what was saved
        following = next_open(batch.items_for(token.annotator), review.progress(token, batch)["decisions"], index)
        return RedirectResponse(f"/batch/{batch_id}/{'done' if following is None else following}?saved={event.id}",
                                status_code=303)

    @app.get("/image/{run_id}/{name}")
    def image(run_id: str, name: str, token: Token = Depends(any_token)):
        return FileResponse(review.image(token, run_id, name), media_type="image/png")

    @app.get("/api/batches")
    def api_batches(token: Token = Depends(api_token)) -> list[dict]:
        found = [review.progress(token, batch) for b in token.batches if (batch := review.batch(b))]
        return [{key: value for key, value in p.items() if key != "decisions"} for p in found]

    @app.get("/api/batches/{batch_id}")
    def api_batch(batch_id: str, token: Token = Depends(api_token)) -> dict:
        batch = review.allowed_batch(token, batch_id)
        return {"manifest": batch.manifest, "items": batch.items_for(token.annotator)}

    @app.get("/api/batches/{batch_id}/decisions")
    def api_decisions(batch_id: str, token: Token = Depends(api_token)) -> list[Event]:
        return list(review.progress(token, review.allowed_batch(token, batch_id))["decisions"].values())

    @app.post("/api/decisions", status_code=201)
    def api_decide(decision: DecisionIn, token: Token = Depends(api_token)) -> Event:
        return review.decide(token, decision, source="api")

    return app
