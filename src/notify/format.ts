import type { Notification, NotificationType, RenderedMessage } from './types.js';
import type { RenderOptions } from './format-credential.js';
import { renderExpiryBatch, renderExpiryWarning, renderScanDigest } from './format-expiry.js';
import { renderStoreDamaged } from './format-store.js';
import { renderCredentialRetired, renderRetirePostponed, renderRotationAttention, renderRotationFailed, renderRotationParked, renderRotationSucceeded } from './format-rotation.js';

export type { RenderOptions } from './format-credential.js';

type Renderer<T extends NotificationType> = (n: Extract<Notification, { type: T }>, o: RenderOptions) => RenderedMessage;

// A new notification type does not compile until it has a renderer here.
const RENDERERS: { [T in NotificationType]: Renderer<T> } = {
  'expiry-warning': renderExpiryWarning,
  'expiry-batch': renderExpiryBatch,
  'scan-digest': renderScanDigest,
  'rotation-succeeded': renderRotationSucceeded,
  'rotation-failed': renderRotationFailed,
  'rotation-attention': renderRotationAttention,
  'rotation-parked': renderRotationParked,
  'credential-retired': renderCredentialRetired,
  'retire-postponed': renderRetirePostponed,
  'store-damaged': renderStoreDamaged,
};

/**
 * Renders one notification as Slack Block Kit blocks plus a plain-text fallback. Pure: time comes
 * from `options.now`. Every external value is escaped, and every block is cut to Slack's limits.
 */
export function renderNotification(n: Notification, options: RenderOptions): RenderedMessage {
  const render = RENDERERS[n.type] as Renderer<NotificationType>;
  return render(n as never, options);
}
