/**
 * Ctrl-C and SIGTERM on a manual run take the daemon's path: the run starts no new operation and
 * finishes the ones in flight, is recorded as interrupted, releases the lock and prints its
 * summary; the command then exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM), as
 * shells expect of a program stopped by a signal. The wait is bounded: after `deadlineMs`, or at a
 * second signal, the command stops at once (the run then shows as one that did not finish, and
 * the next run resolves what it left open).
 */
import { UdBridgeError } from '../errors.js';

const SIGNAL_NUMBER: Readonly<Partial<Record<NodeJS.Signals, number>>> = { SIGINT: 2, SIGTERM: 15, SIGBREAK: 21 };
const SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM'];

/** The exit code of a command stopped by `signal`. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (SIGNAL_NUMBER[signal] ?? 15);
}

export interface Interrupt {
  /** Aborted at the first signal; the run's signal. */
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  readonly received: NodeJS.Signals | null;
  /** Removes the handlers (the run ended). */
  dispose(): void;
}

export interface InterruptOptions {
  /** How long in-flight operations may take after the first signal. */
  readonly deadlineMs: number;
  /** Called before a forced exit (deadline passed, or a second signal): release the lock. */
  readonly beforeForcedExit: () => void;
  readonly say?: (line: string) => void;
  readonly exit?: (code: number) => void;
}

export function interruptOnSignals(options: InterruptOptions): Interrupt {
  const controller = new AbortController();
  const say = options.say ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let received: NodeJS.Signals | null = null;
  let timer: NodeJS.Timeout | undefined;

  const force = (why: string) => {
    say(`ud-bridge: ${why}; stopping now — the run shows as not finished, and the next run resolves what it left open`);
    try {
      options.beforeForcedExit();
    } finally {
      exit(signalExitCode(received ?? 'SIGTERM'));
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (received !== null) return force(`${signal} again`);
    received = signal;
    const seconds = Math.round(options.deadlineMs / 1000);
    say(`ud-bridge: ${signal}: starting no new operation, finishing the ones in flight (at most ${seconds} s); ${signal === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again stops at once`);
    controller.abort(new UdBridgeError('INTERRUPTED', `stopped by ${signal}`));
    timer = setTimeout(() => force(`the operations in flight did not finish within ${seconds} s`), options.deadlineMs);
    timer.unref();
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return {
    signal: controller.signal,
    get received() {
      return received;
    },
    dispose() {
      clearTimeout(timer);
      for (const s of SIGNALS) process.off(s, onSignal);
    },
  };
}
