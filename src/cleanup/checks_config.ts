/*
 * checks_config - cleanup's content inspection set up from main.cf
 *
 * Reads header_checks, mime_header_checks, nested_header_checks,
 * body_checks, body_checks_size_limit, the MIME limits and the strict_*
 * options through the parameter registry, and opens each table list once
 * (mime_header_checks and nested_header_checks default to
 * $header_checks and then share its tables).
 */
import { loadParams, type MainConfig } from '../global/config.js';
import { msg } from '../global/msg.js';
import { type ChecksConfig, type CheckTables, mimeReportMask, openCheckTables } from './checks_engine.js';
import { mimeLimits } from './mime_limits.js';

export async function loadContentChecks(cfg: MainConfig, warn = msg.warn): Promise<ChecksConfig> {
  const p = loadParams(cfg, [
    'header_checks',
    'mime_header_checks',
    'nested_header_checks',
    'body_checks',
    'body_checks_size_limit',
    'strict_8bitmime',
    'strict_7bit_headers',
    'strict_8bitmime_body',
    'strict_mime_encoding_domain',
  ]);
  const opened = new Map<string, CheckTables | undefined>();
  const open = async (title: string, purpose: 'header' | 'body'): Promise<CheckTables | undefined> => {
    const value = String(p[title as keyof typeof p]).trim();
    const key = `${purpose} ${value}`;
    if (!opened.has(key)) opened.set(key, await openCheckTables(title, value, purpose, warn));
    const tables = opened.get(key);
    return tables && { title, dicts: tables.dicts };
  };
  return {
    limits: mimeLimits(cfg),
    reportMask: mimeReportMask({
      strict_8bitmime: p.strict_8bitmime as boolean,
      strict_7bit_headers: p.strict_7bit_headers as boolean,
      strict_8bitmime_body: p.strict_8bitmime_body as boolean,
      strict_mime_encoding_domain: p.strict_mime_encoding_domain as boolean,
    }),
    bodyCheckLimit: p.body_checks_size_limit as number,
    header: await open('header_checks', 'header'),
    mimeHeader: await open('mime_header_checks', 'header'),
    nestedHeader: await open('nested_header_checks', 'header'),
    body: await open('body_checks', 'body'),
  };
}

/**
 * receive_override_options=no_header_body_checks (set by the submitting
 * service): the same parsing and MIME error handling, no tables.
 */
export function withoutHeaderBodyChecks(config: ChecksConfig): ChecksConfig {
  return { limits: config.limits, reportMask: config.reportMask, bodyCheckLimit: config.bodyCheckLimit };
}
