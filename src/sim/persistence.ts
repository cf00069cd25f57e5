/**
 * The state file: written atomically (temp file + rename) at most 100 ms after a change, and
 * flushed on close, so a restarted simulator keeps what it had.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SimSeedError } from './api-error.js';
import { parseSeed, type SimDump } from './seed.js';

export const WRITE_DELAY_MS = 100;

export function readStateFile(path: string): SimDump | undefined {
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new SimSeedError(`state file ${path}: not valid JSON`, { cause: e });
  }
  return parseSeed(json, `state file ${path}`);
}

export class StateWriter {
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly snapshot: () => unknown,
    private readonly log: (message: string, fields: Record<string, unknown>) => void,
  ) {}

  schedule(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.enqueue();
    }, WRITE_DELAY_MS);
  }

  async flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      await this.enqueue();
    }
    await this.chain;
  }

  /** Writes are serialised; each one captures the state as it is when it runs. */
  private enqueue(): Promise<void> {
    this.chain = this.chain.then(() => this.write()).catch((e: unknown) => {
      this.log('sim state write failed', { path: this.path, error: e instanceof Error ? e.message : String(e) });
    });
    return this.chain;
  }

  private async write(): Promise<void> {
    const text = `${JSON.stringify(this.snapshot(), null, 2)}\n`;
    const tmp = `${this.path}.${process.pid}.tmp`;
    // Private like the rest of the data folder, whatever the umask: it names users and tenants.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFile(tmp, text, { encoding: 'utf8', mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.path);
  }
}
