import { systemClock } from '../clock.js';
import { ULID_PATTERN } from '../jobs/queues/ids.js';
import { overrideRetire, RetireOverrideError, type RetireOverride } from '../jobs/retire-override.js';
import { loadCommandConfig, parseFlagsAndPositionals, usageError } from './args.js';
import { connectRedisParts } from '../parts/redis.js';
import { cliActor } from './rotate.js';
import type { Command } from './types.js';

const USAGE = `npx dfns-rotator retire <rotation> (--force | --extend HOURS) --reason TEXT [--json] [--config FILE]
  <rotation>       the rotation id (from the "still in use" alert, \`history\` or \`status\`)
  --force          retire the old credential now, although Dfns' audit log shows it still signing
                   (services still using it will get 401s)
  --extend HOURS   give its consumers HOURS more; then the usage check runs again
  --reason TEXT    why (at least 3 characters); it goes to the audit log
When an old credential still signs actions after its replacement was promoted, the daemon
postpones its retirement, up to rotation.maxOverlapHours after promotion; then it holds it for a
person to decide with this command.`;

export const retireCommand: Command = {
  name: 'retire',
  usage: USAGE,
  async run(ctx) {
    const { flags, positionals } = parseFlagsAndPositionals('retire', USAGE, ctx.argv, {
      force: { type: 'boolean' },
      extend: { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
      config: { type: 'string' },
    });
    const problems: string[] = [];
    const rotationId = positionals[0] ?? '';
    if (positionals.length !== 1) problems.push('<rotation>: name one rotation id');
    else if (!ULID_PATTERN.test(rotationId)) problems.push(`<rotation>: "${rotationId}" is not a rotation id (26 characters, like 01JA2B3C4D5E6F7G8H9JKMNPQR)`);
    if (!!flags.force === (flags.extend !== undefined)) problems.push('give exactly one of --force or --extend HOURS');
    const hours = flags.extend === undefined ? null : Number(flags.extend);
    if (hours !== null && !(Number.isFinite(hours) && hours > 0 && hours <= 24 * 90)) problems.push(`--extend: "${flags.extend}" is not a number of hours between 0 and 2160`);
    const reason = flags.reason?.trim() ?? '';
    if (reason.length < 3) problems.push('--reason: required, at least 3 characters (it goes to the audit log)');
    if (problems.length > 0) throw usageError('retire', USAGE, problems);

    const config = loadCommandConfig(ctx, flags.config);
    const parts = await connectRedisParts(config, { err: ctx.err, logger: ctx.logger.child({ command: 'retire' }) });
    if (!parts) return 1;
    try {
      const override: RetireOverride = hours === null ? { kind: 'force' } : { kind: 'extend', hours };
      const now = (ctx.clock ?? systemClock).now();
      const record = await overrideRetire({ rotations: parts.rotations, retireQueue: parts.queues.retire, audit: parts.audit }, rotationId, override, { actor: cliActor(ctx.env), reason, now });
      const credential = `${record.kind === 'service-account' ? 'sa' : 'pat'}:${record.old.credentialId}`;
      if (flags.json) ctx.out(JSON.stringify({ rotationId, secretName: record.secretName, credential, decision: override.kind, retireAt: record.retireAt }));
      else if (override.kind === 'force') ctx.out(`rotation ${rotationId}: the old credential ${credential} (${record.old.name}) of ${record.secretName} is retired now by the daemon`);
      else ctx.out(`rotation ${rotationId}: the old credential ${credential} (${record.old.name}) of ${record.secretName} is checked again at ${new Date(record.retireAt!).toISOString()}`);
      return 0;
    } catch (err) {
      if (!(err instanceof RetireOverrideError)) throw err;
      ctx.err(`retire: ${err.message}`);
      return 1;
    } finally {
      await parts.close();
    }
  },
};
