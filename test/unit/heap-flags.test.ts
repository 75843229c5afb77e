import { describe, expect, it } from 'vitest';
import { DAEMON_V8_FLAGS, daemonV8Flags } from '../../src/daemon/heap-flags.js';

describe('the daemon\'s V8 flags', () => {
  it('sets a slower growing heap when the operator set nothing', () => {
    expect(daemonV8Flags([], undefined)).toEqual(['--heap-growing-percent=10']);
    expect(daemonV8Flags(['--enable-source-maps'], '--max-semi-space-size=1')).toEqual([...DAEMON_V8_FLAGS]);
  });

  it('leaves a flag the operator gave, on the command line or in NODE_OPTIONS, in either spelling', () => {
    expect(daemonV8Flags(['--heap-growing-percent=50'], undefined)).toEqual([]);
    expect(daemonV8Flags([], '--max-semi-space-size=1 --heap_growing_percent=30')).toEqual([]);
  });
});
