/**
 * The PostgreSQL schema, as numbered migrations. Each runs in its own transaction that first
 * claims its version row in `credly_migrations`: a second instance starting at the same time
 * waits on that row and then finds the version applied. No advisory locks, which
 * PostgreSQL-compatible distributed engines lack.
 */
export const migrations: string[] = [
  `
  CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    config JSONB NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE users (
    ref TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    user_id TEXT NOT NULL,
    tier_id TEXT NOT NULL,
    available BIGINT NOT NULL,
    held BIGINT NOT NULL CHECK (held >= 0),
    metadata JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    refill_anchor BIGINT NOT NULL,
    refills_applied INTEGER NOT NULL CHECK (refills_applied >= 0),
    next_event_at BIGINT,
    deleted_at BIGINT
  );
  CREATE UNIQUE INDEX users_live ON users (project_id, user_id) WHERE deleted_at IS NULL;
  CREATE INDEX users_due ON users (next_event_at) WHERE deleted_at IS NULL AND next_event_at IS NOT NULL;

  CREATE TABLE buckets (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL REFERENCES users(ref),
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'refill')),
    credits BIGINT NOT NULL CHECK (credits >= 0),
    remaining BIGINT NOT NULL CHECK (remaining >= 0 AND remaining <= credits),
    expires_at BIGINT,
    reason TEXT,
    created_at BIGINT NOT NULL
  );
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
    reserved BIGINT NOT NULL CHECK (reserved >= 0),
    used BIGINT NOT NULL CHECK (used >= 0),
    provisional_tokens JSONB,
    finalized_tokens JSONB,
    price JSONB NOT NULL,
    estimated BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT,
    expires_at BIGINT,
    hold_parts JSONB NOT NULL,
    complete_hash TEXT,
    complete_result JSONB,
    CHECK ((status = 'pending') = (expires_at IS NOT NULL))
  );
  CREATE INDEX transactions_project ON transactions (project_id, created_at DESC, id DESC);
  CREATE INDEX transactions_user ON transactions (project_id, user_id, created_at DESC, id DESC);
  CREATE INDEX transactions_spend ON transactions (user_ref, created_at);
  CREATE INDEX transactions_pending ON transactions (user_ref, expires_at) WHERE status = 'pending';

  CREATE TABLE journal (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'refill', 'reserve', 'release', 'charge', 'expire', 'adjust')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    debit TEXT NOT NULL,
    credit TEXT NOT NULL,
    transaction_id TEXT,
    at BIGINT NOT NULL,
    memo JSONB
  );
  CREATE INDEX journal_project ON journal (project_id, seq);
  CREATE FUNCTION credly_journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the journal is append-only: corrections are new entries'; END $$;
  CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION credly_journal_append_only();

  CREATE TABLE idempotency (
    project_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response JSONB NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, scope, key)
  );
  CREATE INDEX idempotency_age ON idempotency (created_at);

  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT,
    scope TEXT NOT NULL CHECK (scope IN ('admin', 'metering')),
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
  );
  CREATE INDEX api_keys_project ON api_keys (project_id, created_at);
  `,
  // Usage reports: the tier and token counts of each call as columns (kept from the finalized
  // tokens), and the starts that were refused.
  `
  ALTER TABLE transactions ADD COLUMN tier_id TEXT,
    ADD COLUMN input_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cached_input_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN cache_write_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN output_tokens BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN reasoning_tokens BIGINT NOT NULL DEFAULT 0;
  UPDATE transactions SET tier_id = users.tier_id FROM users WHERE users.ref = transactions.user_ref;
  UPDATE transactions SET
    input_tokens = COALESCE((finalized_tokens->>'input_tokens')::bigint, 0),
    cached_input_tokens = COALESCE((finalized_tokens->>'cached_input_tokens')::bigint, 0),
    cache_write_tokens = COALESCE((finalized_tokens->>'cache_write_tokens')::bigint, 0),
    output_tokens = COALESCE((finalized_tokens->>'output_tokens')::bigint, 0),
    reasoning_tokens = COALESCE((finalized_tokens->>'reasoning_tokens')::bigint, 0)
    WHERE finalized_tokens IS NOT NULL;

  CREATE TABLE refusals (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id TEXT NOT NULL,
    user_ref TEXT NOT NULL,
    user_id TEXT NOT NULL,
    tier_id TEXT NOT NULL,
    model TEXT NOT NULL,
    feature_identifier TEXT,
    reason TEXT NOT NULL CHECK (reason IN ('insufficient_credits', 'rate_limited')),
    credits_required BIGINT NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE INDEX refusals_project ON refusals (project_id, at);
  `,
  // Where each transaction's price came from: the config, or the price catalog and its version.
  `
  ALTER TABLE transactions ADD COLUMN price_source JSONB;
  `,
  // The time of the last tier change given with as_of, so an older one (a late event) is ignored.
  `
  ALTER TABLE users ADD COLUMN tier_as_of BIGINT;
  `,
  // Usage reports: each past day's totals per model, feature and tier, written once the day has
  // no pending call (then nothing in it changes again), so a report over a long history adds up
  // days instead of every call. usage_days marks the days done. NUMERIC sums cannot overflow.
  `
  CREATE TABLE usage_days (
    project_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    PRIMARY KEY (project_id, day)
  );
  CREATE TABLE usage_day_totals (
    project_id TEXT NOT NULL,
    day BIGINT NOT NULL,
    model TEXT NOT NULL,
    feature_identifier TEXT,
    tier_id TEXT,
    calls BIGINT NOT NULL,
    charged NUMERIC NOT NULL,
    refunded NUMERIC NOT NULL,
    input_tokens NUMERIC NOT NULL,
    cached_input_tokens NUMERIC NOT NULL,
    cache_write_tokens NUMERIC NOT NULL,
    output_tokens NUMERIC NOT NULL,
    reasoning_tokens NUMERIC NOT NULL
  );
  CREATE INDEX usage_day_totals_day ON usage_day_totals (project_id, day);
  `,
  // Usage reports by user: each past week's totals per user (weeks start on Monday, UTC), written
  // once all seven days are summarized, so a report by user over months adds up weeks.
  // usage_user_weeks marks the weeks done. BIGINT sums: PostgreSQL adds them up several times
  // faster than NUMERIC, and a week that would pass them is left to be read call by call.
  `
  CREATE TABLE usage_user_weeks (
    project_id TEXT NOT NULL,
    week BIGINT NOT NULL,
    PRIMARY KEY (project_id, week)
  );
  CREATE TABLE usage_user_week_totals (
    project_id TEXT NOT NULL,
    week BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    calls BIGINT NOT NULL,
    charged BIGINT NOT NULL,
    refunded BIGINT NOT NULL,
    input_tokens BIGINT NOT NULL,
    cached_input_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    PRIMARY KEY (project_id, week, user_id)
  );
  `,
  // A rate limit's spend is read through transactions_user (by app user id and time), so a call
  // writes one index fewer.
  `
  DROP INDEX IF EXISTS transactions_spend;
  `,
  // An instance keeps the rows it read and wrote and, in its next transactions, checks their
  // versions (xmin) rather than reading them again: this locks the users (in ref order, as every
  // batch locks them; their buckets and transactions change only under that lock), then fails the
  // transaction with SQLSTATE CR001 (ROWS_CHANGED in kept-rows.ts) when a row changed since, so that
  // it runs again reading them. Each table gets the rows' ids and their "id:version" pairs. A
  // function, so that its statements are planned once a connection: by primary key whatever the
  // table's size was then (enable_seqscan off), and never again (force_generic_plan).
  `
  CREATE FUNCTION credly_check_kept(
    user_refs TEXT[], user_pairs TEXT[],
    bucket_ids TEXT[], bucket_pairs TEXT[],
    transaction_ids TEXT[], transaction_pairs TEXT[],
    project_ids TEXT[], project_pairs TEXT[]
  ) RETURNS VOID LANGUAGE plpgsql
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
  DECLARE
    users_found INTEGER;
    buckets_found INTEGER;
    transactions_found INTEGER;
    projects_found INTEGER;
  BEGIN
    SELECT count(*) FILTER (WHERE ref || ':' || xmin::text = ANY(user_pairs)) INTO users_found
      FROM (SELECT ref, xmin FROM users WHERE ref = ANY(user_refs) ORDER BY ref FOR UPDATE) AS locked;
    SELECT count(*) INTO buckets_found FROM buckets
      WHERE id = ANY(bucket_ids) AND id || ':' || xmin::text = ANY(bucket_pairs);
    SELECT count(*) INTO transactions_found FROM transactions
      WHERE id = ANY(transaction_ids) AND id || ':' || xmin::text = ANY(transaction_pairs);
    SELECT count(*) INTO projects_found FROM projects
      WHERE id = ANY(project_ids) AND id || ':' || xmin::text = ANY(project_pairs);
    IF users_found <> cardinality(user_refs) OR buckets_found <> cardinality(bucket_ids)
      OR transactions_found <> cardinality(transaction_ids)
      OR projects_found <> cardinality(project_ids) THEN
      RAISE EXCEPTION 'rows this Credly instance kept were changed by another; it reads them again'
        USING ERRCODE = 'CR001';
    END IF;
  END $$;
  `,
  // The same check, naming in the error's DETAIL the users whose rows changed (comma-separated
  // refs; empty when a project changed, or a kept row is gone): the instance then stops keeping
  // those users' rows for a while, and keeps the others'.
  `
  CREATE OR REPLACE FUNCTION credly_check_kept(
    user_refs TEXT[], user_pairs TEXT[],
    bucket_ids TEXT[], bucket_pairs TEXT[],
    transaction_ids TEXT[], transaction_pairs TEXT[],
    project_ids TEXT[], project_pairs TEXT[]
  ) RETURNS VOID LANGUAGE plpgsql
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
  DECLARE
    locked_pairs TEXT[];
    changed TEXT[];
    buckets_found INTEGER;
    transactions_found INTEGER;
    projects_found INTEGER;
  BEGIN
    SELECT coalesce(array_agg(ref || ':' || xmin::text), '{}') INTO locked_pairs
      FROM (SELECT ref, xmin FROM users WHERE ref = ANY(user_refs) ORDER BY ref FOR UPDATE) AS locked;
    SELECT coalesce(array_agg(split_part(pair, ':', 1)), '{}') INTO changed
      FROM unnest(user_pairs) AS pair WHERE NOT (pair = ANY(locked_pairs));
    SELECT count(*), changed || coalesce(array_agg(user_ref) FILTER (
        WHERE NOT (id || ':' || xmin::text = ANY(bucket_pairs))), '{}')
      INTO buckets_found, changed FROM buckets WHERE id = ANY(bucket_ids);
    SELECT count(*), changed || coalesce(array_agg(user_ref) FILTER (
        WHERE NOT (id || ':' || xmin::text = ANY(transaction_pairs))), '{}')
      INTO transactions_found, changed FROM transactions WHERE id = ANY(transaction_ids);
    SELECT count(*) INTO projects_found FROM projects
      WHERE id = ANY(project_ids) AND id || ':' || xmin::text = ANY(project_pairs);
    IF buckets_found <> cardinality(bucket_ids)
      OR transactions_found <> cardinality(transaction_ids)
      OR projects_found <> cardinality(project_ids) THEN
      RAISE EXCEPTION 'rows this Credly instance kept were changed by another; it reads them again'
        USING ERRCODE = 'CR001', DETAIL = '';
    END IF;
    IF cardinality(changed) > 0 THEN
      RAISE EXCEPTION 'rows this Credly instance kept were changed by another; it reads them again'
        USING ERRCODE = 'CR001', DETAIL = array_to_string(changed, ',');
    END IF;
  END $$;
  `,
]
