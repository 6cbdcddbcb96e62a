//! Building pages.

use crate::{
    Block, Button, ButtonStyle, Image, Input, InputKind, KeyValue, ListItem, Navigation, Notice,
    NoticeLevel, Page,
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
            title: title.into(),
            detail: detail.into(),
            action: action.map(str::to_owned),
        }))
    }

    /// Adds a tappable list entry: [`item`](Self::item) with an action.
    pub fn link(
        self,
        title: impl Into<String>,
        detail: impl Into<String>,
        action: impl Into<String>,
    ) -> Self {
        self.block(Block::Item(ListItem {
            title: title.into(),
            detail: detail.into(),
            action: Some(action.into()),
        }))
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
        }))
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
