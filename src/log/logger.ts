/**
 * The logger: JSON lines to a daily, size-capped, age-pruned file for machines and support, and
 * readable text on stderr for the person at the console (stdout belongs to command results).
 * The redactor runs as a winston format on every line before any transport sees it, and once
 * more on each rendered line, so a secret can reach neither the file nor the console.
 */
import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import { createRedactor, type Redactor } from './redact.js';

export type Logger = winston.Logger;
export type ConsoleMode = 'text' | 'json' | 'off';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggerOptions {
  /** Folder of the rotated JSON files; null writes no file (e.g. a one-shot `status`). */
  readonly dir: string | null;
  readonly level?: LogLevel;
  readonly console?: ConsoleMode;
  /** Size at which the day's file rolls over: '20m', '500k', or bytes. */
  readonly maxSize?: string | number;
  /** Retention: a count of files ('14') or an age ('14d'). */
  readonly maxFiles?: string | number;
  readonly redactor?: Redactor;
  /** Where console lines go; stderr unless a test captures them. */
  readonly consoleStream?: NodeJS.WritableStream;
}

export const LOG_FILE_PATTERN = 'ud-bridge-%DATE%.log';

const MESSAGE = Symbol.for('message');

/** Redacts every string-keyed field of the info object in place (winston's symbols are kept). */
function redactFields(redactor: Redactor): winston.Logform.Format {
  return winston.format((info) => {
    const record = info as unknown as Record<string, unknown>;
    const redacted = redactor.redactValue({ ...record }) as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key === 'level') continue;
      record[key] = redacted[key];
    }
    return info;
  })();
}

/** The last word: the rendered line itself, in case a format added text after the first pass. */
function redactRendered(redactor: Redactor): winston.Logform.Format {
  return winston.format((info) => {
    const record = info as unknown as Record<string | symbol, unknown>;
    const line = record[MESSAGE];
    if (typeof line === 'string') record[MESSAGE] = redactor.redactString(line);
    return info;
  })();
}

function textLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, stack, ...fields } = info as Record<string, unknown>;
  const rest = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  const trace = typeof stack === 'string' ? `\n${stack}` : '';
  return `${String(timestamp)} ${String(level)} ${String(message)}${rest}${trace}`;
}

export function createLogger(options: LoggerOptions): Logger {
  const redactor = options.redactor ?? createRedactor();
  const consoleMode = options.console ?? 'text';
  const transports: winston.transport[] = [];

  if (options.dir !== null) {
    transports.push(
      trackClosing(new DailyRotateFile({
        dirname: options.dir,
        filename: LOG_FILE_PATTERN,
        datePattern: 'YYYY-MM-DD',
        utc: true,
        maxSize: options.maxSize ?? '20m',
        maxFiles: options.maxFiles ?? '14d',
        // The audit file is how retention finds old files; keep it beside them, hidden.
        auditFile: path.join(options.dir, '.ud-bridge-log-audit.json'),
        format: winston.format.combine(winston.format.json(), redactRendered(redactor)),
      })),
    );
  }
  if (consoleMode !== 'off') {
    const render =
      consoleMode === 'json'
        ? winston.format.json()
        : winston.format.combine(winston.format.colorize({ level: process.stderr.isTTY === true }), winston.format.printf(textLine));
    const format = winston.format.combine(render, redactRendered(redactor));
    transports.push(
      options.consoleStream === undefined
        ? new winston.transports.Console({ format, stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] })
        : new winston.transports.Stream({ stream: options.consoleStream, format }),
    );
  }

  return winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(
      winston.format.errors({ stack: true }),
      winston.format.timestamp(),
      redactFields(redactor),
    ),
    transports,
    // A logger with no transport (console off, no dir) must stay silent, not warn on every line.
    silent: transports.length === 0,
    exitOnError: false,
  });
}

/** Resolves once every file the transport ever wrote (the current one and each rotated one) is closed. */
const ALL_CLOSED = Symbol('allClosed');
type TrackedFile = DailyRotateFile & { [ALL_CLOSED]?: () => Promise<void> };

/**
 * file-stream-rotator ends the old file's stream at each size rotation and bubbles that stream's
 * 'finish' and 'close' up to the one stream we can see. Waiting for the first 'close' after end()
 * can therefore see a rotated file's close while the last file still has lines buffered; count
 * them instead: one close per file, the files being every rotation plus the first.
 */
function trackClosing(file: TrackedFile): TrackedFile {
  const stream = file.logStream as NodeJS.EventEmitter;
  let files = 1;
  let closed = 0;
  const waiting: (() => void)[] = [];
  stream.on('rotate', () => files++);
  stream.on('close', () => {
    closed++;
    if (closed >= files) waiting.splice(0).forEach((resolve) => resolve());
  });
  file[ALL_CLOSED] = () => (closed >= files ? Promise.resolve() : new Promise<void>((resolve) => waiting.push(resolve)));
  return file;
}

/** Ends the logger and resolves once every file it wrote is flushed and closed. */
export async function closeLogger(logger: Logger): Promise<void> {
  const files = logger.transports.filter((t): t is TrackedFile => t instanceof DailyRotateFile);
  const closed = files.map((t) => t[ALL_CLOSED]?.() ?? Promise.resolve());
  const finished = new Promise<void>((resolve) => logger.once('finish', () => resolve()));
  logger.end();
  await finished;
  await Promise.all(closed);
}
