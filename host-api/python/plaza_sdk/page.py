"""Pages and events: a builder for the page a mini-app answers, and the
event it answers, read without `isinstance` chains.

    page = Page("Parcel 1234").field("Status", "In transit").button("Refresh", "refresh")
    return page.build()

Inputs beyond text: `choice` (a picker, or radio buttons when few),
`multi_choice` (checkboxes), `switch`, `hidden`, and any input read-only or
with constraints (`min`, `max`, `max_length`, `pattern`) that the host
checks before a submission reaches the mini-wit. Lists: `section` with a
heading, items with a thumbnail and a trailing value, and "load more";
`refreshable()` pages the user can pull down.

Pages are data, never markup: the host renders each block natively and
refuses a page over its size cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Iterable, Literal, Mapping, Optional, Sequence, Tuple, Union

from wit_world.exports import pages as wit

__all__ = ["Page", "Item", "Event", "Navigation", "Level", "Style", "Kind", "Choices"]

#: How the host shows a page: on top (`push`), in place (`replace`), or in
#: place of the page below (`back`).
Navigation = Literal["push", "replace", "back"]
#: A notice's severity.
Level = Literal["info", "success", "warning", "error"]
#: A button's look.
Style = Literal["primary", "secondary", "danger"]
#: What an input accepts.
Kind = Literal[
    "text", "multiline", "number", "date", "time", "phone", "email", "choice", "multi-choice", "switch", "hidden"
]
#: The options of a `choice` or `multi-choice` input, in the order shown:
#: (value, label) pairs, or a mapping of value to label.
Choices = Union[Mapping[str, str], Iterable[Tuple[str, str]]]

_NAVIGATION = {
    "push": wit.Navigation.PUSH,
    "replace": wit.Navigation.REPLACE,
    "back": wit.Navigation.BACK,
}
_LEVEL = {
    "info": wit.NoticeLevel.INFO,
    "success": wit.NoticeLevel.SUCCESS,
    "warning": wit.NoticeLevel.WARNING,
    "error": wit.NoticeLevel.ERROR,
}
_STYLE = {
    "primary": wit.ButtonStyle.PRIMARY,
    "secondary": wit.ButtonStyle.SECONDARY,
    "danger": wit.ButtonStyle.DANGER,
}
_KIND = {
    "text": wit.InputKind.TEXT,
    "multiline": wit.InputKind.MULTILINE,
    "number": wit.InputKind.NUMBER,
    "date": wit.InputKind.DATE,
    "time": wit.InputKind.TIME,
    "phone": wit.InputKind.PHONE,
    "email": wit.InputKind.EMAIL,
    "choice": wit.InputKind.CHOICE,
    "multi-choice": wit.InputKind.MULTI_CHOICE,
    "switch": wit.InputKind.SWITCH,
    "hidden": wit.InputKind.HIDDEN,
}


def _pick(table: dict, name: str, what: str):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"`{name}` is not a {what}: one of {', '.join(table)}") from None


def _options(choices: Choices) -> list[wit.ChoiceOption]:
    pairs = choices.items() if isinstance(choices, Mapping) else choices
    return [wit.ChoiceOption(str(value), str(label)) for value, label in pairs]


@dataclass
class Item:
    """An entry of a list (of `Page.section`): only `title` is needed."""

    #: The main line.
    title: str
    #: A second, smaller line.
    detail: str = ""
    #: The action a tap on the item sends; `None`: not tappable.
    action: Optional[str] = None
    #: A small image before the text: `asset:NAME` of the package's `assets/`.
    thumbnail: str = ""
    #: A short value at the item's end (an amount, a status).
    trailing: str = ""

    def to_wit(self) -> wit.ListItem:
        """The WIT list item."""
        return wit.ListItem(self.title, self.detail, self.action, self.thumbnail, self.trailing)


class Page:
    """A page being built: each method adds a block, in reading order, and
    returns the page, so calls chain. `build()` makes the WIT page."""

    def __init__(self, title: str, navigation: Navigation = "push", refreshable: bool = False) -> None:
        self.title = title
        self.navigation: Navigation = navigation
        self.blocks: list[wit.Block] = []
        #: Whether the user may pull the page down (a `refresh` event).
        self.is_refreshable = refreshable

    def heading(self, text: str) -> Page:
        """A section heading."""
        self.blocks.append(wit.Block_Heading(text))
        return self

    def text(self, text: str) -> Page:
        """A paragraph."""
        self.blocks.append(wit.Block_Text(text))
        return self

    def field(self, label: str, value: object) -> Page:
        """A label and its value, side by side (`value` shown with `str`)."""
        self.blocks.append(wit.Block_Field(wit.KeyValue(label, str(value))))
        return self

    def item(
        self,
        title: str,
        detail: str = "",
        action: Optional[str] = None,
        *,
        thumbnail: str = "",
        trailing: str = "",
    ) -> Page:
        """An entry of a list; tapping it sends `action` (none: not
        tappable). `thumbnail` is `asset:NAME` of the package; `trailing` a
        short value at its end (an amount, a status)."""
        self.blocks.append(wit.Block_Item(Item(title, detail, action, thumbnail, trailing).to_wit()))
        return self

    def section(self, heading: str, items: Iterable[Item], load_more: Optional[str] = None) -> Page:
        """A list under a heading (empty: none), such as one day's slots.
        With `load_more`, the user reaching its end sends a `load-more`
        event carrying that action (`MiniApp.on_load_more`)."""
        self.blocks.append(wit.Block_Section(wit.Section(heading, [i.to_wit() for i in items], load_more)))
        return self

    def button(self, label: str, action: str, style: Style = "secondary") -> Page:
        """A button; tapping it sends `action`."""
        self.blocks.append(wit.Block_Button(wit.Button(label, action, _pick(_STYLE, style, "button style"))))
        return self

    def input(
        self,
        form: str,
        name: str,
        label: str,
        kind: Kind = "text",
        value: str = "",
        required: bool = False,
        *,
        read_only: bool = False,
        options: Choices = (),
        min: Optional[str] = None,
        max: Optional[str] = None,
        max_length: Optional[int] = None,
        pattern: Optional[str] = None,
        pattern_hint: str = "",
    ) -> Page:
        """An input of the form `form`; the host shows the form's submit
        button after its last input and sends `name` in the submit event.

        The host checks the submitted value before the mini-app sees it:
        against `kind`, `required`, `read_only` (the value cannot change),
        `min` and `max` (of a number, `YYYY-MM-DD` date or `HH:MM` time),
        `max_length` (characters) and `pattern` (a regular expression the
        whole value must match; `pattern_hint` tells the user what fits),
        refusing a bad value with the reason shown to the user."""
        self.blocks.append(
            wit.Block_Input(
                wit.Input(
                    form,
                    name,
                    _pick(_KIND, kind, "input kind"),
                    label,
                    value,
                    required,
                    read_only,
                    _options(options),
                    wit.Constraints(min, max, max_length, pattern, pattern_hint),
                )
            )
        )
        return self

    def choice(
        self,
        form: str,
        name: str,
        label: str,
        options: Choices,
        value: str = "",
        required: bool = False,
        *,
        read_only: bool = False,
    ) -> Page:
        """A choice of one of `options`: radio buttons for five or fewer, a
        picker otherwise. The host refuses a value that is not an option's."""
        return self.input(form, name, label, "choice", value, required, read_only=read_only, options=options)

    def multi_choice(
        self,
        form: str,
        name: str,
        label: str,
        options: Choices,
        chosen: Sequence[str] = (),
        required: bool = False,
    ) -> Page:
        """Any number of `options`, as checkboxes (`chosen` checked at
        first); submitted as the chosen values in option order joined with
        `,`: `Event.choices(name)` reads them as a list."""
        return self.input(form, name, label, "multi-choice", ",".join(chosen), required, options=options)

    def switch(self, form: str, name: str, label: str, on: bool = False, *, read_only: bool = False) -> Page:
        """A switch, submitted as `true` or `false`."""
        return self.input(form, name, label, "switch", "true" if on else "false", read_only=read_only)

    def hidden(self, form: str, name: str, value: str) -> Page:
        """A value the user does not see, submitted with the form: the host
        refuses a submission that changes it."""
        return self.input(form, name, "", "hidden", value)

    def image(self, url: str, alt: str) -> Page:
        """An image: `asset:NAME` from the package, or an `https:` URL of an
        origin `[capabilities.images]` declares."""
        self.blocks.append(wit.Block_Image(wit.Image(url, alt)))
        return self

    def notice(self, text: str, level: Level = "info") -> Page:
        """A notice the user should see."""
        self.blocks.append(wit.Block_Notice(wit.Notice(_pick(_LEVEL, level, "notice level"), text)))
        return self

    def refreshable(self, on: bool = True) -> Page:
        """Lets the user pull the page down, which sends a `refresh` event
        (`MiniApp.on_refresh`)."""
        self.is_refreshable = on
        return self

    def replace(self) -> Page:
        """Shows the page in place of the current one."""
        self.navigation = "replace"
        return self

    def back(self) -> Page:
        """Closes the current page and shows this one in place of the one below."""
        self.navigation = "back"
        return self

    def build(self) -> wit.Page:
        """The WIT page the host shows."""
        return wit.Page(
            self.title, list(self.blocks), _pick(_NAVIGATION, self.navigation, "navigation"), self.is_refreshable
        )


@dataclass
class Event:
    """One event of the session, read: `kind` says which, the other
    attributes carry what it brought (empty when not of that kind)."""

    #: `launch`, `tap`, `submit`, `chat`, `resume`, `hide`, `load-more` or
    #: `refresh`.
    kind: str
    #: A launch's path (`/` for the home; an empty path is read as `/`).
    path: str = ""
    #: A launch's query parameters.
    query: dict[str, str] = dataclass_field(default_factory=dict)
    #: A launch's locale: the user's BCP 47 language tag (`zh-CN`), empty
    #: when the embedding app does not say.
    locale: str = ""
    #: A tap's action id, or the `load_more` action of a section whose end
    #: the user reached.
    action: str = ""
    #: A submit's form id.
    form: str = ""
    #: A submit's fields, by name (values stripped of surrounding spaces).
    fields: dict[str, str] = dataclass_field(default_factory=dict)
    #: A chat message's text.
    text: str = ""
    #: A chat message's id and time (milliseconds since the epoch).
    message_id: str = ""
    sent_at_ms: int = 0

    @staticmethod
    def of(event: wit.Event) -> Event:
        """Reads a WIT event."""
        if isinstance(event, wit.Event_Launch):
            return Event(
                "launch",
                path=event.value.path or "/",
                query={f.name: f.value for f in event.value.query},
                locale=event.value.locale,
            )
        if isinstance(event, wit.Event_Tap):
            return Event("tap", action=event.value)
        if isinstance(event, wit.Event_Submit):
            return Event(
                "submit",
                form=event.value.form,
                fields={f.name: f.value.strip() for f in event.value.fields},
            )
        if isinstance(event, wit.Event_Chat):
            return Event(
                "chat",
                text=event.value.text,
                message_id=event.value.id,
                sent_at_ms=event.value.sent_at_ms,
            )
        if isinstance(event, wit.Event_Resume):
            return Event("resume")
        if isinstance(event, wit.Event_LoadMore):
            return Event("load-more", action=event.value)
        if isinstance(event, wit.Event_Refresh):
            return Event("refresh")
        return Event("hide")

    def choices(self, name: str) -> list[str]:
        """The values of a submitted `multi-choice` field, as a list
        (`sms,wechat` → `["sms", "wechat"]`; empty → `[]`)."""
        value = self.fields.get(name, "")
        return value.split(",") if value else []

    def tapped(self, prefix: str) -> Optional[str]:
        """For a tap on `PREFIX...` (such as `parcel:1234` with prefix
        `parcel:`), what follows the prefix; otherwise `None`."""
        if self.kind == "tap" and self.action.startswith(prefix):
            return self.action[len(prefix) :]
        return None
