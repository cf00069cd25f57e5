/**
 * What ud-bridge knows about profiles between runs: per Connect account, how recent the profile
 * last written back to the directory was (an event's `event_date`, or when a full run read the
 * account), so a retried or reordered older event never overwrites a newer one; and the
 * directory's emails as of the last run, so an email change that collides with another VUD
 * user can be warned about without reading the whole directory for each webhook.
 */
import type Database from 'better-sqlite3';

export type ProfileOrigin = 'webhook' | 'full-run';

export interface ProfileVersion {
  readonly asOf: string;
  readonly origin: ProfileOrigin;
}

export class ProfileVersions {
  constructor(private readonly db: Database.Database) {}

  newest(userId: string): ProfileVersion | undefined {
    const r = this.db.prepare('SELECT as_of, origin FROM profile_versions WHERE user_id = ?').get(userId) as Record<string, string> | undefined;
    return r === undefined ? undefined : { asOf: r.as_of!, origin: r.origin as ProfileOrigin };
  }

  /** Keeps the newest: recording an older version than the one stored changes nothing. */
  record(userId: string, asOf: string, origin: ProfileOrigin, now: Date): void {
    this.db
      .prepare(
        `INSERT INTO profile_versions (user_id, as_of, origin, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(user_id) DO UPDATE SET as_of = excluded.as_of, origin = excluded.origin, updated_at = excluded.updated_at
         WHERE excluded.as_of > profile_versions.as_of`,
      )
      .run(userId, asOf, origin, now.toISOString());
  }

  /** The directory's users and emails as the run just read them (emails compared without case). */
  replaceDirectoryEmails(users: readonly { readonly key: string; readonly email: string }[]): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO directory_emails (email, user_key) VALUES (?, ?)');
    this.db.transaction(() => {
      this.db.exec('DELETE FROM directory_emails');
      for (const u of users) if (u.email !== '') insert.run(u.email.toLowerCase(), u.key);
    })();
  }

  userKeysWithEmail(email: string): string[] {
    return (this.db.prepare('SELECT user_key FROM directory_emails WHERE email = ? ORDER BY user_key').all(email.toLowerCase()) as { user_key: string }[]).map((r) => r.user_key);
  }
}
