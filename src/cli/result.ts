/**
 * What every command returns. Commands parse their options, call one service and hand back a
 * CommandResult; `render()` is the one place that prints it and sets the exit code.
 */
import { printableLines } from '../domain/text.js';

export interface CommandResult {
  readonly exitCode: number;
  /** Text for a person, printed to stdout as is. */
  readonly human?: string;
  /** A value printed as one JSON document instead of `human` when the command was asked for JSON. */
  readonly json?: unknown;
  readonly asJson?: boolean;
}

export const ExitCode = {
  ok: 0,
  couldNotRun: 1,
  someFailed: 2,
  held: 3,
  usage: 64,
} as const;

export function render(result: CommandResult, out: NodeJS.WritableStream = process.stdout): number {
  if (result.asJson && result.json !== undefined) {
    out.write(`${JSON.stringify(result.json, null, 2)}\n`);
  } else if (result.human !== undefined && result.human.length > 0) {
    // Keys, names and answers in the summary: any control character but the line breaks escaped.
    const human = printableLines(result.human);
    out.write(human.endsWith('\n') ? human : `${human}\n`);
  }
  return result.exitCode;
}
