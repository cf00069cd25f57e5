/**
 * The webhook receiver as the daemon runs it: the processor first (it replays what a previous
 * process accepted but did not finish), then the listener. Stopped in the other order, so no
 * delivery is accepted that nothing would process; an event in hand is finished first.
 */
import type { ProfileWriter } from '../app/profile-writeback.js';
import type { Journal } from '../journal/events.js';
import type { Logger } from '../log/logger.js';
import type { StateStore } from '../state/store.js';
import type { WebhooksConfig } from './config.js';
import { WebhookProcessor } from './processor.js';
import { startWebhookReceiver } from './receiver.js';

export interface WebhookServiceDeps {
  readonly config: WebhooksConfig;
  readonly store: StateStore;
  readonly profiles: ProfileWriter;
  readonly journal: Journal;
  readonly logger: Logger;
}

export interface RunningWebhookService {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startWebhookService(deps: WebhookServiceDeps): Promise<RunningWebhookService> {
  const processor = new WebhookProcessor({
    inbox: deps.store.webhooks,
    profiles: deps.profiles,
    journal: deps.journal,
    logger: deps.logger,
    retentionDays: deps.config.retentionDays,
  });
  processor.start();
  let receiver;
  try {
    receiver = await startWebhookReceiver({ config: deps.config, inbox: deps.store.webhooks, journal: deps.journal, logger: deps.logger, onAccepted: () => processor.kick() });
  } catch (e) {
    await processor.stop();
    throw e;
  }
  return {
    url: receiver.url,
    async stop() {
      await receiver.close();
      await processor.stop();
      deps.logger.info('webhook listener stopped', {});
    },
  };
}
