/** One schema version: statements run in order inside the migration transaction. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/**
 * Every schema change, oldest first. Never edit a released entry: append a new version.
 * Statements are separate strings because PGlite's extended protocol runs one at a time.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'directory, bindings, cdrs',
    statements: [
      `create table server_meta (
        name text primary key,
        value text not null
      )`,
      `create table domains (
        id uuid primary key default gen_random_uuid(),
        domain text not null,
        name text,
        active boolean not null default true,
        settings jsonb not null default '{}'::jsonb,
        created_at timestamptz not null default now(),
        constraint domains_domain_unique unique (domain),
        constraint domains_domain_lowercase check (domain = lower(domain))
      )`,
      `create table users (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        ext text not null,
        sip_password_enc text not null,
        name text,
        email text,
        active boolean not null default true,
        created_at timestamptz not null default now(),
        constraint users_email_lowercase check (email = lower(email))
      )`,
      `create unique index users_domain_ext_key on users (domain_id, ext)`,
      `create unique index users_email_key on users (email) where email is not null`,
      `create table bindings (
        aor text not null,
        contact_key text not null,
        domain text not null,
        instance_id text,
        reg_id integer,
        contact_uri text not null,
        path jsonb not null default '[]'::jsonb,
        call_id text not null,
        cseq integer not null,
        expires_at timestamptz not null,
        flow_id text,
        transport text not null,
        source_address text not null,
        source_port integer not null,
        user_agent text,
        q double precision,
        received_at timestamptz not null,
        constraint bindings_pkey primary key (aor, contact_key)
      )`,
      `create index bindings_expires_at_idx on bindings (expires_at)`,
      `create table cdrs (
        id uuid primary key default gen_random_uuid(),
        domain text not null,
        call_id text not null,
        caller text not null,
        callee text not null,
        caller_device text,
        callee_device text,
        started_at timestamptz not null,
        answered_at timestamptz,
        ended_at timestamptz not null,
        duration_s double precision not null,
        billable_s double precision not null,
        disposition text not null,
        sip_status integer not null,
        sip_reason text,
        hangup_by text,
        created_at timestamptz not null default now()
      )`,
      `create index cdrs_domain_idx on cdrs (domain)`,
      `create index cdrs_started_at_idx on cdrs (started_at)`,
      `create index cdrs_call_id_idx on cdrs (call_id)`,
    ],
  },
];
