/**
 * The logger: JSON lines to a daily, size-capped, age-pruned file for machines and support, and
 * readable text on stderr for the person at the console (stdout belongs to command results).
 * The redactor runs as a winston format on every line before any transport sees it, and once
 * more on each rendered line, so a secret can reach neither the file nor the console.
 */
import fs from 'node:fs';
import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import { printable, printableLines } from '../domain/text.js';
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
  /**
   * Told when the log file cannot be written (a full disk, EIO, EACCES). The failing file is
   * replaced by a fresh one, so logging resumes once the disk has room; the line is lost.
   */
  readonly onError?: (error: Error) => void;
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

/** One line for a person; text from a run (keys, names, answers) is escaped, so it cannot forge lines. */
function textLine(info: winston.Logform.TransformableInfo): string {
  const { level, message, timestamp, stack, ...fields } = info as Record<string, unknown>;
  const rest = Object.keys(fields).length > 0 ? ` ${printable(JSON.stringify(fields))}` : '';
  const trace = typeof stack === 'string' ? `\n${printableLines(stack)}` : '';
  return `${String(timestamp)} ${String(level)} ${printable(String(message))}${rest}${trace}`;
}

export function createLogger(options: LoggerOptions): Logger {
  const redactor = options.redactor ?? createRedactor();
  const consoleMode = options.console ?? 'text';
  const transports: winston.transport[] = [];
  let logger: (Logger & { [REOPEN]?: (() => void) | undefined }) | undefined;

  const fileTransport = (dir: string): TrackedFile => {
    const auditFile = path.join(dir, '.ud-bridge-log-audit.json');
    const file = trackClosing(new DailyRotateFile({
      dirname: dir,
      filename: LOG_FILE_PATTERN,
      datePattern: 'YYYY-MM-DD',
      utc: true,
      maxSize: options.maxSize ?? '20m',
      maxFiles: options.maxFiles ?? '14d',
      // The audit file is how retention finds old files; keep it beside them, hidden.
      auditFile,
      // Private to the service account whatever the umask: lines name users and tenants.
      options: { flags: 'a', mode: 0o600 },
      format: winston.format.combine(winston.format.json(), redactRendered(redactor)),
    }));
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      options.onError?.(e);
      // The file's stream is dead; reopenLogFiles() starts a new one (at the next run).
      if (logger !== undefined) {
        logger.remove(file);
        logger[REOPEN] = () => {
          logger!.add(fileTransport(dir));
          logger![REOPEN] = undefined;
        };
      }
    };
    // file-stream-rotator re-emits its file's 'error' here; unheard, an ENOSPC kills the process.
    const stream = file.logStream as NodeJS.EventEmitter & { write(chunk: string, callback: (e?: Error | null) => void): void };
    stream.on('error', fail);
    // The rotator writes its audit file (the log files' names) on each new file, with the umask's
    // mode; this listener runs after its own, and a rewrite keeps the mode set here.
    stream.on('new', () => {
      try {
        fs.chmodSync(auditFile, 0o600);
      } catch {
        // Not written (retention off) or not ours to change: the folder is 0700 either way.
      }
    });
    // An empty write is answered after every line before it: with their error, if one failed.
    file[FLUSH] = () => new Promise<void>((resolve) => stream.write('', (e) => {
      if (e) fail(e);
      resolve();
    }));
    return file;
  };

  if (options.dir !== null) {
    // Private to the service account whatever the umask (file-stream-rotator would make it 0755).
    fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    transports.push(fileTransport(options.dir));
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

  logger = winston.createLogger({
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
  return logger;
}

/** Resolves once every file the transport ever wrote (the current one and each rotated one) is closed. */
const ALL_CLOSED = Symbol('allClosed');
/** Resolves once every line written so far has reached the file, or failed to. */
const FLUSH = Symbol('flush');
/** Set while the log file is closed after a failure: opens a new one. */
const REOPEN = Symbol('reopen');

/**
 * After a log file could not be written, lines go to the console only until this opens a new
 * file (a run calls it as it starts): a disk that has room again is written again.
 */
export function reopenLogFiles(logger: Logger): void {
  (logger as Logger & { [REOPEN]?: () => void })[REOPEN]?.();
}
type TrackedFile = DailyRotateFile & { [ALL_CLOSED]?: () => Promise<void>; [FLUSH]?: () => Promise<void> };

/**
 * Waits until the log files have taken (or refused) every line so far, so a run that ends knows
 * whether its log was written: a refusal reaches `onError` before this resolves.
 */
export async function flushLogFiles(logger: Logger): Promise<void> {
  const files = logger.transports.filter((t): t is TrackedFile => t instanceof DailyRotateFile);
  await Promise.all(files.map((t) => t[FLUSH]?.() ?? Promise.resolve()));
}

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
