/*
 * config - main.cf as every Postroom program sees it
 *
 * PROVISIONAL: a minimal reader so that other modules compile against the
 * final API (loadMainConfig / MainConfig). The full parser (conditional
 * expansion, recursion detection, the registry of every postconf(5)
 * parameter, unused-parameter warnings) replaces this file's insides.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ConfigOptions {
  /** -c dir; else $MAIL_CONFIG; else /etc/postfix. */
  readonly configDir?: string | undefined;
  /** -o name=value overrides, in command-line order. */
  readonly overrides?: readonly string[];
}

export function configDirectory(opt?: string): string {
  return opt ?? process.env.MAIL_CONFIG ?? '/etc/postfix';
}

export class MainConfig {
  readonly #values = new Map<string, string>();
  constructor(
    readonly configDirectory: string,
    text: string,
  ) {
    for (const line of text.split('\n')) {
      const m = /^([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (m) this.#values.set(m[1]!, m[2]!);
    }
  }
  raw(name: string): string | undefined {
    return this.#values.get(name);
  }
  set(name: string, value: string): void {
    this.#values.set(name, value);
  }
  expand(text: string): string {
    return text.replace(/\$(?:\{(\w+)\}|\((\w+)\)|(\w+))/g, (_m, a, b, c) => this.get(a ?? b ?? c));
  }
  get(name: string): string {
    return this.expand(this.#values.get(name) ?? '');
  }
  bool(name: string): boolean {
    return /^yes$/i.test(this.get(name));
  }
  int(name: string): number {
    return Number.parseInt(this.get(name), 10);
  }
  list(name: string): string[] {
    return this.get(name)
      .split(/[\s,]+/)
      .filter((w) => w !== '');
  }
}

export function loadMainConfig(opts: ConfigOptions = {}): MainConfig {
  const dir = configDirectory(opts.configDir);
  const cfg = new MainConfig(dir, readFileSync(join(dir, 'main.cf'), 'utf8'));
  for (const o of opts.overrides ?? []) {
    const eq = o.indexOf('=');
    if (eq > 0) cfg.set(o.slice(0, eq).trim(), o.slice(eq + 1).trim());
  }
  return cfg;
}
