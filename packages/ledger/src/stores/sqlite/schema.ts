/**
 * The SQLite schema, as numbered migrations. `PRAGMA user_version` records how many have run;
 * they run inside `BEGIN IMMEDIATE`, so two processes opening one new file cannot both apply them.
 */
export const migrations: string[] = [
  `
  CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE users (
    ref TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    user_id TEXT NOT NULL,
    tier_id TEXT NOT NULL,
    available INTEGER NOT NULL,
    held INTEGER NOT NULL CHECK (held >= 0),
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    refill_anchor INTEGER NOT NULL,
    refills_applied INTEGER NOT NULL CHECK (refills_applied >= 0),
    next_event_at INTEGER,
    deleted_at INTEGER
  ) STRICT;
  CREATE UNIQUE INDEX users_live ON users (project_id, user_id) WHERE deleted_at IS NULL;
  CREATE INDEX users_due ON users (next_event_at) WHERE deleted_at IS NULL AND next_event_at IS NOT NULL;

  CREATE TABLE buckets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL REFERENCES users(ref),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'refill')),
    credits INTEGER NOT NULL CHECK (credits >= 0),
    remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= credits),
    expires_at INTEGER,
    reason TEXT,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX buckets_spendable ON buckets (user_ref) WHERE remaining > 0;
  CREATE INDEX buckets_project ON buckets (project_id);

  CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL REFERENCES users(ref),
    user_id TEXT NOT NULL,
    model TEXT NOT NULL,
    feature_identifier TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'expired')),
    reserved INTEGER NOT NULL CHECK (reserved >= 0),
    used INTEGER NOT NULL CHECK (used >= 0),
    provisional_tokens TEXT,
    finalized_tokens TEXT,
    price TEXT NOT NULL,
    estimated INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    completed_at INTEGER,
    expires_at INTEGER,
    hold_parts TEXT NOT NULL,
    complete_hash TEXT,
    complete_result TEXT,
    CHECK ((status = 'pending') = (expires_at IS NOT NULL))
  ) STRICT;
  CREATE INDEX transactions_project ON transactions (project_id, created_at DESC, id DESC);
  CREATE INDEX transactions_user ON transactions (project_id, user_id, created_at DESC, id DESC);
  CREATE INDEX transactions_spend ON transactions (user_ref, created_at);
  CREATE INDEX transactions_pending ON transactions (user_ref, expires_at) WHERE status = 'pending';

  CREATE TABLE journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'refill', 'reserve', 'release', 'charge', 'expire', 'adjust')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    debit TEXT NOT NULL,
    credit TEXT NOT NULL,
    transaction_id TEXT,
    at INTEGER NOT NULL,
    memo TEXT
  ) STRICT;
  CREATE INDEX journal_project ON journal (project_id, seq);
  CREATE TRIGGER journal_append_only_update BEFORE UPDATE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only: corrections are new entries'); END;
  CREATE TRIGGER journal_append_only_delete BEFORE DELETE ON journal
    BEGIN SELECT RAISE(ABORT, 'the journal is append-only: corrections are new entries'); END;

  CREATE TABLE idempotency (
    project_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, scope, key)
  ) STRICT;
  `,
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT,
    scope TEXT NOT NULL CHECK (scope IN ('admin', 'metering')),
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  ) STRICT;
  CREATE INDEX api_keys_project ON api_keys (project_id, created_at);
  `,
  // Usage reports: the tier and token counts of each call as columns (kept from the finalized
  // tokens), and the starts that were refused.
  `
  ALTER TABLE transactions ADD COLUMN tier_id TEXT;
  ALTER TABLE transactions ADD COLUMN input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE transactions ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE transactions ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE transactions ADD COLUMN output_tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE transactions ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
  UPDATE transactions SET
    tier_id = (SELECT tier_id FROM users WHERE users.ref = transactions.user_ref),
    input_tokens = COALESCE(json_extract(finalized_tokens, '$.input_tokens'), 0),
    cached_input_tokens = COALESCE(json_extract(finalized_tokens, '$.cached_input_tokens'), 0),
    cache_write_tokens = COALESCE(json_extract(finalized_tokens, '$.cache_write_tokens'), 0),
    output_tokens = COALESCE(json_extract(finalized_tokens, '$.output_tokens'), 0),
    reasoning_tokens = COALESCE(json_extract(finalized_tokens, '$.reasoning_tokens'), 0);

  CREATE TABLE refusals (
    id INTEGER PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tier_id TEXT NOT NULL,
    model TEXT NOT NULL,
    feature_identifier TEXT,
    reason TEXT NOT NULL CHECK (reason IN ('insufficient_credits', 'rate_limited')),
    credits_required INTEGER NOT NULL,
    at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX refusals_project ON refusals (project_id, at);
  `, // The sweeper prunes old idempotency keys by age; PostgreSQL had this index from the start.
  `
  CREATE INDEX idempotency_age ON idempotency (created_at);
  `,
  // Where each transaction's price came from: the config, or the price catalog and its version.
  `
  ALTER TABLE transactions ADD COLUMN price_source TEXT;
  `,
  // The time of the last tier change given with as_of, so an older one (a late event) is ignored.
  `
  ALTER TABLE users ADD COLUMN tier_as_of INTEGER;
  `,
  // Usage reports: each past day's totals per model, feature and tier, written once the day has
  // no pending call (then nothing in it changes again), so a report over a long history adds up
  // days instead of every call. usage_days marks the days done.
  `
  CREATE TABLE usage_days (
    project_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    PRIMARY KEY (project_id, day)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE usage_day_totals (
    project_id TEXT NOT NULL,
    day INTEGER NOT NULL,
    model TEXT NOT NULL,
    feature_identifier TEXT,
    tier_id TEXT,
    calls INTEGER NOT NULL,
    charged INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX usage_day_totals_day ON usage_day_totals (project_id, day);
  `,
  // Usage reports by user: each past week's totals per user (weeks start on Monday, UTC), written
  // once all seven days are summarized, so a report by user over months adds up weeks.
  // usage_user_weeks marks the weeks done.
  `
  CREATE TABLE usage_user_weeks (
    project_id TEXT NOT NULL,
    week INTEGER NOT NULL,
    PRIMARY KEY (project_id, week)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE usage_user_week_totals (
    project_id TEXT NOT NULL,
    week INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    calls INTEGER NOT NULL,
    charged INTEGER NOT NULL,
    refunded INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    PRIMARY KEY (project_id, week, user_id)
  ) STRICT, WITHOUT ROWID;
  `,
  // A rate limit's spend is read through transactions_user (by app user id and time), so a call
  // writes one index fewer.
  `
  DROP INDEX IF EXISTS transactions_spend;
  `,
]
