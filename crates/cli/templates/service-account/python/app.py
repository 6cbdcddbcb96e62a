"""{{display_name}}: a public service account on Plaza, with the Plaza SDK
for Python.

Three ways to reach a citizen's inbox, each with the host's rules: a
subscription message (the user accepts a template from a tap, then the
account may send it), a broadcast to the account's followers (at most four a
month each), and a reply to a user's own message (within 48 hours).

A host call that fails raises a `HostError` subclass, one per WIT error case
(`LimitExceeded` for a follower's monthly quota, `Denied`, ...), with the
host's message as `str(e)`.
"""

import datetime

from plaza_sdk import HostError, LimitExceeded, MiniApp, Page
from plaza_sdk import clock, log, messaging

REMINDER = "appointment-reminder"


class Pages(MiniApp):
    title = "{{display_name}}"

    def home(self) -> Page:
        return (
            Page("{{display_name}}")
            .text("Opening hours: Monday to Friday, 9:00 to 17:00.")
            .button("Remind me of my appointment", "remind", "primary")
            .text("Write to us any time: we answer within two days.")
            # In a real account, broadcasts come from your staff's tools;
            # this button sends one so that you can see it reach the followers.
            .button("Send this week's bulletin to followers", "bulletin")
        )

    def on_tap(self, action: str) -> Page:
        if action == "remind":
            return remind()
        if action == "bulletin":
            return bulletin()
        return self.home().replace()

    def on_chat(self, text: str, event) -> Page:
        return answer(text)


def remind() -> Page:
    """Asks the user to accept the reminder template (only from a tap), then sends the first reminder."""
    page = Page("Reminders", "replace")
    try:
        answers = messaging.subscribe(REMINDER)
    except HostError as e:
        return page.notice(f"Reminders are not available: {e}", "error")
    if not messaging.accepted(answers, REMINDER):
        return page.notice("No reminders then. You can turn them on here any time.", "info")
    try:
        messaging.send(REMINDER, service="Residence permit renewal", time=tomorrow_at_ten())
        return page.notice("Done: your reminder is in your inbox.", "success")
    except HostError as e:
        return page.notice(f"The reminder was not sent: {e}", "error")


def bulletin() -> Page:
    """Sends the weekly bulletin to every follower of the account."""
    page = Page("Bulletin", "replace")
    try:
        r = messaging.broadcast("This week at {{display_name}}", "Passport photos are taken on site from Monday.")
    except LimitExceeded as e:
        return page.notice(str(e), "warning")
    except HostError as e:
        return page.notice(f"The bulletin was not sent: {e}", "error")
    log.info(f"bulletin: {r.delivered} delivered, {r.skipped} skipped")
    return page.field("Delivered", r.delivered).field("Skipped (monthly quota reached)", r.skipped)


def answer(question: str) -> Page:
    """Answers a citizen's message in the conversation."""
    if "open" in question.lower():
        reply = "We are open Monday to Friday, 9:00 to 17:00."
    else:
        reply = "Thank you for your message: a member of staff will answer you here."
    page = Page("Ask us", "replace").text(f"You: {question}")
    try:
        messaging.reply(reply)
        return page.text(f"Us: {reply}")
    except HostError as e:
        return page.notice(f"We could not answer: {e}", "error")


def tomorrow_at_ten() -> str:
    """Tomorrow at 10:00 on the host's clock, as `YYYY-MM-DD 10:00`."""
    return f"{clock.today() + datetime.timedelta(days=1):%Y-%m-%d} 10:00"
