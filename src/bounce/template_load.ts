/*
 * template_load - the bounce templates a configuration asks for
 *
 * loadTemplates(cfg) checks the parameters bounce(8) reads at start-up (in
 * Postfix's order and words: bounce_size_limit, the notice recipients,
 * maximal_queue_lifetime, delay_warning_time), then reads
 * $bounce_template_file when it is not empty and applies its templates
 * over Postroom's built-in ones. The result answers, for each kind,
 * the headers (get), the expanded message text (expand), and the text
 * `postconf -t` prints (dump). Problems end the program through msg, as
 * they end Postfix's bounce daemon and postconf.
 */
import type { MainConfig } from '../global/config.js';
import {
  type BounceTemplate,
  dumpTemplate,
  parseTemplate,
  TEMPLATE_KINDS,
  type TemplateKind,
} from './template.js';
import { DEFAULT_TEMPLATES } from './template_defaults.js';
import { type ExpandContext, type ExtraParams, expandLine } from './template_expand.js';
import { readTemplateFile } from './template_file.js';

export class BounceTemplates {
  readonly #templates: Readonly<Record<TemplateKind, BounceTemplate>>;
  readonly #ctx: Omit<ExpandContext, 'extra'>;

  constructor(templates: Readonly<Record<TemplateKind, BounceTemplate>>, ctx: Omit<ExpandContext, 'extra'>) {
    this.#templates = templates;
    this.#ctx = ctx;
  }

  get(kind: TemplateKind): BounceTemplate {
    return this.#templates[kind];
  }

  /** The message text of `kind`, one string a line, with $names expanded (extra first, then main.cf). */
  expand(kind: TemplateKind, extra: ExtraParams = {}): string[] {
    return [...this.expandLines(kind, extra)];
  }

  /** As expand(), a line at a time: output written so far stays when a later line is fatal. */
  *expandLines(kind: TemplateKind, extra: ExtraParams = {}): Generator<string> {
    const t = this.#templates[kind];
    const ctx = { ...this.#ctx, extra };
    for (const line of t.text) yield expandLine(ctx, t, line);
  }

  /** All four templates as `postconf -t` prints them: a valid bounce_template_file. */
  dump(): string {
    return TEMPLATE_KINDS.map((k) => dumpTemplate(this.#templates[k])).join('\n');
  }
}

/** The start-up checks of bounce(8); returns the two times in seconds. */
export function checkBounceParams(cfg: MainConfig): ExpandContext['times'] {
  cfg.int('bounce_size_limit', 1);
  for (const name of ['bounce_notice_recipient', '2bounce_notice_recipient', 'delay_notice_recipient']) {
    cfg.str(name, 1);
  }
  const maximal_queue_lifetime = cfg.time('maximal_queue_lifetime', 'd', 0, 8640000);
  const delay_warning_time = cfg.time('delay_warning_time', 'h', 0);
  return { maximal_queue_lifetime, delay_warning_time };
}

/**
 * The templates for this configuration. `file` replaces bounce_template_file
 * (as postconf's operand does); an empty name means the built-in templates.
 */
export function loadTemplates(cfg: MainConfig, file?: string): BounceTemplates {
  const times = checkBounceParams(cfg);
  const path = file ?? cfg.get('bounce_template_file');
  const templates = { ...DEFAULT_TEMPLATES };
  if (path !== '') {
    for (const [kind, body] of readTemplateFile(path)) {
      templates[kind] = parseTemplate(DEFAULT_TEMPLATES[kind], path, body);
    }
  }
  return new BounceTemplates(templates, { cfg, times });
}
