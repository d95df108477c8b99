"""HTTP API: ``POST /translate``, ``POST /attention``, ``GET /health``, the page at ``/``, the OpenAPI schema at
``/openapi.json`` (no docs pages: FastAPI's load their scripts from a CDN, which offline servers cannot reach).
Every error is answered with an RFC 9457 problem details body: ``type``, ``title``, ``status`` and ``detail``, one
string that says what is wrong.

Concurrent requests with the same options are gathered for a short window and translated as one batch, in a
worker thread, so that the event loop never waits on the model and a burst of small requests costs about as
much as one large one. A request that waits longer than its timeout gets 504; when more texts are waiting than
the queue allows, new requests get 503 at once instead of waiting behind them.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import resources

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from honyaku import __version__
from honyaku.core.config import MAX_INPUT_CHARS
from honyaku.core.errors import HonyakuError, needs_extra
from honyaku.data.sentences import split_sentences
from honyaku.data.text import clean
from honyaku.inference.engine import search_options_problem
from honyaku.inference.pretrained import Routing, route
from honyaku.inference.translator import Translation, Translator


class TranslateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="one text to translate")
    texts: list[str] | None = Field(None, description="several texts, translated in order")
    direction: str | None = Field(
        None, description="e.g. 'en-ja'; left out, each text's is detected from its script (see /health)"
    )
    beam_size: int | None = Field(None, ge=1, le=32, description="default: the model's config")
    n_best: int = Field(1, ge=1, le=32, description="translations per text, best first")
    pretokenized: bool = Field(False, description="texts and translations are corpus-style tokens")
    split_sentences: bool = Field(True, description="translate a text of several sentences a sentence at a time")

    @model_validator(mode="after")
    def one_of_text_and_texts(self) -> TranslateRequest:
        if (self.text is None) == (self.texts is None):
            raise ValueError("give either 'text' or 'texts'")
        if self.texts == []:
            raise ValueError("texts: an empty list; give at least one text")
        if problem := search_options_problem(self.n_best, self.beam_size):
            raise ValueError(problem)
        return self

    @property
    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])


class AttentionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    direction: str | None = None
    beam_size: int | None = Field(None, ge=1, le=32)
    rank: int = Field(0, ge=0, le=31, description="which translation of the n-best list: 0 is the best")
    sentence: int = Field(0, ge=0, description="which sentence of a text of several: 0 is the first")
    pretokenized: bool = False


class AttentionResponse(BaseModel):
    source: list[str]
    target: list[str]
    weights: list[list[float]] = Field(description="one row per target token, one column per source token")
    title: str
    sentences: int = Field(description="how many sentences the text holds (translated one at a time)")


class Candidate(BaseModel):
    text: str
    score: float


class TranslationResult(BaseModel):
    direction: str | None = Field(
        description="the direction it was translated in: as asked, or detected from the text; left out where no "
        "model here reads its language, and the text comes back as it is"
    )
    language: str | None = Field(
        None, description="the language the text reads as (BCP 47: en, ja, ko, …), where it has letters"
    )
    warning: str | None = Field(None, description="why the text was not translated, or not as asked")
    translation: str
    score: float = Field(description="log-probability over the length penalty")
    n_best: list[Candidate] | None = None


class TranslateResponse(BaseModel):
    direction: str = Field(description="the direction of every text, or 'mixed' where they differ")
    translations: list[TranslationResult]
    elapsed_ms: float = Field(description="the server's time on the request, waiting for a batch included")


@dataclass
class Limits:
    max_chars: int = MAX_INPUT_CHARS  # per text; more → 413
    max_texts: int = 64  # per request; more → 413
    batch_wait_s: float = 0.005  # how long the first request of a batch waits for others
    max_batch_texts: int = 256
    timeout_s: float = 30.0  # a request not answered by then gets 504
    max_waiting_texts: int = 4096  # texts queued or in translation; a request beyond → 503


@dataclass
class _Job:
    texts: list[str]
    options: tuple[int | None, int, bool, bool]  # beam_size, n_best, pretokenized, split_sentences
    future: asyncio.Future


@dataclass
class BatchingTranslator:
    """Serialises model work in one worker thread, translating requests that arrive together as one batch."""

    translator: Translator
    limits: Limits
    batches: int = 0
    jobs: int = 0
    _queue: asyncio.Queue | None = field(default=None, repr=False)
    _worker: asyncio.Task | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # one piece of model work at a time

    received_texts: int = 0  # since the start: a request's texts count once they are taken
    waiting_texts: int = 0  # queued or in translation

    async def translate(self, texts: list[str], options: tuple[int | None, int, bool, bool]) -> list[list[Translation]]:
        if self.waiting_texts + len(texts) > self.limits.max_waiting_texts:
            raise HTTPException(
                503, f"busy: {self.waiting_texts} texts are waiting; try again shortly", {"Retry-After": "1"}
            )
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._work())
        future = asyncio.get_running_loop().create_future()
        self.received_texts += len(texts)
        self.waiting_texts += len(texts)
        try:
            await self._queue.put(_Job(texts, options, future))
            return await _within_timeout(future, self.limits.timeout_s)  # a timeout cancels the future
        finally:
            self.waiting_texts -= len(texts)

    async def run_alone(self, function, *args):
        """Run other model work (e.g. attention maps) in the worker thread, never beside a batch."""

        async def locked():
            await self._lock.acquire()
            work = asyncio.create_task(asyncio.to_thread(function, *args))
            work.add_done_callback(lambda _: self._lock.release())  # held until the thread ends, timeout or not
            return await asyncio.shield(work)

        return await _within_timeout(locked(), self.limits.timeout_s)

    async def _work(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            deadline = time.monotonic() + self.limits.batch_wait_s
            while sum(len(job.texts) for job in jobs) < self.limits.max_batch_texts:
                try:
                    jobs.append(await asyncio.wait_for(self._queue.get(), deadline - time.monotonic()))
                except TimeoutError:
                    break
            async with self._lock:
                for options in {job.options for job in jobs}:
                    waiting = [job for job in jobs if job.options == options and not job.future.done()]
                    if waiting:  # requests that timed out meanwhile are not translated
                        await self._run(waiting, options)

    async def _run(self, jobs: list[_Job], options: tuple[int | None, int, bool, bool]) -> None:
        beam_size, n_best, pretokenized, split = options
        texts = [text for job in jobs for text in job.texts]
        try:
            found = await asyncio.to_thread(
                self.translator.translate_n_best, texts, n_best, beam_size, pretokenized, split
            )
        except Exception as error:  # handed to each waiting request, which answers for it
            for job in jobs:
                if not job.future.done():
                    job.future.set_exception(error)
            return
        self.batches += 1
        self.jobs += len(jobs)
        start = 0
        for job in jobs:
            if not job.future.done():  # else it timed out while being translated
                job.future.set_result(found[start : start + len(job.texts)])
            start += len(job.texts)


async def _within_timeout(awaitable, seconds: float):
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        raise HTTPException(
            504, f"no answer within the server's timeout of {seconds:g} s; try fewer or shorter texts"
        ) from None


@dataclass
class Service:
    """What the API's routes share: a batching translator per direction, the limits, and the direction each text
    goes (the one asked for, else the only one served, else the one that reads the text's language)."""

    batchers: dict[str, BatchingTranslator]
    limits: Limits

    @property
    def directions(self) -> list[tuple[str, str]]:
        return [tuple(direction.split("-")) for direction in sorted(self.batchers)]

    def routed(self, direction: str | None, text: str) -> Routing:
        """The routing of ``text`` (``honyaku.inference.pretrained.route``: a text that no model reads is not
        translated, and says why)."""
        if direction is not None and direction not in self.batchers:
            allowed = ", ".join(sorted(self.batchers))
            raise HTTPException(422, f"direction: {direction!r} is not served; allowed values: {allowed}")
        served = self.directions
        pinned = tuple(direction.split("-")) if direction else served[0] if len(served) == 1 else None
        return route(text, served, pinned)

    def check_lengths(self, texts: list[str]) -> None:
        limit = self.limits.max_chars
        for number, text in enumerate(texts, start=1):
            if len(text) > limit:
                raise HTTPException(413, f"text {number} has {len(text)} characters; the limit is {limit}")

    async def health(self) -> dict[str, object]:
        batchers = self.batchers
        return {
            "status": "ok",
            "directions": sorted(batchers),
            "engines": {direction: batchers[direction].translator.engine_choice for direction in sorted(batchers)},
            "max_chars": self.limits.max_chars,
            "texts": {
                d: {"received": b.received_texts, "waiting": b.waiting_texts} for d, b in sorted(batchers.items())
            },
        }

    async def translate(self, request: TranslateRequest) -> TranslateResponse:
        """Translations of each text, each from its own language unless a direction is asked for."""
        start = time.perf_counter()
        texts = request.all_texts
        if len(texts) > self.limits.max_texts:
            raise HTTPException(413, f"{len(texts)} texts in one request; the limit is {self.limits.max_texts}")
        self.check_lengths(texts)
        routings = [self.routed(request.direction, text) for text in texts]
        directions = ["-".join(r.direction) if r.direction is not None else None for r in routings]
        options = (request.beam_size, request.n_best, request.pretokenized, request.split_sentences)
        # a batch of several directions goes to each direction's model, all at once, and comes back in order
        groups = {d: [i for i, found in enumerate(directions) if found == d] for d in set(directions) if d is not None}
        try:
            answers = await asyncio.gather(
                *(self.batchers[d].translate([texts[i] for i in group], options) for d, group in groups.items())
            )
        except HonyakuError as error:
            raise HTTPException(422, str(error)) from None
        found: list = [[Translation(clean(text), 0.0)] for text in texts]  # a text that no model reads, as it is
        for group, answer in zip(groups.values(), answers):
            for i, candidates in zip(group, answer):
                found[i] = candidates
        results = [result(d, r, candidates, request.n_best) for d, r, candidates in zip(directions, routings, found)]
        return TranslateResponse(
            direction=directions[0] if len(set(directions)) == 1 and directions[0] else "mixed",
            translations=results,
            elapsed_ms=round((time.perf_counter() - start) * 1000, 1),
        )

    async def attention(self, request: AttentionRequest) -> AttentionResponse:
        """Attention weights of a translation (LSTM attention, or Transformer cross-attention averaged over heads)."""
        routing = self.routed(request.direction, request.text)
        if routing.direction is None:
            raise HTTPException(422, f"the text {routing.warning}")
        batcher = self.batchers["-".join(routing.direction)]
        self.check_lengths([request.text])
        sentences = [request.text]
        if not request.pretokenized:
            source_language = batcher.translator.direction[0]
            sentences = [s for line in split_sentences(request.text, source_language) for s in line] or [""]
        if request.sentence >= len(sentences):
            raise HTTPException(
                422, f"sentence: the text's sentences are numbered 0 to {len(sentences) - 1}; got {request.sentence}"
            )
        try:
            with needs_extra("drawing attention maps"):
                from honyaku.inference.heatmap import attention_map  # PyTorch: the light install answers 501
        except HonyakuError as error:
            raise HTTPException(501, str(error)) from None
        arguments = (sentences[request.sentence], request.beam_size, None, None, request.pretokenized, request.rank)
        try:
            found = await batcher.run_alone(attention_map, batcher.translator, *arguments)
        except HonyakuError as error:
            raise HTTPException(422, str(error)) from None
        weights = found.weights.tolist()
        return AttentionResponse(
            source=found.source, target=found.target, weights=weights, title=found.title, sentences=len(sentences)
        )


def result(direction: str | None, routing: Routing, candidates: list[Translation], n_best: int) -> TranslationResult:
    """A text's part of the answer: its best translation (n-best list, where asked for) and how it was routed."""
    return TranslationResult(
        direction=direction,
        language=routing.language.code if routing.language is not None else None,
        warning=routing.warning,
        translation=candidates[0].text,
        score=candidates[0].score,
        n_best=[Candidate(text=c.text, score=c.score) for c in candidates] if n_best > 1 else None,
    )


def create_app(translators: list[Translator], limits: Limits | None = None) -> FastAPI:
    """The API over one model per translation direction: its error handlers, the page and the service's routes."""
    limits = limits or Limits()
    service = Service({"-".join(t.direction): BatchingTranslator(t, limits) for t in translators}, limits)
    app = FastAPI(
        title="honyaku", summary="Neural machine translation", version=__version__, docs_url=None, redoc_url=None
    )
    app.state.batchers = service.batchers
    add_problem_handlers(app)
    add_page(app)
    app.get("/health")(service.health)
    app.post("/attention", response_model=AttentionResponse)(service.attention)
    app.post("/translate", response_model=TranslateResponse, response_model_exclude_none=True)(service.translate)
    return app


def add_problem_handlers(app: FastAPI) -> None:
    """Every error as a problem details body (``problem``), FastAPI's own and the request validator's too."""

    @app.exception_handler(StarletteHTTPException)
    async def http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return problem(error.status_code, str(error.detail), getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(422, "; ".join(validation_message(found) for found in error.errors()))


def add_page(app: FastAPI) -> None:
    """The web page at ``/`` and its icon, from the package (``honyaku/web/``): nothing loaded from elsewhere."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> str:
        return (resources.files("honyaku") / "web" / "index.html").read_text(encoding="utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        icon = (resources.files("honyaku") / "web" / "favicon.svg").read_bytes()
        return Response(icon, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An RFC 9457 problem details response: every error of the API has this one shape."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/problem+json")


def validation_message(error: dict) -> str:
    """One of pydantic's complaints about a request, in one line: where (a field's name), then what."""
    where = ".".join(str(part) for part in error.get("loc", ())[1:] if not isinstance(part, int) or part)
    message = str(error.get("msg", "invalid request")).removeprefix("Value error, ")
    return f"{where}: {message}" if where and error.get("type") != "json_invalid" else message


def serve(
    model_dirs: list[str],
    host: str = "127.0.0.1",
    port: int = 8000,
    limits: Limits | None = None,
    device: str = "auto",
    dtype: str = "float32",
    backend: str = "auto",
) -> None:
    import uvicorn

    translators = [Translator.load(directory, device=device, dtype=dtype, backend=backend) for directory in model_dirs]
    directions = ["-".join(t.direction) for t in translators]
    if len(set(directions)) != len(directions):
        raise HonyakuError(f"one model per direction, got {', '.join(directions)}")
    limits = limits or Limits()
    # On SIGTERM or Ctrl-C uvicorn stops accepting connections and lets requests in flight finish; none runs
    # longer than the request timeout.
    app = create_app(translators, limits)
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=math.ceil(limits.timeout_s) + 1)
