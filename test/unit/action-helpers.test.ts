import { describe, expect, it } from 'vitest';
import { collectDiagnostics, scrub } from '../../agent/actions/diagnostics.js';
import { formatActions } from '../../agent/cli/format-actions.js';
import type { StatusReport } from '../../agent/control/control-api.js';
import { logLines } from '../../agent/deploy/log-frames.js';
import { LogRing } from '../../agent/log-ring.js';
import { tempDir } from '../helpers/temp-dir.js';

/** A frame of the engine's multiplexed log stream (stream 1 stdout, 2 stderr). */
const frame = (stream: 1 | 2, text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

describe('container log lines', () => {
  it('demultiplexes stdout and stderr frames in order, a line split across frames whole', () => {
    const raw = Buffer.concat([
      frame(1, 'started\n'),
      frame(2, 'warn: slow'),
      frame(2, ' disk\n'),
      frame(1, 'reading 1\nreading 2\n'),
    ]);
    expect(logLines(raw)).toEqual(['started', 'warn: slow disk', 'reading 1', 'reading 2']);
  });

  it('reads a TTY container log as plain text', () => {
    expect(logLines(Buffer.from('one\r\ntwo\n'))).toEqual(['one', 'two']);
    expect(logLines(Buffer.alloc(0))).toEqual([]);
  });
});

describe('the agent log ring', () => {
  it('keeps the last N lines and passes every line on', () => {
    const out: string[] = [];
    const ring = new LogRing(3, { write: (l: string) => out.push(l) });
    for (let i = 1; i <= 5; i++) ring.write(`{"n":${i}}\n`);
    expect(ring.tail()).toEqual(['{"n":3}', '{"n":4}', '{"n":5}']);
    expect(ring.tail(2)).toEqual(['{"n":4}', '{"n":5}']);
    expect(out).toHaveLength(5);
  });
});

describe('secrets in a diagnostics bundle', () => {
  it('are replaced wherever they appear; short or missing values are ignored', () => {
    const text = JSON.stringify({ url: 'https://x:ghp_secret123@h', env: 'T=ghp_secret123' });
    const out = scrub(text, ['ghp_secret123', undefined, 'ab']);
    expect(out).not.toContain('ghp_secret123');
    expect(out).toContain('[redacted]');
    expect(scrub('ab cd', ['ab'])).toBe('ab cd');
  });

  it('are gone from the bundle also where JSON escaped them (a quote or backslash in a password)', async () => {
    const secret = 'pa"ss\\word-42';
    const agentLine = JSON.stringify({ level: 30, msg: `connecting with ${secret}` });
    const bundle = await collectDiagnostics({
      status: async () => ({ note: `status ${secret}` }) as unknown as StatusReport,
      agentLog: () => [agentLine],
      appLog: async () => [`app says ${secret}`],
      stateDir: tempDir('ota-diag-'),
      engineDisk: async () => ({ freeBytes: 1, totalBytes: 2 }) as never,
      secrets: () => [secret],
    });
    const once = JSON.stringify(secret).slice(1, -1);
    for (const form of [secret, once, JSON.stringify(once).slice(1, -1), 'pa\\"ss', 'ss\\\\word']) {
      expect(bundle).not.toContain(form);
    }
    expect(bundle.split('[redacted]')).toHaveLength(4);
    expect(JSON.parse(bundle).appLog).toEqual(['app says [redacted]']);
  });
});

describe('ota actions output', () => {
  it('one line per action: time, id, action, outcome, first line of the detail', () => {
    const text = formatActions([
      {
        id: 'diag-1',
        kind: 'diagnostics',
        state: 'succeeded',
        detail: 'bundle of 5120 bytes',
        startedAt: '2026-11-24T12:00:00.000Z',
        finishedAt: '2026-11-24T12:00:01.000Z',
      },
      {
        id: 'restart-1',
        kind: 'restart-app',
        state: 'started',
        detail: null,
        startedAt: '2026-11-24T11:00:00.000Z',
        finishedAt: null,
      },
    ]);
    expect(text.split('\n')).toEqual([
      '2026-11-24T12:00:00.000Z  diag-1                   diagnostics   succeeded   bundle of 5120 bytes',
      '2026-11-24T11:00:00.000Z  restart-1                restart-app   in progress',
    ]);
    expect(formatActions([])).toBe('no remote actions yet');
  });
});
