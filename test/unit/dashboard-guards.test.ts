import { describe, expect, it } from 'vitest';
import { describeDashboardAction } from '../../src/server/dashboard-audit.js';
import { allowedHostNames, hostNameOf } from '../../src/server/host-check.js';
import { jsonDepth } from '../../src/server/json-body.js';

describe('the Host allow-list', () => {
  it.each([
    ['127.0.0.1:8730', '127.0.0.1'],
    ['LOCALHOST:8730', 'localhost'],
    ['[::1]:8730', '::1'],
    ['[::1]', '::1'],
    ['rotator.internal.example', 'rotator.internal.example'],
    ['evil.example:80', 'evil.example'],
  ])('reads %s as %s', (header, name) => {
    expect(hostNameOf(header)).toBe(name);
  });

  it('serves the bound address and loopback by default, and a wildcard bind only by listed names', () => {
    expect([...allowedHostNames('10.0.0.5')].sort()).toEqual(['10.0.0.5', '127.0.0.1', '::1', 'localhost']);
    expect([...allowedHostNames('0.0.0.0', ['Rotator.Internal.Example.'])].sort()).toEqual(['127.0.0.1', '::1', 'localhost', 'rotator.internal.example']);
    expect(allowedHostNames('::').has('::')).toBe(false);
  });
});

describe('JSON depth', () => {
  it.each([
    [1, 0],
    [{}, 1],
    [{ a: [1, { b: null }] }, 3],
    [[[[[]]]], 4],
  ])('%j is %d deep', (value, depth) => {
    expect(jsonDepth(value)).toBe(depth);
  });

  it('stops counting past the limit without recursing', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepth(deep, 32)).toBe(33);
  });
});

describe('dashboard actions in the audit log', () => {
  it.each([
    ['PUT', '/api/queues/pause', { action: 'paused all queues' }],
    ['PUT', '/api/queues/rotate/pause', { action: 'paused queue', queue: 'rotate' }],
    ['PUT', '/api/queues/rotate/retry/failed', { action: 'retried all jobs', queue: 'rotate', target: 'failed' }],
    ['PUT', '/api/queues/rotate/rotate_01JAAAAAAAAAAAAAAAAAAAAAAA/retry', { action: 'retried job', queue: 'rotate', target: 'rotate_01JAAAAAAAAAAAAAAAAAAAAAAA' }],
    ['PUT', '/api/queues/retire/promote', { action: 'promoted all delayed jobs', queue: 'retire' }],
    ['PUT', '/api/queues/scan/empty', { action: 'emptied queue', queue: 'scan' }],
    ['PATCH', '/api/queues/retire/retire_x_deactivate/delay', { action: 'rescheduled job', queue: 'retire', target: 'retire_x_deactivate' }],
  ])('%s %s', (method, path, expected) => {
    expect(describeDashboardAction(method, path)).toEqual(expected);
  });

  it('leaves reads and Add job (which records its own entry) alone', () => {
    expect(describeDashboardAction('GET', '/api/queues/rotate/pause')).toBeNull();
    expect(describeDashboardAction('POST', '/api/queues/rotate/add')).toBeNull();
  });
});
