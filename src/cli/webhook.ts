/**
 * `ud-bridge webhook test [--config F] [--url U] [--json]`: sends a signed sample event to the
 * webhook listener (the configured one, or `--url`, e.g. the public address behind a reverse
 * proxy) and says what its answer means. Exit 0 when the listener accepted it, 1 otherwise.
 */
import { Command } from 'commander';
import type { TestSendResult } from '../webhook/test-event.js';
import { TEST_USER_ID } from '../webhook/test-event.js';
import type { ActionWrapper } from './generate.js';
import { ExitCode, type CommandResult } from './result.js';

export interface WebhookTestFlags {
  readonly config?: string;
  readonly url?: string;
  readonly json?: boolean;
}

export type WebhookTestService = (flags: WebhookTestFlags) => Promise<TestSendResult>;

/** What the answer means for the admin, in one or two lines. */
export function explain(r: TestSendResult): { ok: boolean; text: string } {
  const head = `POST ${r.url} → ${r.status ?? 'no answer'}${r.status === null ? '' : ` in ${r.durationMs} ms`}`;
  if (r.status === null) return { ok: false, text: `${head}\nThe listener could not be reached (${r.answer}). Is the daemon running with webhooks.enabled, on this host and port?` };
  if (r.status >= 200 && r.status < 300) {
    return {
      ok: true,
      text: `${head}\nAccepted: the signature matched and the event was stored. The daemon drops it (no VUD user is linked to account ${TEST_USER_ID}); see it with \`ud-bridge journal --type webhook --level debug\`.`,
    };
  }
  const why =
    r.status === 401
      ? 'Refused: the signature or the replay window did not pass. Check that webhooks.secret is the one the daemon runs with, and the clocks.'
      : r.status === 404
        ? 'Not found: nothing listens on that path. Check webhooks.path (and the reverse proxy\'s route).'
        : r.status === 413
          ? 'Too large for webhooks.maxBodyBytes (or the reverse proxy\'s limit).'
          : r.status >= 500
            ? 'The listener, or a proxy in front of it, failed: see the daemon\'s log.'
            : 'The listener refused the event.';
  return { ok: false, text: `${head}\n${why}${r.answer === '' ? '' : `\nIt said: ${r.answer}`}` };
}

export async function webhookTest(service: WebhookTestService, flags: WebhookTestFlags): Promise<CommandResult> {
  const result = await service(flags);
  const { ok, text } = explain(result);
  return { exitCode: ok ? ExitCode.ok : ExitCode.couldNotRun, human: text, json: { ok, ...result }, asJson: flags.json ?? false };
}

export function webhookCommand(service: WebhookTestService, wrap: ActionWrapper): Command {
  const command = new Command('webhook').description('the USERACCOUNT_MODIFIED webhook receiver');
  command
    .command('test')
    .description('send a signed sample event to the webhook listener and say what its answer means')
    .option('-c, --config <file>', 'config file (default: $UD_BRIDGE_CONFIG or config/ud-bridge.yaml)')
    .option('--url <url>', 'send to this URL instead of the configured listener (e.g. the public one behind a reverse proxy)')
    .option('--json', 'print the result as one JSON object')
    .action(wrap((flags: WebhookTestFlags) => webhookTest(service, flags)));
  return command;
}
