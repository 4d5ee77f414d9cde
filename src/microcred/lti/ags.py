"""Assignment and Grade Services 2.0: reading a course's line items and results from the LMS and
importing them as assessment results, through the gradebook CSV's own import.

The tool first gets an access token from the platform's token URL (Security Framework §4.1,
the ``client_credentials`` grant with a JWT client assertion signed by the registration's tool
key), with the read-only scopes ``lineitem.readonly`` and ``result.readonly``. A line item
stands for the assessment whose code is its ``tag``, ``resourceId`` or ``label``; each result
(``userId``, ``resultScore`` of ``resultMaximum``) is scaled to the assessment's points and
becomes one gradebook row of the learner whose LMS account is linked to that ``userId``.

All or nothing: every remote call has a time-out, and any failure (remote or a bad row) imports
nothing. Results of LMS users who have not opened microcred from the LMS yet are skipped and
counted: without a launch, microcred does not know who they are.
"""

from __future__ import annotations

import csv
import io
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts.service import Principal, get_user, record_audit
from microcred.assessment import imports
from microcred.assessment.awards import Awarder
from microcred.assessment.models import Assessment
from microcred.assessment.rubrics import format_points
from microcred.assessment.service import assessments_for_definition, max_score, require_staff
from microcred.db.base import utcnow
from microcred.lti import claims as c
from microcred.lti import tokens
from microcred.lti.errors import LtiError, PlatformCallFailed
from microcred.lti.models import LtiPlatform, LtiResourceLink, LtiUserLink
from microcred.lti.registrations import get_link, tool_key
from microcred.settings import Settings

TIMEOUT_SECONDS = 10.0
MAX_PAGES = 50
ASSERTION_LIFETIME = 300
LINEITEM_SCOPES = (c.AGS_SCOPE_LINEITEM_READ, c.AGS_SCOPE_LINEITEM)


def client_assertion(platform: LtiPlatform, settings: Settings, now: float) -> str:
    """The JWT the tool authenticates with at the platform's token URL (RFC 7523)."""
    moment = int(now)
    payload = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.auth_token_url,
        "iat": moment,
        "exp": moment + ASSERTION_LIFETIME,
        "jti": secrets.token_urlsafe(16),
    }
    return tokens.sign(payload, tool_key(platform, settings), platform.tool_kid)


def _call(client: httpx.Client, method: str, url: str, what: str, **kw: Any) -> httpx.Response:
    try:
        response = client.request(method, url, **kw)
    except httpx.TimeoutException:
        raise PlatformCallFailed(
            f"The LMS did not answer the {what} request ({url}) within {TIMEOUT_SECONDS:g} "
            "seconds; nothing was imported."
        ) from None
    except httpx.HTTPError as error:
        raise PlatformCallFailed(
            f"The {what} request to the LMS ({url}) failed: {error}; nothing was imported."
        ) from None
    if response.status_code >= 400:
        detail = response.text[:200].strip()
        raise PlatformCallFailed(
            f"The LMS answered the {what} request ({url}) with HTTP {response.status_code}"
            + (f": {detail}" if detail else "")
            + "; nothing was imported."
        )
    return response


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise PlatformCallFailed(
            f"The LMS's {what} answer is not JSON; nothing was imported."
        ) from None


def granted_scopes(offered: list[str]) -> tuple[str, str]:
    """The scopes to ask for: reading line items (``lineitem.readonly``, or the full
    ``lineitem`` scope when that is what the platform offers) and reading results."""
    lineitem = next((s for s in LINEITEM_SCOPES if s in offered), None)
    missing = [
        name
        for name, held in (
            ("lineitem.readonly", lineitem),
            ("result.readonly", c.AGS_SCOPE_RESULT_READ in offered),
        )
        if not held
    ]
    if lineitem is None or missing:
        raise LtiError(
            "The LMS did not grant the tool the AGS scope(s) "
            + ", ".join(missing)
            + ": allow it to read line items and results (grades) in the LMS's tool settings."
        )
    return lineitem, c.AGS_SCOPE_RESULT_READ


def access_token(
    client: httpx.Client, platform: LtiPlatform, settings: Settings, scopes: tuple[str, ...]
) -> str:
    response = _call(
        client,
        "POST",
        platform.auth_token_url,
        "access token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": c.CLIENT_ASSERTION_TYPE,
            "client_assertion": client_assertion(platform, settings, time.time()),
            "scope": " ".join(scopes),
        },
    )
    body = _json(response, "access token")
    token = body.get("access_token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise PlatformCallFailed(
            "The LMS's token answer has no access_token; nothing was imported."
        )
    return token


def _pages(client: httpx.Client, url: str, accept: str, what: str) -> Iterator[Any]:
    """Every page of a container, following ``Link: <…>; rel="next"`` (AGS §3.2.4)."""
    for _ in range(MAX_PAGES):
        response = _call(client, "GET", url, what, headers={"Accept": accept})
        yield _json(response, what)
        following = response.links.get("next", {}).get("url")
        if not following:
            return
        url = following
    raise PlatformCallFailed(f"The LMS's {what} runs past {MAX_PAGES} pages; nothing was imported.")


def _results_url(lineitem_id: str) -> str:
    base, _, query = lineitem_id.partition("?")
    return f"{base.rstrip('/')}/results" + (f"?{query}" if query else "")


@dataclass
class SyncReport:
    line_items: int = 0
    matched: list[str] = field(default_factory=list)  # line item labels imported from
    unmatched: list[str] = field(default_factory=list)  # labels naming no assessment code
    results: int = 0
    unknown_learners: int = 0
    report: imports.ImportReport | None = None

    def summary(self) -> str:
        parts = [f"{self.line_items} line item(s) read, {self.results} grade(s) found"]
        if self.report is not None:
            parts.append(self.report.summary())
        if self.unknown_learners:
            parts.append(
                f"{self.unknown_learners} grade(s) skipped: those learners have not opened "
                "microcred from the LMS yet"
            )
        if self.unmatched:
            parts.append("line items not matching an assessment code: " + ", ".join(self.unmatched))
        return "; ".join(parts) + "."


def _assessment_for(item: dict[str, Any], by_code: dict[str, Assessment]) -> Assessment | None:
    for key in ("tag", "resourceId", "label"):
        value = item.get(key)
        if isinstance(value, str) and value.strip().lower() in by_code:
            return by_code[value.strip().lower()]
    return None


def _score(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def sync_grades(
    session: Session,
    principal: Principal | None,
    settings: Settings,
    organisation: str,
    link_id: str,
    *,
    awarder: Awarder,
    transport: httpx.BaseTransport | None = None,
) -> SyncReport:
    """Read the link's line items and results from the LMS and import them (all or nothing);
    ``principal`` None: the operator (``microcred lti sync``)."""
    link = get_link(session, principal, organisation, link_id)
    require_staff(principal, link.organisation_id)
    if link.definition_id is None:
        raise LtiError("Connect this course link to a credential first (launch it as instructor).")
    if not (link.ags_lineitems_url or link.ags_lineitem_url):
        raise LtiError(
            "The LMS did not offer grade services for this course link (no AGS endpoint in its "
            "launches): enable 'Assignment and Grade Services' for the tool in the LMS."
        )
    scopes = granted_scopes(link.ags_scopes)
    platform = session.get(LtiPlatform, link.platform_id)
    assert platform is not None  # the link cascades with its platform
    by_code = {a.code.lower(): a for a in assessments_for_definition(session, link.definition_id)}
    report = SyncReport()
    with httpx.Client(timeout=TIMEOUT_SECONDS, transport=transport) as client:
        token = access_token(client, platform, settings, scopes)
        client.headers["Authorization"] = f"Bearer {token}"
        items = _line_items(client, link)
        report.line_items = len(items)
        rows = _rows(session, client, platform, items, by_code, report)
    text = _gradebook(rows)
    if rows:
        try:
            report.report = imports.import_results(
                session, principal, link.definition_id, text, awarder=awarder
            )
        except imports.ImportRejected as rejected:
            raise LtiError(_explain(rejected, rows)) from None
    link.last_synced_at = utcnow()
    record_audit(
        session,
        principal,
        "lti.grades.sync",
        organisation_id=link.organisation_id,
        object_type="lti_resource_link",
        object_id=link.id,
        details={
            "line_items": report.line_items,
            "results": report.results,
            "unknown_learners": report.unknown_learners,
            "imported": len(report.report.imported) if report.report else 0,
        },
    )
    return report


def _line_items(client: httpx.Client, link: LtiResourceLink) -> list[dict[str, Any]]:
    """The link's own line items (those of the resource link, or the one the launch named)."""
    if link.ags_lineitems_url:
        found: list[dict[str, Any]] = []
        for page in _pages(client, link.ags_lineitems_url, c.LINEITEM_CONTAINER, "line items"):
            if not isinstance(page, list):
                raise PlatformCallFailed("The LMS's line items answer is not a list.")
            found.extend(item for item in page if isinstance(item, dict))
        own = [i for i in found if i.get("resourceLinkId") in (None, link.resource_link_id)]
        if link.ags_lineitem_url and not any(i.get("id") == link.ags_lineitem_url for i in own):
            own.extend(i for i in found if i.get("id") == link.ags_lineitem_url)
        return own
    assert link.ags_lineitem_url is not None
    response = _call(
        client, "GET", link.ags_lineitem_url, "line item", headers={"Accept": c.LINEITEM}
    )
    item = _json(response, "line item")
    return [item] if isinstance(item, dict) else []


@dataclass(frozen=True)
class _Row:
    email: str
    code: str
    points: float
    comment: str
    label: str
    user_id: str


def _rows(
    session: Session,
    client: httpx.Client,
    platform: LtiPlatform,
    items: list[dict[str, Any]],
    by_code: dict[str, Assessment],
    report: SyncReport,
) -> list[_Row]:
    users = {
        link.subject: link.user_id
        for link in session.scalars(
            select(LtiUserLink).where(LtiUserLink.issuer == platform.issuer)
        )
    }
    rows: list[_Row] = []
    for item in items:
        label = str(item.get("label") or item.get("id") or "line item")
        assessment = _assessment_for(item, by_code)
        if assessment is None or not isinstance(item.get("id"), str):
            report.unmatched.append(label)
            continue
        report.matched.append(label)
        url = _results_url(str(item["id"]))
        for page in _pages(client, url, c.RESULT_CONTAINER, "results"):
            if not isinstance(page, list):
                raise PlatformCallFailed("The LMS's results answer is not a list.")
            for result in page:
                if not isinstance(result, dict):
                    continue
                score = _score(result.get("resultScore"))
                if score is None:
                    continue  # not graded yet
                report.results += 1
                user_id = users.get(str(result.get("userId")))
                if user_id is None:
                    report.unknown_learners += 1
                    continue
                maximum = _score(result.get("resultMaximum")) or 1.0  # AGS: 1 when absent
                points = round(score / maximum * max_score(assessment), 4)
                comment = result.get("comment")
                comment = " ".join(comment.split()) if isinstance(comment, str) else ""
                rows.append(
                    _Row(
                        get_user(session, user_id).email,
                        assessment.code,
                        points,
                        comment,
                        label,
                        user_id,
                    )
                )
    return rows


def _gradebook(rows: list[_Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["email", "assessment", "score", "comment"])
    for row in rows:
        writer.writerow([row.email, row.code, format_points(row.points), row.comment])
    return buffer.getvalue()


def _explain(rejected: imports.ImportRejected, rows: list[_Row]) -> str:
    """The import's refusal in the LMS's words: line N of the CSV is row N-2's grade."""
    problems = []
    for problem in rejected.report.problems[:5]:
        index = problem.line - 2
        where = (
            f"{rows[index].email} on {rows[index].label!r}" if 0 <= index < len(rows) else "a row"
        )
        problems.append(f"{where}: {problem.message}")
    more = len(rejected.report.problems) - len(problems)
    return (
        f"Nothing imported: {len(rejected.report.problems)} grade(s) cannot be imported — "
        + "; ".join(problems)
        + (f"; and {more} more" if more > 0 else "")
        + "."
    )
