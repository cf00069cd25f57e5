/**
 * Progress of a manual `sync` for the person watching it: the phases (read source, read Connect,
 * plan, apply) with their counts, and during apply a bar with rate and ETA. In a terminal one
 * live line is redrawn; into a pipe or a file it writes plain lines (apply every 10 %). `--json`
 * uses none of it. It only draws what the run reports (RunProgress); it never changes the run.
 */
import type { RunProgress } from '../domain/run.js';

export interface ProgressOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressView {
  readonly onProgress: (p: RunProgress) => void;
  /** Clears the live line so the summary starts on a clean one. */
  finish(): void;
}

const BAR = 24;
const REDRAW_MS = 100;

function secs(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function sourceLine(counts: Readonly<Record<string, number>>): string {
  return `${counts.companies ?? 0} companies, ${counts.users ?? 0} users, ${counts.roleAssignments ?? 0} role assignments${counts.issues ? `, ${counts.issues} bad rows` : ''}`;
}

export function createProgress(out: ProgressOutput, now: () => number = Date.now): ProgressView {
  const tty = out.isTTY === true;
  let phaseStarted = now();
  let applyStarted = 0;
  let mode = '';
  let calls = 0;
  let live = '';
  let lastDraw = 0;
  let lastStep = -1;

  const permanent = (line: string) => {
    if (tty && live) out.write('\r\x1b[2K');
    live = '';
    out.write(`${line}\n`);
  };
  const draw = (line: string, force = false) => {
    if (!tty) return;
    const t = now();
    if (!force && t - lastDraw < REDRAW_MS) return;
    lastDraw = t;
    const width = Math.max(20, (out.columns ?? 100) - 1);
    live = line.length > width ? line.slice(0, width) : line;
    out.write(`\r\x1b[2K${live}`);
  };

  const onProgress = (p: RunProgress): void => {
    const t = now();
    switch (p.phase) {
      case 'source':
        if (p.step === 'start') {
          phaseStarted = t;
          draw('reading the directory…', true);
        } else permanent(`source   ${sourceLine(p.counts)} (${secs(t - phaseStarted)})`);
        return;
      case 'connect':
        if (p.step === 'start') {
          phaseStarted = t;
          mode = p.mode;
          calls = 0;
          draw(`reading Connect (${mode} run)…`, true);
        } else if (p.step === 'calls') {
          calls = p.calls;
          draw(`reading Connect (${mode} run)… ${calls} calls, ${secs(t - phaseStarted)}`);
        } else {
          permanent(
            calls === 0 && mode === 'delta'
              ? 'connect  delta run: trusting the local state of earlier runs, no Connect reads'
              : `connect  ${mode} run: read in ${secs(t - phaseStarted)}${calls ? ` (${calls} calls)` : ''}`,
          );
        }
        return;
      case 'plan':
        permanent(`plan     ${p.ops} op(s) to apply${p.held ? `, ${p.held} held by the safety gate` : ''}${p.skipped ? `; ${p.skipped} user(s) or companies left out of Connect (see the summary)` : ''}`);
        return;
      case 'apply': {
        if (p.total === 0) return;
        if (p.done === 0) applyStarted = t;
        const elapsed = t - applyStarted;
        const rate = elapsed > 0 ? (p.done * 1000) / elapsed : 0;
        const failed = p.failed ? `, ${p.failed} failed` : '';
        if (p.done === p.total) {
          permanent(`apply    ${p.done}/${p.total} ops in ${secs(elapsed)}${rate > 0 ? ` (${rate.toFixed(1)} ops/s)` : ''}${failed}`);
          return;
        }
        if (tty) {
          const filled = Math.round((p.done / p.total) * BAR);
          const eta = rate > 0 ? ` ETA ${secs(((p.total - p.done) / rate) * 1000)}` : '';
          draw(`apply    [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${p.done}/${p.total} ops  ${rate.toFixed(1)} ops/s${eta}${failed}`, p.done === 0);
        } else {
          const step = Math.floor((p.done / p.total) * 10);
          if (p.done === 0) lastStep = 0;
          else if (step > lastStep) {
            lastStep = step;
            out.write(`apply    ${p.done}/${p.total} ops (${step * 10} %)${failed}\n`);
          }
        }
        return;
      }
    }
  };
  return {
    onProgress,
    finish: () => {
      if (tty && live) out.write('\r\x1b[2K');
      live = '';
    },
  };
}
