/*
 * mime_limits - the main.cf parameters that bound the content parser
 *
 * Read once at start-up through the parameter registry, so a bad value
 * stops the program there with Postfix's wording, never mid-message.
 */
import { loadParams, type MainConfig } from '../global/config.js';
import type { MimeLimits } from './mime_state.js';

export function mimeLimits(cfg: MainConfig): MimeLimits {
  const p = loadParams(cfg, [
    'header_size_limit',
    'mime_nesting_limit',
    'mime_boundary_length_limit',
    'disable_mime_input_processing',
  ]);
  return {
    headerSizeLimit: p.header_size_limit as number,
    nestingLimit: p.mime_nesting_limit as number,
    boundaryLengthLimit: p.mime_boundary_length_limit as number,
    disableMime: p.disable_mime_input_processing as boolean,
  };
}
