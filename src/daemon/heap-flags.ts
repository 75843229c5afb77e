/**
 * V8 settings for `dfns-rotator start`. The daemon's live set is small (tens of MB) but each scan
 * makes a large short-lived one (every credential's listing, classification and result page):
 * with V8's defaults the old generation then grows to several times the live set before it is
 * collected, which is most of the daemon's peak RSS at 10,000 credentials (README "Memory").
 * A slower growing heap is collected sooner, for a little more GC time per scan.
 *
 * Only flags V8 reads while running belong here (the new space's size is fixed at start-up: it
 * is `NODE_OPTIONS=--max-semi-space-size=1` in the Docker image). A flag the operator gave
 * (command line or NODE_OPTIONS) wins.
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--heap-growing-percent=10'];

/** The daemon's flags the operator did not set already, in `execArgv` or `NODE_OPTIONS`. */
export function daemonV8Flags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].map((f) => f.split('=')[0]!.replace(/_/g, '-'));
  return DAEMON_V8_FLAGS.filter((flag) => !given.includes(flag.split('=')[0]!));
}
