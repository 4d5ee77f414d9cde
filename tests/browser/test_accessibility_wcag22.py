"""WCAG 2.2's new AA criteria that axe-core cannot decide alone, checked in Chromium: target size
(2.5.8) measured on the densest pages, focus not hidden under the quiz's sticky countdown
(2.4.11), and sign-in forms that password managers and pasting can fill (3.3.8). axe's own
``wcag22aa`` rules run with the rest in test_accessibility.py. See docs/accessibility.md."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import admin as members
from microcred.accounts import recovery
from microcred.accounts import service as accounts
from microcred.accounts.models import Role, User
from microcred.credentials import service as credentials
from microcred.credentials.models import IssuedCredential
from microcred.settings import Settings
from tests.assessment.conftest import make_course
from tests.browser.conftest import issue_to_learner, sign_in
from tests.browser.test_accessibility import signed_in
from tests.catalogue.factories import skills
from tests.conftest import PASSWORD, World

__all__ = ["skills"]

TARGETS = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, '
    + '[role=button], [role=link], [tabindex]:not([tabindex="-1"])';
  const box = e => e.getBoundingClientRect();
  const shown = e => {
    const r = box(e), s = getComputedStyle(e);
    return r.width > 1 && r.height > 1 && r.right > 0 && s.visibility !== 'hidden';
  };
  // A native checkbox or radio button keeps the browser's size: the "user agent control"
  // exception (and each sits in its label, which takes the click too).
  const targets = [...document.querySelectorAll(selector)].filter(shown)
    .filter(e => !e.matches('input[type=checkbox], input[type=radio]'));
  const small = targets.filter(e => box(e).width < 24 || box(e).height < 24);
  const block = e => {
    let b = e.parentElement;
    while (b && getComputedStyle(b).display.startsWith('inline')) b = b.parentElement;
    return b;
  };
  // The "inline" exception: a link in a sentence, whose block has words besides the targets.
  const inSentence = e => {
    if (!e.matches('a')) return false;
    const copy = block(e).cloneNode(true);
    copy.querySelectorAll(selector).forEach(t => t.remove());
    return /[\\p{L}\\p{N}]{2,}/u.test(copy.textContent);
  };
  const centre = e => { const r = box(e); return [r.x + r.width / 2, r.y + r.height / 2]; };
  const near = (point, r) => Math.hypot(
    Math.max(r.left - point[0], 0, point[0] - r.right),
    Math.max(r.top - point[1], 0, point[1] - r.bottom)) < 12;
  // The "spacing" exception: a 24 px circle on the target touches no other target, nor another
  // small target's circle.
  const spaced = e => {
    const c = centre(e);
    return targets.every(t => t === e || t.contains(e) || e.contains(t) || !near(c, box(t)))
      && small.every(t => t === e || Math.hypot(c[0] - centre(t)[0], c[1] - centre(t)[1]) >= 24);
  };
  return small.filter(e => !inSentence(e) && !spaced(e)).map(e => {
    const r = box(e);
    return `${e.tagName.toLowerCase()} "${(e.innerText || e.value || e.id).trim().slice(0, 40)}"`
      + ` ${r.width.toFixed(0)}×${r.height.toFixed(0)} px`;
  });
}"""


def test_targets_on_dense_pages_are_24_px_or_spaced_apart(
    live_server: str, browser: Any, world: World, sessions: sessionmaker[Session],
    settings: Settings, skills: dict[str, str], platform_admin: str,
) -> None:  # fmt: skip
    """2.5.8 Target Size (Minimum): each button, link and field is at least 24×24 CSS px, or a
    link in a sentence, or far enough from the others; at full width and at 320 px."""
    credential = issue_to_learner(sessions, settings, world.learner.id, "Data Literacy")
    with sessions.begin() as session:  # a second one, so the issued list has two pages
        again = session.get(IssuedCredential, credential)
        assert again is not None
        credentials.issue_credential(
            session, None, definition_id=again.definition_id, recipient_user_id=world.learner.id,
            settings=settings,
        )  # fmt: skip
        definition = again.definition_id
    found: list[str] = []

    def measure(page: Any, path: str) -> None:
        response = page.goto(f"{live_server}{path}")
        assert response.ok, path
        for width in (1280, 320):
            page.set_viewport_size({"width": width, "height": 900})
            found.extend(f"{path} at {width} px — {t}" for t in page.evaluate(TARGETS))
        page.set_viewport_size({"width": 1280, "height": 900})

    staff = signed_in(browser, live_server, world.staff.email)
    for path in ("/manage/credentials?per_page=1", "/manage/definitions", "/catalogue?per_page=1",
                 "/issuers/north-college", f"/definitions/{definition}",
                 f"/credentials/{credential}"):  # fmt: skip
        measure(staff, path)
    staff.context.close()
    learner = signed_in(browser, live_server, world.learner.email)
    for path in ("/wallet", f"/credentials/{credential}", "/notifications", "/account"):
        measure(learner, path)
    learner.context.close()
    admin = signed_in(browser, live_server, world.admin.email)
    measure(admin, "/manage/members")
    admin.context.close()
    root = signed_in(browser, live_server, platform_admin)
    measure(root, "/admin/organisations")
    root.context.close()

    assert not found, "\n".join([f"{len(found)} targets too small and too close:", *found])


def test_tabbing_never_hides_the_focused_answer_under_the_quiz_countdown(
    live_server: str, page: Any, world: World, sessions: sessionmaker[Session],
    skills: dict[str, str],
) -> None:  # fmt: skip
    """2.4.11 Focus Not Obscured: the countdown sticks to the top of the screen; moving focus
    backwards scrolls each answer into view below it, not under it."""
    with sessions.begin() as session:
        quiz = make_course(session).quiz_id
    sign_in(page, live_server, world.learner.email, PASSWORD)
    page.wait_for_url(f"{live_server}/")
    page.set_viewport_size({"width": 800, "height": 400})
    page.goto(f"{live_server}/assessments/{quiz}")
    page.get_by_role("button", name="Start the quiz").click()
    page.wait_for_selector("#countdown")
    page.get_by_role("button", name="Submit answers").focus()
    assert page.evaluate("scrollY") > 0  # the quiz is longer than the screen
    hidden = []
    while page.evaluate("document.activeElement.closest('#quiz-form fieldset, .form-actions')"):
        page.keyboard.press("Shift+Tab")
        covered = page.evaluate(
            """() => {
              const f = document.activeElement.getBoundingClientRect();
              const c = document.getElementById('countdown').getBoundingClientRect();
              return f.top < c.bottom && f.bottom > c.top ? document.activeElement.outerHTML : '';
            }"""
        )
        if covered and not page.evaluate("document.activeElement.closest('#countdown')"):
            hidden.append(covered[:120])
    assert not hidden, hidden


def test_every_password_form_lets_a_password_manager_or_pasting_fill_it(
    live_server: str, page: Any, browser: Any, world: World, sessions: sessionmaker[Session]
) -> None:
    """3.3.8 Accessible Authentication (Minimum): no step asks a person to recall or transcribe
    a secret: each password field names its purpose (``current-password``, ``new-password``)
    next to the account's user name (``username``), so a password manager fills both, and no
    field refuses pasting."""
    with sessions.begin() as session:
        reset = recovery.create_reset_link(session, None, world.learner.id).secret
        user = session.get(User, world.admin.id)
        assert user is not None
        admin = accounts.principal_for(session, user)
        invited = members.invite(
            session, admin, "north-college", email="ina@example.org", role=Role.learner
        ).secret
    learner = signed_in(browser, live_server, world.learner.email)
    forms = [(page, "/sign-in"), (page, "/sign-up"), (page, f"/password-reset/{reset}"),
             (page, f"/invitations/{invited}"), (learner, "/account"),
             (learner, "/account/delete")]  # fmt: skip
    problems = []
    for tab, path in forms:
        tab.goto(f"{live_server}{path}")
        problems += [
            f"{path}: {problem}"
            for problem in tab.evaluate(
                """() => [...document.querySelectorAll('form')]
                  .filter(f => f.querySelector('input[type=password]')).flatMap(f => {
                    const out = [];
                    const user = f.querySelector('[autocomplete~=username], [autocomplete~=email]');
                    if (!user) out.push(`${f.action}: no username field`);
                    f.querySelectorAll('input[type=password]').forEach(p => {
                      const purpose = p.getAttribute('autocomplete') || '';
                      if (!['current-password', 'new-password'].includes(purpose))
                        out.push(`${p.id}: autocomplete "${purpose}"`);
                    });
                    f.querySelectorAll('input').forEach(i => {
                      if (i.onpaste || i.getAttribute('onpaste') || i.getAttribute('oncopy'))
                        out.push(`${i.id}: blocks pasting`);
                    });
                    return user && user.hasAttribute('hidden') && !user.value
                      ? [...out, `${f.action}: hidden username has no value`] : out;
                  })"""
            )
        ]
    learner.context.close()
    assert not problems, problems

    page.goto(f"{live_server}/sign-in")  # pasting works: a manager's or a person's paste
    page.get_by_label("E-mail address").focus()
    page.keyboard.insert_text(world.learner.email)
    page.get_by_label("Password").focus()
    page.keyboard.insert_text(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
