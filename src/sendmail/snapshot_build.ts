/*
 * snapshot_build - make the V8 start-up snapshot that bin/sendmail starts from
 *
 *	node dist/src/sendmail/snapshot_build.js	(npm run build)
 *
 * sendmail runs once per message, so its start-up is on every message's
 * path. Started as ES modules, Node spends about as long loading and
 * evaluating sendmail's modules as it spends starting itself. A start-up
 * snapshot (node --build-snapshot, Node >= 18.20) holds the heap with
 * every module already evaluated; node then starts from it about as fast
 * as from its own built-in snapshot.
 *
 * Node 20 snapshots one classic script that may require() only built-in
 * modules, so this program first bundles the ES modules reachable from
 * dist/src/sendmail/run.js into one script: each module becomes a
 * function run on first use, in import order, its imports turned into
 * reads of the modules it names. It accepts only what tsc emits for this
 * code base (single-line import/export statements, no default export, no
 * `export let`, no import cycles) and refuses anything else, naming the
 * file, so a change elsewhere can never produce a wrong snapshot silently.
 *
 * Output, in dist/: sendmail.blob and sendmail.blob.node (the absolute
 * path of the node that built it; the launcher runs exactly that binary,
 * and only while the blob is newer than both it and the compiled modules,
 * so a rebuild or a node upgrade falls back to the ES modules). Both are
 * written under temporary names and renamed, so a sendmail starting
 * meanwhile sees the old pair or the new one.
 *
 * The snapshot holds what the modules computed when it was built, such as
 * the installation directory (host_defaults.ts INSTALL_ROOT, from
 * import.meta.url): after moving the tree, build it again.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST_SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = dirname(DIST_SRC);
const ENTRY = join(DIST_SRC, 'sendmail/run.js');

/** The compiled modules use a form the bundler does not handle. */
export class Unsupported extends Error {}

interface Module {
  readonly id: string;
  readonly code: string;
  readonly deps: readonly string[];
}

/** "a, b as c" -> [["a", "a"], ["b", "c"]] (imported name, local name). */
function names(list: string): [string, string][] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(\w+)(?:\s+as\s+(\w+))?$/.exec(s);
      if (!m) throw new Unsupported(`import/export list item "${s}"`);
      return [m[1] as string, (m[2] ?? m[1]) as string];
    });
}

/** One compiled ES module as the body of a function(__exports). */
function transform(file: string): Module {
  const id = relative(DIST_SRC, file);
  const deps: string[] = [];
  const exported: [string, string][] = [];
  const req = (spec: string): string => {
    if (spec.startsWith('node:')) return `require(${JSON.stringify(spec)})`;
    if (!spec.startsWith('.')) throw new Unsupported(`package import "${spec}"`);
    const dep = relative(DIST_SRC, resolve(dirname(file), spec));
    deps.push(dep);
    return `__req(${JSON.stringify(dep)})`;
  };
  const out: string[] = [];
  const here = JSON.stringify(pathToFileURL(file).href);
  for (const line of readFileSync(file, 'utf8').replaceAll('import.meta.url', here).split('\n')) {
    let m: RegExpExecArray | null;
    if (line.startsWith('//# sourceMappingURL=')) continue;
    if ((m = /^import \* as (\w+) from '([^']+)';$/.exec(line)))
      out.push(`const ${m[1]} = ${req(m[2] as string)};`);
    else if ((m = /^import \{([^}]*)\} from '([^']+)';$/.exec(line))) {
      const bind = names(m[1] as string).map(([a, b]) => (a === b ? a : `${a}: ${b}`));
      out.push(`const { ${bind.join(', ')} } = ${req(m[2] as string)};`);
    } else if ((m = /^export \{([^}]*)\} from '([^']+)';$/.exec(line))) {
      const from = req(m[2] as string);
      for (const [a, b] of names(m[1] as string)) out.push(`__exports.${b} = ${from}.${a};`);
    } else if ((m = /^export \{([^}]*)\};$/.exec(line))) exported.push(...names(m[1] as string));
    else if ((m = /^export ((?:async\s+)?function\s*\*?\s*(\w+)|class\s+(\w+)|const\s+(\w+))/.exec(line))) {
      const name = (m[2] ?? m[3] ?? m[4]) as string;
      exported.push([name, name]);
      out.push(line.slice('export '.length));
    } else if (/^\s*(import|export)\b/.test(line) || /\bimport\s*\(/.test(line))
      throw new Unsupported(`statement "${line.trim()}"`);
    else out.push(line);
  }
  for (const [local, name] of exported) out.push(`__exports.${name} = ${local};`);
  return { id, code: out.join('\n'), deps };
}

/** Every module reachable from `entry`, dependencies first; throws on a cycle. */
function collect(entry: string): Module[] {
  const order: Module[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string) => {
    const id = relative(DIST_SRC, file);
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'open') throw new Unsupported(`import cycle through ${id}`);
    state.set(id, 'open');
    let mod: Module;
    try {
      mod = transform(file);
    } catch (e) {
      if (e instanceof Unsupported) throw new Unsupported(`${file}: ${e.message}`);
      throw e;
    }
    for (const dep of mod.deps) visit(join(DIST_SRC, dep));
    state.set(id, 'done');
    order.push(mod);
  };
  visit(entry);
  return order;
}

export function bundle(entry: string = ENTRY): string {
  const mods = collect(entry);
  const parts = [
    "'use strict';",
    'const __defs = new Map();',
    'const __cache = new Map();',
    'function __req(id) {',
    '  let e = __cache.get(id);',
    '  if (e === undefined) {',
    '    e = {};',
    '    __cache.set(id, e);',
    '    __defs.get(id)(e);',
    '  }',
    '  return e;',
    '}',
  ];
  for (const m of mods)
    parts.push(`__defs.set(${JSON.stringify(m.id)}, function (__exports) {\n${m.code}\n});`);
  // Evaluate everything now, into the snapshot; the process-dependent work waits for main.
  parts.push(
    `const { runSendmail } = __req(${JSON.stringify(relative(DIST_SRC, entry))});`,
    "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => {",
    '  void runSendmail(process.argv.slice(1));',
    '});',
    '',
  );
  return parts.join('\n');
}

/**
 * Bundle sendmail and snapshot it into `<dir>/sendmail.blob` (with
 * sendmail.blob.node beside it); the blob's path. Throws Unsupported when
 * the modules cannot be bundled, Error when node cannot snapshot them.
 */
export function buildSnapshot(dir: string = DIST): string {
  const script = join(dir, 'sendmail.snapshot.cjs');
  const blob = join(dir, 'sendmail.blob');
  const tmp = `${blob}.${process.pid}`;
  writeFileSync(script, bundle());
  const r = spawnSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`node --build-snapshot failed: ${r.stderr || r.error?.message}`);
  }
  writeFileSync(`${tmp}.node`, `${process.execPath}\n`);
  renameSync(`${tmp}.node`, `${blob}.node`);
  renameSync(tmp, blob);
  return blob;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const blob = buildSnapshot();
    process.stdout.write(`${blob}: sendmail start-up snapshot for ${process.execPath} ${process.version}\n`);
  } catch (e) {
    const what = e instanceof Unsupported ? 'cannot bundle' : 'cannot snapshot';
    process.stderr.write(`snapshot_build: ${what}: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
