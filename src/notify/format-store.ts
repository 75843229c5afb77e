import { contextBlock, fallbackText, headerBlock, limitBlocks, sectionBlock } from './format-blocks.js';
import { dashboardLink, type RenderOptions } from './format-credential.js';
import { code, esc } from './format-text.js';
import type { Notification, RenderedMessage } from './types.js';

/** Free text from the store (the problem, the recovery step) gets room; it holds no secret. */
const PROSE_MAX = 1000;

export function renderStoreDamaged(n: Extract<Notification, { type: 'store-damaged' }>, o: RenderOptions): RenderedMessage {
  const problem = esc(n.problem, PROSE_MAX);
  const action = esc(n.action, PROSE_MAX);
  const blocks = [
    headerBlock(':warning: Unreadable secret in the store'),
    sectionBlock(`Secret ${code(n.secretName)} could not be read: ${problem}\n*What to do:* ${action}`),
    contextBlock('Every other credential is still watched; this one is listed as `error` in the inventory.', `File ${code(n.where, 300)}`, dashboardLink(o.dashboardUrl)),
  ];
  return {
    text: fallbackText([`Unreadable secret in the store: ${esc(n.secretName)} (${esc(n.where, 300)}): ${problem}`, `What to do: ${action}`]),
    blocks: limitBlocks(blocks),
  };
}
