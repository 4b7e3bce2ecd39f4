import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isServiceUp, novaDbTime, zoneOf, type ServiceRow } from './service-state.js';

const row = (over: Partial<ServiceRow>): ServiceRow => ({
  id: 1,
  uuid: 'u',
  host: 'h',
  binary: 'nova-compute',
  topic: 'compute',
  disabled: 0,
  disabled_reason: null,
  forced_down: 0,
  last_seen_up: null,
  created_at: '2024-01-01T00:00:00.000Z',
  updated_at: null,
  ...over,
});

describe('service state', () => {
  const now = Date.parse('2024-01-01T00:10:00.000Z');
  it('is up with a recent heartbeat and down after service_down_time', () => {
    assert.equal(isServiceUp(row({ last_seen_up: '2024-01-01T00:09:30.000Z' }), 60, now), true);
    assert.equal(isServiceUp(row({ last_seen_up: '2024-01-01T00:08:59.000Z' }), 60, now), false);
    assert.equal(isServiceUp(row({ last_seen_up: '2024-01-01T00:08:59.000Z' }), 120, now), true);
  });
  it('is down when forced down, whatever the heartbeat', () => {
    assert.equal(isServiceUp(row({ last_seen_up: '2024-01-01T00:10:00.000Z', forced_down: 1 }), 60, now), false);
  });
  it("formats times as Nova's os-services does", () => {
    assert.equal(novaDbTime('2024-05-06T07:08:09.123Z'), '2024-05-06T07:08:09.123000');
    assert.equal(novaDbTime(null), null);
  });
  it('puts compute hosts in their aggregate zone or the default, others in internal', () => {
    const zones = new Map([['h', 'az1']]);
    assert.equal(zoneOf(row({}), zones, 'nova'), 'az1');
    assert.equal(zoneOf(row({ host: 'other' }), zones, 'nova'), 'nova');
    assert.equal(zoneOf(row({ binary: 'nova-scheduler' }), zones, 'nova'), 'internal');
  });
});
