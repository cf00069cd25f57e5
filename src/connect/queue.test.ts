import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { json, startScriptedServer, type ScriptedServer } from '../../test/contract/support/scripted-server.js';
import { createHttpTransport, type HttpTransport } from './http.js';
import { createQueue, withQueue } from './queue.js';

let server: ScriptedServer | undefined;
let transport: HttpTransport | undefined;
afterEach(async () => {
  await transport?.close();
  await server?.close();
  transport = undefined;
  server = undefined;
});

/** A server that holds every answer until released, so we can count what is in flight. */
async function heldServer() {
  const held: ServerResponse[] = [];
  server = await startScriptedServer((_q, res) => { held.push(res); });
  transport = createHttpTransport({ timeoutMs: 5000, connections: 16 });
  const t = transport;
  const url = new URL(server.url);
  const settle = async (n: number) => { while (held.length < n) await new Promise((r) => setTimeout(r, 2)); };
  const releaseAll = () => { for (const r of held.splice(0)) json(r, 200, {}); };
  return { held, settle, releaseAll, call: () => t.send({ operation: 'op', method: 'GET', url }) };
}

describe('queue', () => {
  it('lets only `concurrency` calls reach the server at once', async () => {
    const s = await heldServer();
    const queue = createQueue(2);
    const limited = withQueue(s.call, queue);
    const all = Promise.all(Array.from({ length: 6 }, () => limited(undefined)));
    await s.settle(2);
    // Give a third call every chance to slip through before we look.
    await new Promise((r) => setTimeout(r, 30));
    expect(s.held).toHaveLength(2);
    expect(queue.pendingCount).toBe(4);
    while (server !== undefined && server.requests.length < 6) { s.releaseAll(); await new Promise((r) => setTimeout(r, 2)); }
    s.releaseAll();
    await all;
    expect(server?.requests).toHaveLength(6);
  });

  it('takes a new limit while calls are in flight', async () => {
    const s = await heldServer();
    const queue = createQueue(1);
    const limited = withQueue(s.call, queue);
    const all = Promise.all(Array.from({ length: 5 }, () => limited(undefined)));
    await s.settle(1);
    queue.setConcurrency(4);
    await s.settle(4);
    expect(queue.concurrency).toBe(4);
    expect(queue.activeCount).toBe(4);
    while (server !== undefined && server.requests.length < 5) { s.releaseAll(); await new Promise((r) => setTimeout(r, 2)); }
    s.releaseAll();
    await all;
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => createQueue(0)).toThrow(/concurrency/);
    expect(() => createQueue(1).setConcurrency(2.5)).toThrow(/concurrency/);
  });
});
