/** Forward-only migrations; `PRAGMA user_version` counts how many have run. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE tenants (
    company_key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    organization_number TEXT NOT NULL,
    country_code TEXT NOT NULL,
    match TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE tenant_apps (
    company_key TEXT NOT NULL,
    application_id TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (company_key, application_id)
  );
  CREATE TABLE users (
    user_key TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    linked INTEGER NOT NULL,
    external_id_set INTEGER NOT NULL DEFAULT 0,
    two_step_enforced INTEGER,
    email_change_allowed INTEGER,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX users_by_user_id ON users (user_id);
  CREATE TABLE grants (
    user_key TEXT NOT NULL,
    company_key TEXT NOT NULL,
    application_id TEXT NOT NULL,
    roles TEXT NOT NULL,
    PRIMARY KEY (user_key, company_key, application_id)
  );
  CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    trigger TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    counts TEXT NOT NULL,
    source_counts TEXT NOT NULL,
    error TEXT
  );
  CREATE TABLE held_ops (
    run_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    op TEXT NOT NULL,
    gate TEXT NOT NULL,
    status TEXT NOT NULL,
    PRIMARY KEY (run_id, op_id)
  );
  CREATE TABLE intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    op_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    target_key TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    outcome TEXT,
    result TEXT
  );
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // What an intent's call was made with (e.g. the email Add user was given), to resolve it later.
  `ALTER TABLE intents ADD COLUMN detail TEXT;`,
  // USERACCOUNT_MODIFIED webhooks (src/webhook): every accepted delivery is stored before it is
  // answered, and processed after; profile_versions keeps, per account, how recent the profile
  // last written back was, so a late or reordered event never overwrites a newer one;
  // directory_emails is the directory's emails as of the last run, for the collision warning.
  `
  CREATE TABLE webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup_key TEXT NOT NULL UNIQUE,
    event TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event_date TEXT NOT NULL,
    body TEXT,
    sender TEXT,
    received_at TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    processed_at TEXT
  );
  CREATE INDEX webhook_events_by_status ON webhook_events (status, event_date, seq);
  CREATE TABLE webhook_rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    sender TEXT
  );
  CREATE TABLE profile_versions (
    user_id TEXT PRIMARY KEY,
    as_of TEXT NOT NULL,
    origin TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE directory_emails (
    email TEXT NOT NULL,
    user_key TEXT NOT NULL,
    PRIMARY KEY (email, user_key)
  );
  `,
  // The mirror as one compact row (src/state/mirror-image.ts), a cache of the four mirror tables
  // for the planner's read: any write to them drops it in the same transaction, and the store
  // rebuilds it from them.
  `
  CREATE TABLE mirror_image (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
  CREATE TRIGGER mirror_image_drop_tenants_insert AFTER INSERT ON tenants BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_tenants_update AFTER UPDATE ON tenants BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_tenants_delete AFTER DELETE ON tenants BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_tenant_apps_insert AFTER INSERT ON tenant_apps BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_tenant_apps_update AFTER UPDATE ON tenant_apps BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_tenant_apps_delete AFTER DELETE ON tenant_apps BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_users_insert AFTER INSERT ON users BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_users_update AFTER UPDATE ON users BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_users_delete AFTER DELETE ON users BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_grants_insert AFTER INSERT ON grants BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_grants_update AFTER UPDATE ON grants BEGIN DELETE FROM mirror_image; END;
  CREATE TRIGGER mirror_image_drop_grants_delete AFTER DELETE ON grants BEGIN DELETE FROM mirror_image; END;
  `,
];
