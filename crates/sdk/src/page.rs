//! Building pages.

use crate::{
    Block, Button, ButtonStyle, ChoiceOption, Constraints, Image, Input, InputKind, KeyValue,
    ListItem, Navigation, Notice, NoticeLevel, Page, Section,
};

impl Page {
    /// Starts a page titled `title`, shown with [`Navigation::Push`] unless
    /// told otherwise.
    ///
    /// ```
    /// use plaza_sdk::{InputKind, Navigation, Page};
    ///
    /// let page = Page::builder("Book")
    ///     .heading("Dr. Chen Li")
    ///     .field("Fee", "CNY 50.00")
    ///     .input("patient", "name", InputKind::Text, "Name")
    ///     .required()
    ///     .success("Saved")
    ///     .replace()
    ///     .build();
    /// assert_eq!(page.title, "Book");
    /// assert_eq!(page.blocks.len(), 4);
    /// assert_eq!(page.navigation, Navigation::Replace);
    /// ```
    pub fn builder(title: impl Into<String>) -> PageBuilder {
        PageBuilder::new(title)
    }
}

/// Builds a [`Page`] block by block, in reading order.
///
/// Get one with [`Page::builder`] or [`PageBuilder::new`] and finish it with
/// [`build`](PageBuilder::build).
#[derive(Clone, Debug)]
#[must_use = "a page builder does nothing until `build` is called"]
pub struct PageBuilder {
    page: Page,
}

impl PageBuilder {
    /// Starts a page titled `title`, shown with [`Navigation::Push`] unless
    /// told otherwise.
    pub fn new(title: impl Into<String>) -> Self {
        PageBuilder {
            page: Page {
                title: title.into(),
                blocks: Vec::new(),
                navigation: Navigation::Push,
                refreshable: false,
            },
        }
    }

    /// Adds any block.
    pub fn block(mut self, block: Block) -> Self {
        self.page.blocks.push(block);
        self
    }

    /// Adds every block of `blocks`, in order.
    pub fn blocks(mut self, blocks: impl IntoIterator<Item = Block>) -> Self {
        self.page.blocks.extend(blocks);
        self
    }

    /// Adds a section heading.
    pub fn heading(self, text: impl Into<String>) -> Self {
        self.block(Block::Heading(text.into()))
    }

    /// Adds a paragraph of text.
    pub fn text(self, text: impl Into<String>) -> Self {
        self.block(Block::Text(text.into()))
    }

    /// Adds a label and its value, shown side by side.
    pub fn field(self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.block(Block::Field(KeyValue {
            label: label.into(),
            value: value.into(),
        }))
    }

    /// Adds a list entry with a second line (`detail`, empty for none),
    /// tappable when `action` is given.
    pub fn item(
        self,
        title: impl Into<String>,
        detail: impl Into<String>,
        action: Option<&str>,
    ) -> Self {
        self.block(Block::Item(ListItem {
            action: action.map(str::to_owned),
            ..ListItem::new(title).detail(detail)
        }))
    }

    /// Adds a tappable list entry: [`item`](Self::item) with an action.
    pub fn link(
        self,
        title: impl Into<String>,
        detail: impl Into<String>,
        action: impl Into<String>,
    ) -> Self {
        self.block(Block::Item(
            ListItem::new(title).detail(detail).action(action),
        ))
    }

    /// Adds a button in the given style.
    pub fn styled_button(
        self,
        label: impl Into<String>,
        action: impl Into<String>,
        style: ButtonStyle,
    ) -> Self {
        self.block(Block::Button(Button {
            label: label.into(),
            action: action.into(),
            style,
        }))
    }

    /// Adds an ordinary ([`ButtonStyle::Secondary`]) button.
    pub fn button(self, label: impl Into<String>, action: impl Into<String>) -> Self {
        self.styled_button(label, action, ButtonStyle::Secondary)
    }

    /// Adds the page's main ([`ButtonStyle::Primary`]) button.
    pub fn primary_button(self, label: impl Into<String>, action: impl Into<String>) -> Self {
        self.styled_button(label, action, ButtonStyle::Primary)
    }

    /// Adds a button that destroys or cancels something
    /// ([`ButtonStyle::Danger`]).
    pub fn danger_button(self, label: impl Into<String>, action: impl Into<String>) -> Self {
        self.styled_button(label, action, ButtonStyle::Danger)
    }

    /// Adds an input of the form `form`, empty and optional. Chain
    /// [`value`](Self::value) and [`required`](Self::required) to change that.
    ///
    /// Inputs with the same form id make one form; the host shows a submit
    /// button after its last input and delivers a [`crate::Event::Submit`].
    pub fn input(
        self,
        form: impl Into<String>,
        name: impl Into<String>,
        kind: InputKind,
        label: impl Into<String>,
    ) -> Self {
        self.block(Block::Input(Input {
            form: form.into(),
            name: name.into(),
            kind,
            label: label.into(),
            value: String::new(),
            required: false,
            read_only: false,
            options: Vec::new(),
            constraints: Constraints::none(),
        }))
    }

    /// Adds a choice of one of `options` (value, label) to the form `form`:
    /// radio buttons for five options or fewer, a picker for more. The
    /// host refuses a submitted value that is not an option's.
    ///
    /// ```
    /// use plaza_sdk::{Block, InputKind, Page};
    ///
    /// let page = Page::builder("Exchange")
    ///     .choice("fx", "currency", "Currency", [("USD", "US dollar"), ("EUR", "Euro")])
    ///     .value("USD")
    ///     .required()
    ///     .build();
    /// let Block::Input(input) = &page.blocks[0] else { panic!() };
    /// assert_eq!(input.kind, InputKind::Choice);
    /// assert_eq!(input.options[1].label, "Euro");
    /// ```
    pub fn choice<V: Into<String>, L: Into<String>>(
        self,
        form: impl Into<String>,
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        self.input(form, name, InputKind::Choice, label)
            .options(options)
    }

    /// Adds a choice of any number of `options` (value, label), shown as
    /// checkboxes; submitted as the chosen values in option order, joined
    /// with `,`.
    pub fn multi_choice<V: Into<String>, L: Into<String>>(
        self,
        form: impl Into<String>,
        name: impl Into<String>,
        label: impl Into<String>,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        self.input(form, name, InputKind::MultiChoice, label)
            .options(options)
    }

    /// Adds a switch (on or off), submitted as `true` or `false`.
    pub fn switch(
        self,
        form: impl Into<String>,
        name: impl Into<String>,
        label: impl Into<String>,
        on: bool,
    ) -> Self {
        self.input(form, name, InputKind::Switch, label)
            .value(if on { "true" } else { "false" })
    }

    /// Adds a field the user does not see, submitted with `value`: the host
    /// refuses a submission that changes it.
    pub fn hidden(
        self,
        form: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.input(form, name, InputKind::Hidden, "").value(value)
    }

    /// Sets the options of the input added last (a `choice` or
    /// `multi-choice`), as (value, label) pairs.
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn options<V: Into<String>, L: Into<String>>(
        mut self,
        options: impl IntoIterator<Item = (V, L)>,
    ) -> Self {
        self.last_input("options").options = options
            .into_iter()
            .map(|(value, label)| ChoiceOption {
                value: value.into(),
                label: label.into(),
            })
            .collect();
        self
    }

    /// Makes the input added last read-only: shown, but the host refuses a
    /// submission that changes its value.
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn read_only(mut self) -> Self {
        self.last_input("read_only").read_only = true;
        self
    }

    /// Sets the smallest value of the number, date (`YYYY-MM-DD`) or time
    /// (`HH:MM`) input added last; the host refuses a smaller one.
    ///
    /// ```
    /// use plaza_sdk::{Block, InputKind, Page};
    ///
    /// let page = Page::builder("Book")
    ///     .input("book", "day", InputKind::Date, "Day")
    ///     .min("2026-12-04")
    ///     .max("2026-12-17")
    ///     .build();
    /// let Block::Input(input) = &page.blocks[0] else { panic!() };
    /// assert_eq!(input.constraints.max.as_deref(), Some("2026-12-17"));
    /// ```
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn min(mut self, min: impl Into<String>) -> Self {
        self.last_input("min").constraints.min = Some(min.into());
        self
    }

    /// Sets the largest value of the number, date or time input added last;
    /// the host refuses a larger one.
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn max(mut self, max: impl Into<String>) -> Self {
        self.last_input("max").constraints.max = Some(max.into());
        self
    }

    /// Sets the most characters the value of the input added last may have.
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn max_length(mut self, chars: u32) -> Self {
        self.last_input("max_length").constraints.max_length = Some(chars);
        self
    }

    /// Sets a regular expression the whole value of the input added last
    /// must match, and `hint`, what a fitting value looks like, told to the
    /// user when it does not ("a plate number such as 浙A12345").
    ///
    /// ```
    /// use plaza_sdk::{Block, InputKind, Page};
    ///
    /// let page = Page::builder("Fines")
    ///     .input("plate", "number", InputKind::Text, "Plate number")
    ///     .pattern("[浙沪苏][A-Z][A-Z0-9]{5,6}", "a plate number such as 浙A12345")
    ///     .build();
    /// let Block::Input(input) = &page.blocks[0] else { panic!() };
    /// assert!(input.constraints.pattern.is_some());
    /// ```
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn pattern(mut self, pattern: impl Into<String>, hint: impl Into<String>) -> Self {
        let c = &mut self.last_input("pattern").constraints;
        c.pattern = Some(pattern.into());
        c.pattern_hint = hint.into();
        self
    }

    /// Sets the starting value of the input added last.
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn value(mut self, value: impl Into<String>) -> Self {
        self.last_input("value").value = value.into();
        self
    }

    /// Makes the input added last required: the host refuses to submit the
    /// form while it is empty.
    ///
    /// # Panics
    ///
    /// If the last block added is not an input.
    pub fn required(mut self) -> Self {
        self.last_input("required").required = true;
        self
    }

    fn last_input(&mut self, what: &str) -> &mut Input {
        match self.page.blocks.last_mut() {
            Some(Block::Input(input)) => input,
            _ => panic!("PageBuilder::{what} must follow PageBuilder::input"),
        }
    }

    /// Adds a section: a heading (empty for none) over a list of items.
    /// Chain [`load_more`](Self::load_more) when there are more to show.
    ///
    /// ```
    /// use plaza_sdk::{Block, ListItem, Page};
    ///
    /// let page = Page::builder("Slots")
    ///     .section("Monday 7 December", [
    ///         ListItem::new("09:00").detail("Dr. Chen Li").trailing("3 left").action("slot:1"),
    ///         ListItem::new("10:00").detail("Dr. Chen Li").trailing("Full"),
    ///     ])
    ///     .load_more("more:monday")
    ///     .refreshable()
    ///     .build();
    /// let Block::Section(section) = &page.blocks[0] else { panic!() };
    /// assert_eq!(section.items[0].trailing, "3 left");
    /// assert_eq!(section.load_more.as_deref(), Some("more:monday"));
    /// assert!(page.refreshable);
    /// ```
    pub fn section(
        self,
        heading: impl Into<String>,
        items: impl IntoIterator<Item = ListItem>,
    ) -> Self {
        self.block(Block::Section(Section {
            heading: heading.into(),
            items: items.into_iter().collect(),
            load_more: None,
        }))
    }

    /// Offers more items at the end of the section added last: when the
    /// user reaches it, the host delivers [`crate::Event::LoadMore`] with
    /// `action`.
    ///
    /// # Panics
    ///
    /// If the last block added is not a section.
    pub fn load_more(mut self, action: impl Into<String>) -> Self {
        match self.page.blocks.last_mut() {
            Some(Block::Section(section)) => section.load_more = Some(action.into()),
            _ => panic!("PageBuilder::load_more must follow PageBuilder::section"),
        }
        self
    }

    /// Sets the thumbnail of the list item added last (an [`item`](Self::item)
    /// or [`link`](Self::link)): `asset:NAME`, an image of the package's
    /// `assets/` folder.
    ///
    /// # Panics
    ///
    /// If the last block added is not a list item.
    pub fn thumbnail(mut self, asset: impl Into<String>) -> Self {
        self.last_item("thumbnail").thumbnail = asset.into();
        self
    }

    /// Sets the trailing value (an amount, a status) of the list item added
    /// last.
    ///
    /// # Panics
    ///
    /// If the last block added is not a list item.
    pub fn trailing(mut self, value: impl Into<String>) -> Self {
        self.last_item("trailing").trailing = value.into();
        self
    }

    fn last_item(&mut self, what: &str) -> &mut ListItem {
        match self.page.blocks.last_mut() {
            Some(Block::Item(item)) => item,
            _ => panic!("PageBuilder::{what} must follow PageBuilder::item or PageBuilder::link"),
        }
    }

    /// Lets the user pull the page down to refresh it: the host then
    /// delivers [`crate::Event::Refresh`].
    pub fn refreshable(mut self) -> Self {
        self.page.refreshable = true;
        self
    }

    /// Adds an image, with its text alternative: `asset:NAME` for an image
    /// of the package's `assets/` folder, or an `https:` URL of an origin
    /// the manifest declares in `[capabilities.images] origins` (the host
    /// refuses a page with any other image).
    pub fn image(self, url: impl Into<String>, alt: impl Into<String>) -> Self {
        self.block(Block::Image(Image {
            url: url.into(),
            alt: alt.into(),
        }))
    }

    /// Adds a notice of the given severity.
    pub fn notice(self, level: NoticeLevel, text: impl Into<String>) -> Self {
        self.block(Block::Notice(Notice {
            level,
            text: text.into(),
        }))
    }

    /// Adds a neutral notice.
    pub fn info(self, text: impl Into<String>) -> Self {
        self.notice(NoticeLevel::Info, text)
    }

    /// Adds a notice that something went well.
    pub fn success(self, text: impl Into<String>) -> Self {
        self.notice(NoticeLevel::Success, text)
    }

    /// Adds a notice the user should pay attention to.
    pub fn warning(self, text: impl Into<String>) -> Self {
        self.notice(NoticeLevel::Warning, text)
    }

    /// Adds a notice that something failed.
    pub fn error(self, text: impl Into<String>) -> Self {
        self.notice(NoticeLevel::Error, text)
    }

    /// Sets how the host shows the page.
    pub fn navigation(mut self, navigation: Navigation) -> Self {
        self.page.navigation = navigation;
        self
    }

    /// Shows the page on top of the current one (the default).
    pub fn push(self) -> Self {
        self.navigation(Navigation::Push)
    }

    /// Shows the page in place of the current one.
    pub fn replace(self) -> Self {
        self.navigation(Navigation::Replace)
    }

    /// Closes the current page and shows this one in place of the page below.
    pub fn back(self) -> Self {
        self.navigation(Navigation::Back)
    }

    /// The page built so far.
    pub fn build(self) -> Page {
        self.page
    }
}

impl From<PageBuilder> for Page {
    fn from(builder: PageBuilder) -> Page {
        builder.build()
    }
}

impl ListItem {
    /// An item titled `title`, with no detail, action, thumbnail or
    /// trailing value; chain the setters below.
    pub fn new(title: impl Into<String>) -> Self {
        ListItem {
            title: title.into(),
            detail: String::new(),
            action: None,
            thumbnail: String::new(),
            trailing: String::new(),
        }
    }

    /// Sets the second, smaller line.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// Makes the item tappable, delivering a `tap` of `action`.
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Sets the thumbnail: `asset:NAME`, an image of the package.
    pub fn thumbnail(mut self, asset: impl Into<String>) -> Self {
        self.thumbnail = asset.into();
        self
    }

    /// Sets the short value at the item's end (an amount, a status).
    pub fn trailing(mut self, value: impl Into<String>) -> Self {
        self.trailing = value.into();
        self
    }
}

impl Constraints {
    /// No constraint at all.
    pub fn none() -> Self {
        Constraints {
            min: None,
            max: None,
            max_length: None,
            pattern: None,
            pattern_hint: String::new(),
        }
    }
}
