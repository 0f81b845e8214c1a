/*
 * postconf_templates - postconf -t and -b: the bounce message templates
 *
 * -t [template_file] prints the four templates (failure, delay, success,
 * verify) in bounce(5) format: Postroom's built-in ones, with those that
 * $bounce_template_file (or the operand; "" means none) defines put in
 * their place. The output is itself a valid template file.
 * -b [template_file] prints each template's message text with its $names
 * expanded from main.cf, as "expanded_<kind>_text = <<EOF ... EOF".
 *
 * As in Postfix 3.7, everything after main.cf is read speaks as
 * "$syslog_name/bounce" (bounce(8)'s own checks and diagnostics); a
 * fatal error during -b expansion leaves on stdout only the complete
 * 4096-byte blocks written so far, as Postfix's buffered stdout does.
 */

import { TEMPLATE_KINDS } from '../bounce/template.js';
import { loadTemplates } from '../bounce/template_load.js';
import { msg } from '../global/msg.js';
import { encodeBytes } from '../maps/bytes.js';
import { completeBlocks, writeStdoutSync } from '../util/stdio.js';
import { readMainCf } from './postconf_main.js';

export function showTemplates(
  mode: 'b' | 't',
  configDir: string | undefined,
  operands: readonly string[],
): number {
  if (operands.length > 1) return msg.fatal('options -b and -t require at most one template file');
  const cfg = readMainCf(configDir, []);
  msg.setProgram(`${cfg.get('syslog_name')}/bounce`);
  const file = operands[0];
  if (file !== undefined)
    cfg.set(
      'bounce_template_file',
      file.replaceAll('$', () => '$$'),
    );
  const templates = loadTemplates(cfg, file);
  if (mode === 't') {
    writeStdoutSync(encodeBytes(templates.dump()));
    return 0;
  }
  let out = '';
  const partial = (): void => {
    const bytes = encodeBytes(out);
    writeStdoutSync(completeBlocks(bytes));
  };
  process.on('exit', partial);
  TEMPLATE_KINDS.forEach((kind, i) => {
    out += `${i > 0 ? '\n' : ''}expanded_${kind}_text = <<EOF\n`;
    for (const line of templates.expandLines(kind)) out += `${line}\n`;
    out += 'EOF\n';
  });
  process.off('exit', partial);
  writeStdoutSync(encodeBytes(out));
  return 0;
}
