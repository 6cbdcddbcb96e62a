// @plaza/sdk: the Plaza contract (host-api/wit) for JavaScript and TypeScript
// mini-apps. `plaza build` writes this package into `.plaza/sdk` of the
// mini-app and bundles what the app imports into its component.
//
// This module holds what every mini-app uses and imports no capability: the
// page builder, the app wrapper, host errors, event and money helpers. Each
// capability has a module of its own (`@plaza/sdk/storage`, `.../identity`,
// `.../payment`, `.../messaging`, `.../log`, `.../clock`, `.../config`):
// import one only when plaza.toml declares the capability (the world
// `plaza build` makes has only those interfaces; TypeScript refuses the rest).

import type {
  Block,
  ButtonStyle,
  Event,
  InputKind,
  Navigation,
  NoticeLevel,
  Page,
} from 'plaza:host/app@0.1.0';
import type { FieldValue } from 'plaza:host/types@0.1.0';

export type {
  Block,
  Button,
  ButtonStyle,
  ChatMessage,
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
  SubmitEvent,
} from 'plaza:host/app@0.1.0';
export type { FieldValue } from 'plaza:host/types@0.1.0';
export * from './errors';

/** Options of a form input. */
export interface InputOptions {
  /** What it accepts (default `text`). */
  kind?: InputKind;
  /** What it starts with (default empty). */
  value?: string;
  /** Whether the host refuses to submit the form while it is empty (default false). */
  required?: boolean;
}

/**
 * Builds a page block by block, in reading order:
 * `page('Clinic').heading('Today').text('Open until 17:00').button('Book', 'book', 'primary').build()`.
 */
export class PageBuilder {
  private readonly blocks: Block[] = [];
  private how: Navigation = 'push';

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

  /** A list entry; tapping it delivers `action` as a tap event (none: not tappable). */
  item(title: string, detail = '', action?: string): this {
    return this.block({ tag: 'item', val: { title, detail, action } });
  }

  /** A button delivering `action` as a tap event. */
  button(label: string, action: string, style: ButtonStyle = 'secondary'): this {
    return this.block({ tag: 'button', val: { label, action, style } });
  }

  /** An input of form `form`; inputs with the same form id make one form. */
  input(form: string, name: string, label: string, options: InputOptions = {}): this {
    const { kind = 'text', value = '', required = false } = options;
    return this.block({ tag: 'input', val: { form, name, kind, label, value, required } });
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
    return { title: this.title, blocks: [...this.blocks], navigation: this.how };
  }
}

/** A page builder for a page titled `title`. */
export function page(title: string): PageBuilder {
  return new PageBuilder(title);
}

/** What a mini-app's handler may answer: a page, a builder, or a promise of either (for `fetch`). */
export type Answer = Page | PageBuilder | Promise<Page | PageBuilder>;

/** The `app` interface a mini-app exports (`export const app = defineApp(...)`). */
export interface App {
  handle(event: Event): Page | Promise<Page>;
}

/**
 * The mini-app's export from a function of the event: `export const app =
 * defineApp((event) => page('Hello').text('Hi'));`. The handler may be async
 * (to `await fetch(...)`): the component runs its event loop until the page
 * is ready.
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
