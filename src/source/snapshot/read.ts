/**
 * Reads a `ud-bridge.snapshot/v1` JSON file (FORMAT.md). A file that cannot be read, is not JSON,
 * or is not this format is a SourceError naming the file: nothing in it can be trusted. Anything
 * smaller (a bad row) is a SourceIssue in the snapshot, and the rest is kept.
 */
import { readFile } from 'node:fs/promises';
import { SourceError } from '../../errors.js';
import type { DirectorySnapshot, DirectorySource } from '../../domain/snapshot.js';
import { SNAPSHOT_FORMAT } from './format.js';
import { findJsonErrorOffset, positionOf } from './json-position.js';
import { validateSnapshot, type SnapshotLists } from './validate.js';

export function snapshotSourceName(path: string): string {
  return `snapshot:${path}`;
}

/** Parses the text of a snapshot file; `path` only names the file in errors and in `source`. */
export function parseSnapshotText(text: string, path: string): DirectorySnapshot {
  return snapshotFromDocument(parseDocument(text, path), path);
}

function parseDocument(text: string, path: string): unknown {
  // Windows editors save UTF-8 with a byte-order mark, which JSON.parse rejects.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    const offset = findJsonErrorOffset(body) ?? body.length;
    const at = positionOf(body, offset);
    throw new SourceError('SNAPSHOT_NOT_JSON', `snapshot file ${path} is not valid JSON at line ${at.line}, column ${at.column}: ${(e as Error).message}`, {
      cause: e,
      details: { path, line: at.line, column: at.column },
    });
  }
  return doc;
}

function snapshotFromDocument(doc: unknown, path: string): DirectorySnapshot {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new SourceError('SNAPSHOT_FORMAT', `snapshot file ${path} must hold a JSON object with "format": "${SNAPSHOT_FORMAT}"`, { details: { path } });
  }
  const record = doc as Record<string, unknown>;
  if (record.format !== SNAPSHOT_FORMAT) {
    throw new SourceError('SNAPSHOT_FORMAT', `snapshot file ${path} has format ${JSON.stringify(record.format ?? null)}; expected "${SNAPSHOT_FORMAT}"`, {
      details: { path, format: record.format ?? null },
    });
  }
  const lists = {} as Record<keyof SnapshotLists, readonly unknown[]>;
  for (const name of ['programs', 'companies', 'companyGroups', 'users'] as const) {
    const value = record[name];
    if (value === undefined) {
      lists[name] = [];
    } else if (Array.isArray(value)) {
      lists[name] = value;
    } else {
      // A whole list of the wrong type is not a bad row: reading it as empty would unlink everyone.
      throw new SourceError('SNAPSHOT_FORMAT', `snapshot file ${path}: ${name} must be an array`, { details: { path, field: name } });
    }
  }
  return validateSnapshot(snapshotSourceName(path), lists);
}

export async function readSnapshotFile(path: string): Promise<DirectorySnapshot> {
  let text: string;
  try {
    // One decode of the whole file, not one per chunk and a join: half the time, one copy less.
    text = (await readFile(path)).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SourceError('SNAPSHOT_UNREADABLE', `snapshot file ${path} could not be read (${code ?? (e as Error).message})`, {
      cause: e,
      details: { path, code },
    });
  }
  const doc = parseDocument(text, path);
  // As large as the file, and garbage once parsed: let it go before validation builds the snapshot.
  text = '';
  return snapshotFromDocument(doc, path);
}

/** The JSON file as a DirectorySource: read afresh on every run, so edits take effect next run. */
export function createSnapshotSource(options: { readonly path: string }): DirectorySource {
  const { path } = options;
  return {
    name: snapshotSourceName(path),
    read: () => readSnapshotFile(path),
  };
}
