/**
 * The pieces one command needs, built from the config by the composition root (src/main.ts) and
 * closed together. Nothing here is a module-level singleton: each command opens its own App.
 */
import type { ResolvedConfig } from '../config/load.js';
import type { ConnectClient } from '../connect/client.js';
import type { DirectorySource, DirectoryWriteback } from '../domain/snapshot.js';
import type { RunRequest } from '../domain/run.js';
import type { JournalWriter } from '../journal/writer.js';
import type { Logger } from '../log/logger.js';
import type { StateStore } from '../state/store.js';
import type { SinkMonitor } from './sinks.js';
import type { ProfileWriter } from './profile-writeback.js';
import type { SyncResult } from './sync.js';
import type { ExplainReport } from './explain.js';
import type { ObjectRef } from '../plan/explain.js';

export interface App {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly store: StateStore;
  readonly journal: JournalWriter;
  readonly source: DirectorySource;
  readonly writeback: DirectoryWriteback;
  /** The profile writeback shared by full runs and the webhook receiver. */
  readonly profiles: ProfileWriter;
  readonly connect: ConnectClient;
  /** The in-process simulator's URL when connect.mode is embedded. */
  readonly embeddedConnectUrl: string | null;
  /** Journal, log and state write failures; the daemon's health listens to it. */
  readonly sinks: SinkMonitor;
  sync(request: RunRequest): Promise<SyncResult>;
  /** Why a user or company is as it is in Connect, and what the next run would change for it. */
  explain(ref: ObjectRef): Promise<ExplainReport>;
  close(): Promise<void>;
}

/** The JSON snapshot and the synthetic source have no place to write links back to. */
export const noWriteback: DirectoryWriteback = {
  async writeLinks() {},
  async writeProfile() {
    return 'disabled';
  },
};
