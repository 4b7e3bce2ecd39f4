/**
 * The asserting steps end-to-end tests take with the real `openstack` CLI against a cloud
 * process: each fails the test with what the CLI printed when the step does not succeed.
 *
 * Contract: `cliSteps(cloud)` asks `cloud()` for the cloud on every step (so it can be made
 * before the cloud starts, and a step fails with cloud()'s message when none runs).
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCliBatch, type BatchResult } from './cli-batch.js';
import { describeCli, type CliResult, type CloudProcess } from './process.js';

export interface CliSteps {
  /** Runs the CLI and asserts it succeeded; returns the result (with .json for -f json). */
  ok(args: string[], opts?: { cloud?: string }): Promise<CliResult>;
  /** The commands in one CLI process (none may fail); want = how many print JSON (-f json). */
  batch(commands: string[][], want: number): Promise<BatchResult>;
  /** Polls `server show` every second until the status is `status`; fails at once on ERROR, or after timeoutMs (default 120 s). */
  waitStatus(ref: string, status: string, timeoutMs?: number): Promise<any>;
  /** Polls `console log show` until it matches re; fails after timeoutMs (default 120 s) with the log's end. */
  waitConsoleLog(ref: string, re: RegExp, timeoutMs?: number): Promise<string>;
}

export function cliSteps(cloud: () => CloudProcess): CliSteps {
  async function ok(args: string[], opts: { cloud?: string } = {}): Promise<CliResult> {
    const r = await cloud().cli(args, opts);
    assert.equal(r.code, 0, describeCli(r));
    return r;
  }

  async function batch(commands: string[][], want: number): Promise<BatchResult> {
    const r = await runCliBatch(commands, { cloudsYaml: cloud().cloudsYaml });
    assert.equal(r.stderr.trim(), '', `a command failed:\n${r.input}\nstderr: ${r.stderr}`);
    assert.equal(r.json.length, want, `expected ${want} JSON outputs:\n${r.input}\nstdout: ${r.stdout.slice(0, 3000)}`);
    return r;
  }

  async function waitStatus(ref: string, status: string, timeoutMs = 120_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < end) {
      last = (await ok(['server', 'show', ref, '-f', 'json'])).json;
      if (last.status === status) return last;
      assert.notEqual(last.status, 'ERROR', JSON.stringify(last.fault ?? last));
      await sleep(1000);
    }
    assert.fail(`${ref} not ${status} within ${timeoutMs} ms: ${JSON.stringify(last)}`);
  }

  async function waitConsoleLog(ref: string, re: RegExp, timeoutMs = 120_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    let log = '';
    while (Date.now() < end) {
      log = (await ok(['console', 'log', 'show', ref])).stdout;
      if (re.test(log)) return log;
      await sleep(1500);
    }
    assert.fail(`the console log of ${ref} did not show ${re} within ${timeoutMs} ms; its end:\n${log.slice(-3000)}`);
  }

  return { ok, batch, waitStatus, waitConsoleLog };
}
