"""Files: OpenAI-compatible uploads (``/v1/files``), job results
(``/v1/files/jobs/{jobId}/{filename}``), and signed links to results that need no key."""

from __future__ import annotations

import time

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from aigw.errors import InvalidRequest, NotFound
from aigw.files import records
from aigw.files.store import MAX_EXPIRES, MIN_EXPIRES
from aigw.jobs import store as jobs
from aigw.server.appkeys import DATABASE, FILES, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes.common import json_response, query_limit

MAX_FILENAME = 256


async def upload(request: web.Request) -> web.Response:
    key = await authenticate(request)
    if not request.content_type.startswith("multipart/"):
        raise InvalidRequest("Upload files as multipart/form-data.", param="file")
    limit = request.app[SETTINGS].max_body_bytes
    try:
        purpose, filename, data = await _read_form(request, limit)
    except (HttpProcessingError, ValueError, UnicodeDecodeError):
        raise InvalidRequest("The multipart body is malformed.", param="file") from None
    if purpose not in records.PURPOSES:
        raise InvalidRequest(
            f"'purpose' must be one of {', '.join(records.PURPOSES)}.", param="purpose"
        )
    if data is None or filename is None:
        raise InvalidRequest("'file' is required.", param="file")
    file_id = records.new_file_id()
    await request.app[FILES].write(request.app[FILES].upload_key(file_id), data)
    found = await records.add(
        request.app[DATABASE], file_id, key.account_id, purpose, filename[:MAX_FILENAME], len(data)
    )
    return json_response(found, status=200)


async def _read_form(request: web.Request, limit: int) -> tuple[str, str | None, bytes | None]:
    purpose, filename, data = "batch", None, None
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "purpose":
            purpose = (await part.text()).strip()
        elif part.name == "file":
            filename = part.filename or "upload"
            data = bytes(await part.read())
            if len(data) > limit:
                raise InvalidRequest("File is too large.", param="file")
    return purpose, filename, data


async def list_files(request: web.Request) -> web.Response:
    key = await authenticate(request)
    purpose = request.query.get("purpose")
    limit = query_limit(request, default=100, maximum=10_000)
    found = await records.list_for(request.app[DATABASE], key.account_id, purpose, limit)
    return json_response({"object": "list", "data": found, "has_more": False})


async def _owned(request: web.Request) -> tuple[str, str, dict[str, object]]:
    """(account id, file id, record) of a file the caller owns; 404 otherwise."""
    key = await authenticate(request)
    file_id = request.match_info["id"]
    found = await records.get(request.app[DATABASE], key.account_id, file_id)
    if found is None:
        raise NotFound("No such file.", param="id")
    return key.account_id, file_id, found


async def get_file(request: web.Request) -> web.Response:
    return json_response((await _owned(request))[2])


async def delete_file(request: web.Request) -> web.Response:
    account_id, file_id, _ = await _owned(request)
    await records.remove(request.app[DATABASE], account_id, file_id)
    await request.app[FILES].delete(request.app[FILES].upload_key(file_id))
    return json_response({"id": file_id, "object": "file", "deleted": True})


async def file_content(request: web.Request) -> web.StreamResponse:
    _, file_id, _ = await _owned(request)
    files = request.app[FILES]
    gone = NotFound("The file's content is gone.", param="id")
    return await files.serve(request, files.upload_key(file_id), "application/octet-stream", gone)


async def _result(request: web.Request, account_id: str | None) -> tuple[jobs.Job, str]:
    job_id, filename = request.match_info["job_id"], request.match_info["filename"]
    job = await jobs.get(request.app[DATABASE], job_id, account_id)
    if job is None or job.result_file != filename:
        raise NotFound("No such job result.", param="filename")
    return job, filename


async def _serve(request: web.Request, job: jobs.Job, filename: str) -> web.StreamResponse:
    files = request.app[FILES]
    content_type = (job.result or {}).get("content_type") or "application/octet-stream"
    gone = NotFound("No such job result.", param="filename")
    return await files.serve(request, files.job_key(job.id, filename), str(content_type), gone)


async def job_result(request: web.Request) -> web.StreamResponse:
    key = await authenticate(request)
    job, filename = await _result(request, key.account_id)
    return await _serve(request, job, filename)


async def signed_link(request: web.Request) -> web.Response:
    key = await authenticate(request)
    job, filename = await _result(request, key.account_id)
    raw = request.query.get("expires_in", "3600")
    try:
        expires_in = int(raw)
    except ValueError:
        raise InvalidRequest("'expires_in' must be an integer.", param="expires_in") from None
    if not MIN_EXPIRES <= expires_in <= MAX_EXPIRES:
        raise InvalidRequest(
            f"'expires_in' must be between {MIN_EXPIRES} and {MAX_EXPIRES} seconds.",
            param="expires_in",
        )
    expires_at = int(time.time()) + expires_in
    token = request.app[FILES].sign(job.account_id, job.id, filename, expires_at)
    url = (
        f"{job.base_url}/v1/files/jobs/{job.id}/{filename}/public"
        f"?token={token}&exp={expires_at}&k={job.account_id}"
    )
    return json_response({"url": url, "expires_at": expires_at})


async def public_result(request: web.Request) -> web.StreamResponse:
    """No key: the token proves the link was minted by the job's owner and is unexpired."""
    query = request.query
    token, account_id = query.get("token", ""), query.get("k", "")
    try:
        expires_at = int(query.get("exp", ""))
    except ValueError:
        raise InvalidRequest("Invalid or expired signature.", param="token") from None
    job_id, filename = request.match_info["job_id"], request.match_info["filename"]
    valid = request.app[FILES].check(account_id, job_id, filename, expires_at, token)
    if not valid or expires_at < time.time():
        raise InvalidRequest("Invalid or expired signature.", param="token")
    job, filename = await _result(request, account_id)
    return await _serve(request, job, filename)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/files", upload)
    app.router.add_get("/v1/files", list_files)
    app.router.add_get("/v1/files/jobs/{job_id}/{filename}", job_result)
    app.router.add_get("/v1/files/jobs/{job_id}/{filename}/signed", signed_link)
    app.router.add_get("/v1/files/jobs/{job_id}/{filename}/public", public_result)
    app.router.add_get("/v1/files/{id}", get_file)
    app.router.add_delete("/v1/files/{id}", delete_file)
    app.router.add_get("/v1/files/{id}/content", file_content)
