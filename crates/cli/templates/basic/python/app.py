"""{{display_name}}: a Plaza mini-app, with the Plaza SDK for Python.

The host delivers one event at a time (a launch, a tap, a form submit);
`MiniApp` reads it and calls `on_launch`, `on_tap` or `on_submit`, which
answer the page to show, made with `Page`. Class attributes of `Pages` (and
module globals) live as long as the session; what must survive it goes to
`storage`.

`plaza_sdk` (written into .plaza/python-sdk by `plaza build`) wraps the
bindings componentize-py makes from the world plaza.toml declares
(.plaza/bindings): only the modules of declared capabilities import. A host
call that fails raises a `HostError` subclass, one per WIT error case
(`Denied`, `LimitExceeded`, ...), with the host's message as `str(e)`.
"""

from plaza_sdk import HostError, Level, MiniApp, Page
from plaza_sdk import log, storage

# Notes are stored under `note:<number>`; the visit count under `visits`.
NOTE_PREFIX = "note:"


class Pages(MiniApp):
    title = "{{display_name}}"
    # Whether this session counted its visit yet (memory of the session).
    counted = False

    def on_launch(self, path: str, query: dict[str, str]) -> Page:
        if not Pages.counted:
            Pages.counted = True
            try:
                storage.set_json("visits", storage.get_json("visits", 0) + 1)
            except HostError as e:
                log.warn(f"could not count the visit: {e}")
        return home()

    def on_submit(self, form: str, fields: dict[str, str]) -> Page:
        text = fields.get("text", "")
        if form != "note" or not text:
            return home("Type a note first.", "warning").replace()
        number = storage.get_json("next-note", 0) + 1
        try:
            storage.set_text(f"{NOTE_PREFIX}{number:06}", text)
            storage.set_json("next-note", number)
            return home("Saved your note.", "success").replace()
        except HostError as e:
            # A denial is data, not a crash: show it (a full quota, say).
            return home(f"Your note was not saved: {e}", "error").replace()

    def on_tap(self, action: str) -> Page:
        if action == "clear":
            keys = storage.keys(NOTE_PREFIX)
            for key in keys:
                storage.delete(key)
            log.info(f"cleared {len(keys)} notes")
            return home("Your notes are cleared.").replace()
        return home().replace()


def home(notice: str = "", level: Level = "info") -> Page:
    """The home page: a notice if any, the visit count, the notes, a form to add one."""
    page = Page("{{display_name}}")
    if notice:
        page.notice(notice, level)
    page.field("Visits", storage.get_json("visits", 0))
    page.heading("Your notes")
    keys = storage.keys(NOTE_PREFIX)
    if not keys:
        page.text("No notes yet.")
    for key in keys:
        page.item(storage.get_text(key))
    page.input("note", "text", "New note", required=True)
    if storage.get_json("next-note", 0) > 0:
        page.button("Clear notes", "clear", "danger")
    return page
