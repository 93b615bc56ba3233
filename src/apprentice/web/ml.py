"""The ML engineer's pages (purpose ``model_training``): dataset versions with statistics
charts, building a new version with filters (progress shown), and the episode viewer that
steps through pre/post screenshots with the action drawn on them.

Datasets are redacted and pseudonymous: nothing here names a contributor.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from apprentice.server.deps import Access, authorize, form_fields
from apprentice.server.problems import ApiError
from apprentice.web import viewer
from apprentice.web.app import portal_of
from apprentice.web.render import SECURITY_HEADERS, page
from apprentice.web.seams import BuildFilters

router = APIRouter(prefix="/datasets")
PURPOSE = "model_training"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
Read = Annotated[Access, authorize("read", "Dataset", page_purpose=PURPOSE)]
Write = Annotated[Access, authorize("write", "Dataset", page_purpose=PURPOSE)]


@router.get("")
async def datasets(access: Read, request: Request) -> Response:
    versions = await run_in_threadpool(portal_of(request).datasets.versions)
    return page(request, "ml/datasets.html", access, title="Datasets", versions=versions, error=None)


@router.post("/build")
async def build(access: Write, request: Request) -> Response:
    fields = await form_fields(request)
    apps = tuple(a.strip() for a in fields.get("apps", "").split(",") if a.strip())
    min_steps = int(fields["min_steps"]) if fields.get("min_steps", "").isdigit() else 1
    filters = BuildFilters(fields.get("source", ""), apps, fields.get("outcome") or None, min_steps)
    catalog = portal_of(request).datasets
    try:
        job = await run_in_threadpool(catalog.build, filters)
    except (KeyError, ValueError):
        versions = await run_in_threadpool(catalog.versions)
        return page(request, "ml/datasets.html", access, title="Datasets", versions=versions, status=422,
                    error="Choose a dataset version to build from.")
    return RedirectResponse(f"/datasets/jobs/{job.id}", status_code=303, headers=SECURITY_HEADERS)


def _job(request: Request, job_id: str) -> object:
    try:
        return portal_of(request).datasets.job(job_id)
    except KeyError:
        raise ApiError(404, "not_found", "no such build") from None


@router.get("/jobs/{job_id}")
async def job_page(access: Read, request: Request,
                   job_id: str = Path(pattern=r"^[a-z0-9-]{1,64}$")) -> Response:
    return page(request, "ml/job.html", access, title="Building a dataset", job=_job(request, job_id))


@router.get("/jobs/{job_id}/progress")
async def job_progress(access: Read, request: Request,
                       job_id: str = Path(pattern=r"^[a-z0-9-]{1,64}$")) -> Response:
    return JSONResponse(asdict(_job(request, job_id)), headers=SECURITY_HEADERS)  # type: ignore[call-overload]


def _folder(request: Request, name: str, version: str) -> object:
    try:
        return portal_of(request).datasets.folder(name, version)
    except KeyError:
        raise ApiError(404, "not_found", "no such dataset version") from None


@router.get("/{name}/{version}")
async def dataset(access: Read, request: Request, name: str = Path(pattern=_NAME),
                  version: str = Path(pattern=_NAME)) -> Response:
    folder = _folder(request, name, version)
    versions = await run_in_threadpool(portal_of(request).datasets.versions)
    info = next(v for v in versions if (v.name, v.version) == (name, version))
    episodes = await run_in_threadpool(viewer.list_episodes, folder)
    lengths: dict[str, int] = {}
    for e in episodes:
        n = int(e.get("num_steps") or 0)
        bucket = "1-4" if n < 5 else "5-9" if n < 10 else "10-19" if n < 20 else "20+"
        lengths[bucket] = lengths.get(bucket, 0) + 1
    charts = [("Actions by type", viewer.bars(info.action_mix)),
              ("Episodes by outcome", viewer.bars(info.outcomes)),
              ("Episodes by number of steps", viewer.bars(lengths))]
    return page(request, "ml/dataset.html", access, title=f"Dataset {name}/{version}", info=info,
                episodes=episodes, charts=charts)


@router.get("/{name}/{version}/episodes/{episode_id}")
async def episode(access: Read, request: Request, name: str = Path(pattern=_NAME),
                  version: str = Path(pattern=_NAME),
                  episode_id: str = Path(pattern=r"^[0-9a-f]{16}$")) -> Response:
    folder = _folder(request, name, version)
    try:
        steps = await run_in_threadpool(viewer.episode_steps, folder, episode_id)
    except KeyError:
        raise ApiError(404, "not_found", "no such episode in this dataset") from None
    raw = request.query_params.get("step", "0")
    index = min(max(int(raw) if raw.isdigit() else 0, 0), len(steps) - 1)
    return page(request, "ml/episode.html", access, title=f"Episode {episode_id}", name=name, version=version,
                episode_id=episode_id, steps=steps, step=steps[index], index=index)


@router.get("/{name}/{version}/images/{image}")
async def image(access: Read, request: Request, name: str = Path(pattern=_NAME),
                version: str = Path(pattern=_NAME),
                image: str = Path(pattern=r"^[0-9a-f]{64}\.(png|webp|jpg)$")) -> Response:
    path = viewer.image_path(_folder(request, name, version), image)  # type: ignore[arg-type]
    if path is None:
        raise ApiError(404, "not_found", "no such image")
    return FileResponse(path, headers={**SECURITY_HEADERS, "Cache-Control": "private, max-age=3600"})
