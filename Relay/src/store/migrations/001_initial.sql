-- The relay's own state. Every row carries tenant_id: one relay may serve several Dynamics
-- environments and partner tenants.

-- Which Dynamics record is which Partner Center referral, and what both held after the last sync.
CREATE TABLE links (
  tenant_id            text        NOT NULL,
  record_type          text        NOT NULL CHECK (record_type IN ('opportunity', 'lead')),
  record_id            uuid        NOT NULL,
  referral_id          text,
  engagement_id        text,
  microsoft_referral_id text,
  referral_etag        text,
  record_etag          text,
  -- The synced fields both sides held after the last successful sync (Core/mapping.ts SyncedFields).
  base_fields          jsonb,
  fingerprint          text,
  referral_status      text,
  referral_substatus   text,
  last_synced_at       timestamptz,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, record_type, record_id)
);
CREATE UNIQUE INDEX links_referral ON links (tenant_id, referral_id) WHERE referral_id IS NOT NULL;

-- Every webhook and step call, persisted before it is acknowledged.
CREATE TABLE received_events (
  id            bigserial   PRIMARY KEY,
  tenant_id     text        NOT NULL,
  source        text        NOT NULL CHECK (source IN ('partner-center', 'dataverse', 'client-api', 'reconciler', 'cli')),
  kind          text        NOT NULL,
  subject       text,
  dedupe_key    text,
  payload       jsonb       NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  run_id        uuid
);
CREATE INDEX received_events_subject ON received_events (tenant_id, subject, received_at DESC);

-- One row per sync run: what the runs list and the status page show, and what retry acts on.
CREATE TABLE runs (
  id            uuid        PRIMARY KEY,
  tenant_id     text        NOT NULL,
  kind          text        NOT NULL,
  subject       text        NOT NULL,
  direction     text        CHECK (direction IN ('outbound', 'inbound')),
  state         text        NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'skipped', 'failed', 'retrying', 'dead')),
  attempts      integer     NOT NULL DEFAULT 0,
  last_error    text,
  what_to_do    text,
  correlation_id text,
  queued_at     timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  finished_at   timestamptz
);
CREATE INDEX runs_state ON runs (tenant_id, state, queued_at DESC);
CREATE INDEX runs_subject ON runs (tenant_id, subject, queued_at DESC);

-- The sync events the relay also writes to Dataverse (pcr_syncevent), kept here for the status page.
CREATE TABLE sync_events (
  id            bigserial   PRIMARY KEY,
  tenant_id     text        NOT NULL,
  run_id        uuid,
  direction     text        NOT NULL CHECK (direction IN ('outbound', 'inbound')),
  outcome       text        NOT NULL CHECK (outcome IN ('succeeded', 'failed', 'skipped', 'conflict')),
  record_type   text,
  record_id     uuid,
  referral_id   text,
  message       text        NOT NULL,
  conflicts     jsonb,
  correlation_id text,
  latency_ms    integer,
  occurred_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_events_time ON sync_events (tenant_id, occurred_at DESC);

-- The MSAL token cache (with the Partner Center service account's refresh token), encrypted.
CREATE TABLE token_cache (
  tenant_id     text        NOT NULL,
  cache_key     text        NOT NULL,
  ciphertext    bytea       NOT NULL,
  iv            bytea       NOT NULL,
  auth_tag      bytea       NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, cache_key)
);
