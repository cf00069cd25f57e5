import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { createJournal } from '../journal/writer.js';
import type { ActionWrapper } from './generate.js';
import { journal, journalCommand, parseSince, type JournalFlags } from './journal.js';
import { render } from './result.js';

let dir: string;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ud-journal-cli-'));
  let t = Date.parse('2025-03-01T10:00:00Z');
  const j = createJournal({ dir, now: () => new Date((t += 1000)) });
  j.write({ type: 'run.started', runId: 'r1', level: 'info', mode: 'full', trigger: 'manual', dryRun: false, source: 'snapshot:config/sample-directory.json' });
  j.write({ type: 'op.applied', runId: 'r1', level: 'info', opId: 'o1', kind: 'user.add', entity: { type: 'user', key: 'U001' }, reason: 'new user in VUD', outcome: 'created' });
  j.write({ type: 'op.failed', runId: 'r1', level: 'error', opId: 'o2', kind: 'roles.set', entity: { type: 'user', key: 'U002' }, reason: 'roles changed', error: { code: 'ERROR_ROLE_NOT_FOUND', message: 'no such role\nin catalog' } });
  j.write({ type: 'run.finished', runId: 'r1', level: 'warn', status: 'partial', durationMs: 42, counts: { 'user.add': { applied: 1, failed: 0, held: 0 }, 'roles.set': { applied: 0, failed: 1, held: 0 } } });
  j.write({ type: 'run.started', runId: 'r2', level: 'info', mode: 'delta', trigger: 'schedule', dryRun: true, source: 's' });
  j.write({ type: 'op.held', runId: 'r2', level: 'warn', opId: 'o3', kind: 'user.unlink', entity: { type: 'user', key: 'U001' }, reason: 'removed from VUD', gate: 'unlink > 10%' });
  await j.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Polls a condition a bounded number of times, so a broken follow fails instead of hanging. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

function streams() {
  const text = { out: '', err: '' };
  const sink = (key: 'out' | 'err') => ({ write: (s: string) => ((text[key] += s), true) }) as unknown as NodeJS.WritableStream;
  return { text, out: sink('out'), err: sink('err') };
}

async function run(flags: JournalFlags) {
  const s = streams();
  const result = await journal(flags, { journalDir: () => dir, out: s.out, err: s.err, now: () => new Date('2025-03-01T12:00:00Z') });
  return { ...s.text, exitCode: result.exitCode, lines: s.text.out.split('\n').filter(Boolean) };
}

describe('ud-bridge journal', () => {
  it('prints one human line per event: time, level, type, entity, reason, outcome', async () => {
    const { lines, exitCode } = await run({ run: 'r1' });
    expect(exitCode).toBe(0);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toBe('2025-03-01 10:00:02Z  INFO   op.applied       user:U001         user.add: new user in VUD  → created  [run r1]');
    expect(lines[2]).toContain('→ failed ERROR_ROLE_NOT_FOUND: no such role / in catalog');
    expect(lines[3]).toContain('1 applied, 1 failed, 0 held in 42 ms  → partial');
  });

  it('a key or text with a line break, a control character or a bidi override cannot forge a line: each is shown escaped', async () => {
    const j = createJournal({ dir, now: () => new Date('2025-03-02T10:00:00Z') });
    const forged = 'U666\n2025-03-02 10:00:00Z  INFO   op.applied       user:ADMIN       user.roles.set: granted Administrator';
    j.write({ type: 'op.applied', runId: 'r3', level: 'info', opId: 'o9', kind: 'user.create', entity: { type: 'user', key: forged }, reason: 'name \u202egnp.exe\u0085 here', outcome: 'created' });
    await j.close();
    const out = (await run({ run: 'r3' })).lines;
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('user:U666\\u000a2025-03-02 10:00:00Z');
    expect(out[0]).toContain('name \\u202egnp.exe\\u0085 here');
    expect(out[0]).not.toMatch(/[\u0000-\u001f\u0085\u202e]/);
  });

  it('--json prints the events themselves, one per line', async () => {
    const { lines } = await run({ json: true, level: 'warn' });
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['op.failed', 'run.finished', 'op.held']);
  });

  it('--last, --entity and --since filter', async () => {
    expect((await run({ last: true })).lines.map((l) => l.split(/\s+/)[3])).toEqual(['run.started', 'op.held']);
    expect((await run({ entity: 'user:U001', json: true })).lines.map((l) => JSON.parse(l).opId)).toEqual(['o1', 'o3']);
    expect((await run({ since: '1h' })).out).toBe(`No journal events match in ${dir}.\n`);
    expect((await run({ since: '2025-03-01T10:00:05Z' })).lines).toHaveLength(2);
  });

  it('keeps debug events out of the default view and shows webhook events with what happened', async () => {
    const j = createJournal({ dir, now: () => new Date('2025-03-01T11:00:00Z') });
    j.write({ type: 'webhook.dropped', runId: 'webhook-n1', level: 'debug', entity: { type: 'connectAccount', key: 'a6cd', connectId: 'a6cd' }, event: 'USERACCOUNT_MODIFIED', notificationId: 'n1', eventDate: '2025-03-01T10:59:00.000Z', reason: 'unlinked', message: 'not linked to ud-bridge' });
    j.write({ type: 'webhook.rejected', runId: 'webhook-x', level: 'warn', sender: { address: '203.0.113.9' }, reason: 'bad-signature', status: 401, message: 'the signature does not match' });
    j.write({ type: 'webhook.applied', runId: 'webhook-n2', level: 'info', entity: { type: 'user', key: '12450', connectId: 'a6cd' }, event: 'USERACCOUNT_MODIFIED', notificationId: 'n2', eventDate: '2025-03-01T10:59:30.000Z', changes: { email: { from: 'j***@example.com', to: 'j***@example.org' } }, outcome: 'updated', message: 'email written back' });
    await j.close();
    const shown = (await run({ since: '2025-03-01T10:30Z' })).lines;
    expect(shown.map((l) => l.split(/\s+/)[3])).toEqual(['webhook.rejected', 'webhook.applied']);
    expect(shown[0]).toContain('from 203.0.113.9: the signature does not match  → 401 bad-signature');
    expect(shown[1]).toContain('user:12450');
    expect((await run({ since: '2025-03-01T10:30Z', level: 'debug' })).lines[0]).toContain('→ dropped (unlinked)');
  });

  it('--run of a run the journal never saw fails saying so; a known run with nothing matching does not', async () => {
    await expect(run({ run: 'r9' })).rejects.toMatchObject({ code: 'NO_SUCH_RUN', exitCode: 1, message: expect.stringContaining('there is no run r9') });
    const known = await run({ run: 'r2', type: 'op.failed' });
    expect(known.exitCode).toBe(0);
    expect(known.out).toBe(`No journal events match in ${dir}.\n`);
  });

  it('a source.issue line says what it cost (the row, a role, the link, nothing); a skip says the object is not in Connect', async () => {
    const j = createJournal({ dir, now: () => new Date('2025-03-01T11:00:00Z') });
    j.write({ type: 'run.started', runId: 'r3', level: 'info', mode: 'full', trigger: 'manual', dryRun: false, source: 's' });
    j.write({ type: 'source.issue', runId: 'r3', level: 'error', entity: { type: 'ud_bridge.Users', key: 'U9' }, field: 'Email', message: 'too long' });
    j.write({ type: 'source.issue', runId: 'r3', level: 'error', entity: { type: 'user', key: 'U1' }, field: 'roles', message: 'role "Janitor" is not in the role catalog', skipped: 'role' });
    j.write({ type: 'source.issue', runId: 'r3', level: 'error', entity: { type: 'user', key: 'U2' }, field: 'email', message: 'shared', skipped: 'link' });
    j.write({ type: 'source.issue', runId: 'r3', level: 'error', entity: { type: 'company', key: 'C7' }, field: '(row)', message: 'unreadable', skipped: 'nothing' });
    j.write({ type: 'source.skipped', runId: 'r3', level: 'info', entity: { type: 'user', key: 'U13' }, reason: 'user U13 is deactivated in VUD' });
    await j.close();
    const { lines } = await run({ run: 'r3' });
    expect(lines.slice(1).map((l) => l.slice(l.indexOf('→')))).toEqual([
      '→ row skipped  [run r3]',
      '→ role skipped  [run r3]',
      '→ not linked  [run r3]',
      '→ nothing skipped, left as it is  [run r3]',
      '→ not in Connect  [run r3]',
    ]);
    expect(lines[5]).toContain('user:U13          user U13 is deactivated in VUD');
  });

  it('reports a bad line on stderr and prints the rest', async () => {
    appendFileSync(join(dir, 'journal-2025-03-01.jsonl'), 'oops\n');
    const { lines, err } = await run({});
    expect(lines).toHaveLength(6);
    expect(err).toBe(`ud-bridge: journal ${join(dir, 'journal-2025-03-01.jsonl')} line 7 skipped: not JSON (an incomplete or edited line)\n`);
  });

  it.each<[JournalFlags, string]>([
    [{ run: 'r1', last: true }, '--last'],
    [{ level: 'trace' }, '--level'],
    [{ entity: 'U001' }, '--entity'],
    [{ since: 'yesterday' }, '--since'],
  ])('%j is a usage error naming %s', async (flags, flag) => {
    const error = await run(flags).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(64);
    expect((error as Error).message).toContain(flag);
  });

  it('parses relative and ISO --since', () => {
    const now = new Date('2025-03-08T00:00:00Z');
    expect(parseSince('7d', now).toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(parseSince('30m', now).toISOString()).toBe('2025-03-07T23:30:00.000Z');
    expect(parseSince('2025-03-01T08:00Z', now).toISOString()).toBe('2025-03-01T08:00:00.000Z');
  });

  it('--follow prints new events until stopped', async () => {
    const out = new PassThrough();
    const stop = new AbortController();
    const lines: string[] = [];
    out.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)));
    const s = streams();
    const done = journal({ follow: true, type: 'op', json: true }, { journalDir: () => dir, out, err: s.err, signal: stop.signal, pollMs: 5 });
    await waitFor(() => lines.length >= 3);
    const j = createJournal({ dir, now: () => new Date('2025-03-01T11:00:00Z') });
    j.write({ type: 'op.skipped', runId: 'r2', level: 'info', opId: 'o4', kind: 'tenant.add', entity: { type: 'company', key: 'C900' }, reason: 'out of scope' });
    await j.close();
    await waitFor(() => lines.length >= 4);
    stop.abort();
    expect((await done).exitCode).toBe(0);
    expect(lines.map((l) => JSON.parse(l).opId)).toEqual(['o1', 'o2', 'o3', 'o4']);
  });

  it('is a commander command that goes through the wrapper', async () => {
    const s = streams();
    let code = -1;
    const wrap: ActionWrapper = (action) => async (o) => {
      code = render(await action(o), s.out);
    };
    await journalCommand({ journalDir: () => dir, out: s.out, err: s.err }, wrap).exitOverride().parseAsync(['--type', 'run.finished', '--json'], { from: 'user' });
    expect(code).toBe(0);
    expect(JSON.parse(s.text.out).status).toBe('partial');
  });
});
