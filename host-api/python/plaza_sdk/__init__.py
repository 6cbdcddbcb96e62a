"""The Plaza SDK for Python mini-apps.

A thin, type-hinted layer over the bindings `plaza build` generates with
componentize-py from the world `plaza.toml` declares:

- `MiniApp`, a base class that reads each event and calls `on_launch`,
  `on_tap`, `on_submit`, `on_chat`, `on_resume`, `on_hide`, `on_load_more`
  or `on_refresh`; subclass it as `class Pages(MiniApp)` in `src/app.py`
  (componentize-py takes the class named after the exported interface,
  `pages`);
- `Page`, a page builder (text inputs, choices, switches, hidden and
  read-only fields, constraints the host checks, sections of `Item`s with
  thumbnails, trailing values and "load more"), and `Event`, the event read;
- `HostError` and one subclass per WIT error case (`Denied`,
  `InvalidArgument`, `LimitExceeded`, `NotFound`, `Unavailable`), raised by
  every wrapper instead of componentize-py's `Err`;
- one module per capability: `plaza_sdk.storage` (with JSON values),
  `identity`, `payment`, `messaging`, `clock`, `log`, `config`.

Only the modules of the capabilities `plaza.toml` declares can be imported:
the bindings of the others do not exist in the world (`import
plaza_sdk.payment` without `[capabilities.payment]` fails to build). This
module imports none of them.

`plaza build` writes this package into `.plaza/python-sdk` and puts it on
componentize-py's path; it is not on PyPI.
"""

from __future__ import annotations

from typing import Union

from wit_world import exports
from wit_world.exports import pages as wit

from .errors import Denied, HostError, InvalidArgument, LimitExceeded, NotFound, Unavailable
from .page import Choices, Event, Item, Kind, Level, Navigation, Page, Style

__all__ = [
    "MiniApp",
    "Page",
    "Item",
    "Choices",
    "Event",
    "Level",
    "Style",
    "Kind",
    "Navigation",
    "HostError",
    "Denied",
    "InvalidArgument",
    "LimitExceeded",
    "NotFound",
    "Unavailable",
]

#: What a handler returns: a page being built or a WIT page.
Answer = Union[Page, wit.Page]


class MiniApp(exports.Pages):
    """The exported `pages` interface: subclass it as `class
    Pages(MiniApp)` in `src/app.py` and override the handlers the mini-app
    needs.

    Each event may reach a new instance: keep what the session remembers
    in class attributes (`Pages.counted = True`) or module globals, which
    live as long as the session, and what must survive it in `storage`. A
    `HostError` a handler does not catch becomes `on_host_error`'s page
    instead of a trap that ends the session. `self.event` is the event
    being handled (its `locale` at launch, say).
    """

    #: The title of the pages the default handlers answer.
    title = "Mini-app"
    #: The event being handled.
    event: Event

    def handle(self, event: wit.Event) -> wit.Page:
        ev = Event.of(event)
        self.event = ev
        try:
            if ev.kind == "launch":
                answer = self.on_launch(ev.path, ev.query)
            elif ev.kind == "tap":
                answer = self.on_tap(ev.action)
            elif ev.kind == "submit":
                answer = self.on_submit(ev.form, ev.fields)
            elif ev.kind == "chat":
                answer = self.on_chat(ev.text, ev)
            elif ev.kind == "resume":
                answer = self.on_resume()
            elif ev.kind == "load-more":
                answer = self.on_load_more(ev.action)
            elif ev.kind == "refresh":
                answer = self.on_refresh()
            else:
                answer = self.on_hide()
        except HostError as e:
            answer = self.on_host_error(e)
        return answer.build() if isinstance(answer, Page) else answer

    def home(self) -> Answer:
        """The home page; what the default handlers answer."""
        return Page(self.title)

    def on_launch(self, path: str, query: dict[str, str]) -> Answer:
        """The user opened the mini-app at `path` (`/` for the home)."""
        return self.home()

    def on_tap(self, action: str) -> Answer:
        """The user tapped a button or list item carrying `action`."""
        return _replace(self.home())

    def on_submit(self, form: str, fields: dict[str, str]) -> Answer:
        """The user submitted the form `form`."""
        return _replace(self.home())

    def on_chat(self, text: str, event: Event) -> Answer:
        """The user wrote `text` to the mini-app (reply with
        `plaza_sdk.messaging.reply` within 48 hours)."""
        return _replace(self.home())

    def on_resume(self) -> Answer:
        """The mini-app came back to the foreground."""
        return _replace(self.home())

    def on_hide(self) -> Answer:
        """The mini-app went to the background (the session may end)."""
        return _replace(self.home())

    def on_load_more(self, action: str) -> Answer:
        """The user reached the end of a section offering more (its
        `load_more` action): answer the page with more items, in place."""
        return _replace(self.home())

    def on_refresh(self) -> Answer:
        """The user pulled down a `refreshable()` page."""
        return _replace(self.home())

    def on_host_error(self, error: HostError) -> Answer:
        """The page for a host error no handler caught: its message, in
        place of the current page."""
        return Page(self.title, "replace").notice(str(error), "error").button("Back to the start", "home")


def _replace(answer: Answer) -> Answer:
    if isinstance(answer, Page):
        return answer.replace()
    return wit.Page(answer.title, answer.blocks, wit.Navigation.REPLACE, answer.refreshable)
