// @plaza/sdk: the Plaza contract (host-api/wit) for JavaScript and TypeScript
// mini-apps. `plaza build` writes this package into `.plaza/sdk` of the
// mini-app and bundles what the app imports into its component.
//
// This module holds what every mini-app uses and imports no capability: the
// page builder, the app wrapper, host errors, event and money helpers. Each
// capability has a module of its own (`@plaza/sdk/storage`, `.../identity`,
// `.../payment`, `.../messaging`, `.../log`, `.../clock`, `.../config`,
// `.../scan`):
// import one only when plaza.toml declares the capability (the world
// `plaza build` makes has only those interfaces; TypeScript refuses the rest).

import type {
  Block,
  ButtonStyle,
  ChoiceOption,
  Constraints,
  Event,
  Input,
  InputKind,
  ListItem,
  Navigation,
  NoticeLevel,
  Page,
} from 'plaza:host/pages@0.1.1';
import type { FieldValue } from 'plaza:host/types@0.1.1';

export type {
  Block,
  Button,
  ButtonStyle,
  ChatMessage,
  ChoiceOption,
  Constraints,
  Event,
  Image,
  Input,
  InputKind,
  KeyValue,
  LaunchEvent,
  ListItem,
  Navigation,
  Notice,
  NoticeLevel,
  Page,
  Section,
  SubmitEvent,
} from 'plaza:host/pages@0.1.1';
export type { FieldValue } from 'plaza:host/types@0.1.1';
export * from './errors';

/**
 * The options of a `choice` or `multi-choice` input: `[value, label]` pairs
 * or the contract's `{ value, label }` records, in the order shown.
 */
export type Choices = ReadonlyArray<ChoiceOption | readonly [string, string]>;

/**
 * What the host checks a submitted value against before the submission
 * reaches the mini-app (the contract's `constraints`, each part optional):
 * a value that breaks one is refused with the reason shown to the user.
 */
export interface InputConstraints {
  /** The smallest value of a `number`, `date` (`YYYY-MM-DD`) or `time` (`HH:MM`) input. */
  min?: string;
  /** The largest value, as `min`. */
  max?: string;
  /** The most characters the value may have. */
  maxLength?: number;
  /** A regular expression the whole value must match (Rust `regex` syntax). */
  pattern?: string;
  /** What a value that fits `pattern` looks like, told to the user when it does not. */
  patternHint?: string;
}

/** Options of a form input: what it starts with, whether it is required or read-only, its constraints. */
export interface InputOptions extends InputConstraints {
  /** What it accepts (default `text`). */
  kind?: InputKind;
  /** What it starts with (default empty). */
  value?: string;
  /** Whether the host refuses to submit the form while it is empty (default false). */
  required?: boolean;
  /** Whether the user sees the value but cannot change it (default false). */
  readOnly?: boolean;
  /** The options of a `choice` or `multi-choice` input. */
  options?: Choices;
}

/** A list entry of a section: only `title` is needed. */
export interface ItemInit {
  /** The main line. */
  title: string;
  /** A second, smaller line. */
  detail?: string;
  /** The action id a tap on the item delivers; none: not tappable. */
  action?: string;
  /** A small image before the text: `asset:NAME` of the package's `assets/`. */
  thumbnail?: string;
  /** A short value at the item's end (an amount, a status). */
  trailing?: string;
}

/** More of a list item than its title, detail and action. */
export interface ItemExtras {
  /** A small image before the text: `asset:NAME` of the package's `assets/`. */
  thumbnail?: string;
  /** A short value at the item's end (an amount, a status). */
  trailing?: string;
}

/** Options of a section. */
export interface SectionOptions {
  /**
   * The action id a `load-more` event carries when the user reaches the
   * section's end; none when the section holds everything.
   */
  loadMore?: string;
}

function listItem({ title, detail = '', action, thumbnail = '', trailing = '' }: ItemInit): ListItem {
  return { title, detail, action, thumbnail, trailing };
}

function choiceOptions(choices: Choices): ChoiceOption[] {
  return choices.map((c) => (Array.isArray(c) ? { value: c[0], label: c[1] } : { ...(c as ChoiceOption) }));
}

function constraints({ min, max, maxLength, pattern, patternHint = '' }: InputConstraints): Constraints {
  return { min, max, maxLength, pattern, patternHint };
}

/**
 * Builds a page block by block, in reading order:
 * `page('Clinic').heading('Today').text('Open until 17:00').button('Book', 'book', 'primary').build()`.
 */
export class PageBuilder {
  private readonly blocks: Block[] = [];
  private how: Navigation = 'push';
  private pullToRefresh = false;

  constructor(private readonly title: string) {}

  /** A section heading. */
  heading(text: string): this {
    return this.block({ tag: 'heading', val: text });
  }

  /** A paragraph. */
  text(text: string): this {
    return this.block({ tag: 'text', val: text });
  }

  /** A label and its value, side by side. */
  field(label: string, value: string): this {
    return this.block({ tag: 'field', val: { label, value } });
  }

  /**
   * A list entry; tapping it delivers `action` as a tap event (none: not
   * tappable); `extras` give it a thumbnail and a trailing value.
   */
  item(title: string, detail = '', action?: string, extras: ItemExtras = {}): this {
    return this.block({ tag: 'item', val: listItem({ title, detail, action, ...extras }) });
  }

  /**
   * A list under a heading (empty: none), such as one day's slots; with
   * `loadMore`, the user reaching its end delivers a `load-more` event.
   */
  section(heading: string, items: readonly ItemInit[], options: SectionOptions = {}): this {
    return this.block({
      tag: 'section',
      val: { heading, items: items.map(listItem), loadMore: options.loadMore },
    });
  }

  /** A button delivering `action` as a tap event. */
  button(label: string, action: string, style: ButtonStyle = 'secondary'): this {
    return this.block({ tag: 'button', val: { label, action, style } });
  }

  /**
   * An input of form `form`; inputs with the same form id make one form.
   * `options` set its kind, value, whether it is required or read-only, and
   * the constraints the host checks before the submission reaches the app.
   */
  input(form: string, name: string, label: string, options: InputOptions = {}): this {
    const { kind = 'text', value = '', required = false, readOnly = false, options: choices = [] } = options;
    const input: Input = {
      form,
      name,
      kind,
      label,
      value,
      required,
      readOnly,
      options: choiceOptions(choices),
      constraints: constraints(options),
    };
    return this.block({ tag: 'input', val: input });
  }

  /**
   * A choice of one of `choices` (radio buttons for five or fewer, a picker
   * otherwise); the host refuses a value that is not an option's.
   */
  choice(form: string, name: string, label: string, choices: Choices, options: Omit<InputOptions, 'kind' | 'options'> = {}): this {
    return this.input(form, name, label, { ...options, kind: 'choice', options: choices });
  }

  /**
   * Any number of `choices`, as checkboxes; submitted as the chosen values
   * in option order joined with `,` (read them with `choices`). `chosen`
   * are the values checked at first.
   */
  multiChoice(
    form: string,
    name: string,
    label: string,
    choices: Choices,
    chosen: readonly string[] = [],
    options: Omit<InputOptions, 'kind' | 'options' | 'value'> = {},
  ): this {
    return this.input(form, name, label, { ...options, kind: 'multi-choice', options: choices, value: chosen.join(',') });
  }

  /** A switch, submitted as `true` or `false`. */
  switch(form: string, name: string, label: string, on = false, options: { readOnly?: boolean } = {}): this {
    return this.input(form, name, label, { ...options, kind: 'switch', value: on ? 'true' : 'false' });
  }

  /** A value the user does not see, submitted with the form; the host refuses a submission that changes it. */
  hidden(form: string, name: string, value: string): this {
    return this.input(form, name, '', { kind: 'hidden', value });
  }

  /** An image: `asset:NAME` of the package, or an `https:` URL of a declared image origin. */
  image(url: string, alt: string): this {
    return this.block({ tag: 'image', val: { url, alt } });
  }

  /** A message the user should notice. */
  notice(level: NoticeLevel, text: string): this {
    return this.block({ tag: 'notice', val: { level, text } });
  }

  /** Any block, or several. */
  block(...blocks: Block[]): this {
    this.blocks.push(...blocks);
    return this;
  }

  /** Lets the user pull the page down, which delivers a `refresh` event. */
  refreshable(on = true): this {
    this.pullToRefresh = on;
    return this;
  }

  /** Shows the page on top of the current one (the default). */
  push(): this {
    this.how = 'push';
    return this;
  }

  /** Shows the page in place of the current one. */
  replace(): this {
    this.how = 'replace';
    return this;
  }

  /** Closes the current page and shows this one in place of the one below it. */
  back(): this {
    this.how = 'back';
    return this;
  }

  /** The page, as the contract's `page` record. */
  build(): Page {
    return { title: this.title, blocks: [...this.blocks], navigation: this.how, refreshable: this.pullToRefresh };
  }
}

/** A page builder for a page titled `title`. */
export function page(title: string): PageBuilder {
  return new PageBuilder(title);
}

/** What a mini-app's handler may answer: a page, a builder, or a promise of either (for `fetch`). */
export type Answer = Page | PageBuilder | Promise<Page | PageBuilder>;

/** The `pages` interface a mini-app exports (`export const pages = defineApp(...)`). */
export interface App {
  handle(event: Event): Page | Promise<Page>;
}

/**
 * The mini-app's export from a function of the event: `export const pages =
 * defineApp((event) => page('Hello').text('Hi'));` (the contract's `pages`
 * interface, which componentize-js takes from the module's `pages` export).
 * The handler may be async (to `await fetch(...)`): the component runs its
 * event loop until the page is ready.
 */
export function defineApp(handler: (event: Event) => Answer): App {
  return {
    handle(event: Event): Page | Promise<Page> {
      const answer = handler(event);
      if (answer instanceof Promise) return answer.then(toPage);
      return toPage(answer);
    },
  };
}

function toPage(answer: Page | PageBuilder): Page {
  return answer instanceof PageBuilder ? answer.build() : answer;
}

/**
 * Name → value of a submitted form's fields, a launch's query parameters or
 * a message's fields (the first value of a repeated name).
 */
export function fields(list: FieldValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of list) {
    if (!(name in out)) out[name] = value;
  }
  return out;
}

/**
 * The values of a submitted `multi-choice` field (`'sms,wechat'` →
 * `['sms', 'wechat']`; empty → `[]`).
 */
export function choices(value: string | undefined): string[] {
  return value ? value.split(',') : [];
}

/** The contract's `field-value` list for name → value pairs (a message template's fields). */
export function fieldList(values: Record<string, string>): FieldValue[] {
  return Object.entries(values).map(([name, value]) => ({ name, value }));
}

/** `CNY 68.00` for 6800 minor units (fen). */
export function money(minor: bigint | number, currency = 'CNY'): string {
  const amount = BigInt(minor);
  const sign = amount < 0n ? '-' : '';
  const abs = amount < 0n ? -amount : amount;
  return `${currency} ${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}
