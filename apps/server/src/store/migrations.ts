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
const ENTRIES: readonly Migration[] = [
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
  {
    version: 2,
    name: 'directory model: user fields, groups, contacts, superadmins, tokens, sessions, audit log',
    // Tables are described in src/directory/directory-tables.ts.
    statements: [
      `create table user_groups (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        name text not null,
        ext text not null,
        description text,
        active boolean not null default true,
        strategy text not null default 'simultaneous',
        ring_timeout_s integer not null default 20,
        created_at timestamptz not null default now(),
        constraint user_groups_strategy_check check (strategy in ('simultaneous', 'sequential')),
        constraint user_groups_ring_timeout_check check (ring_timeout_s between 1 and 600)
      )`,
      `create unique index user_groups_domain_ext_key on user_groups (domain_id, ext)`,
      `alter table users add column phone text`,
      `alter table users add column description text`,
      `alter table users add column role text not null default 'agent'`,
      `alter table users add constraint users_role_check check (role in ('owner', 'admin', 'agent'))`,
      `alter table users add column login_password_hash text`,
      `alter table users add column group_id uuid references user_groups (id) on delete set null`,
      `alter table users add column group_position integer not null default 0`,
      `create index users_group_idx on users (group_id)`,
      `create table superadmins (
        id uuid primary key default gen_random_uuid(),
        email text not null,
        name text,
        login_password_hash text not null,
        active boolean not null default true,
        created_at timestamptz not null default now(),
        constraint superadmins_email_key unique (email),
        constraint superadmins_email_lowercase check (email = lower(email))
      )`,
      `create table contacts (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        owner_user_id uuid references users (id) on delete cascade,
        name text not null,
        company text,
        ext text,
        numbers jsonb not null default '[]'::jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create index contacts_domain_idx on contacts (domain_id, owner_user_id)`,
      `create table api_tokens (
        id uuid primary key default gen_random_uuid(),
        user_id uuid references users (id) on delete cascade,
        superadmin_id uuid references superadmins (id) on delete cascade,
        name text not null,
        token_hash text not null,
        prefix text not null,
        created_at timestamptz not null default now(),
        last_used_at timestamptz,
        revoked_at timestamptz,
        constraint api_tokens_token_hash_key unique (token_hash),
        constraint api_tokens_owner_check check ((user_id is null) <> (superadmin_id is null))
      )`,
      `create index api_tokens_user_idx on api_tokens (user_id)`,
      `create table sessions (
        id uuid primary key default gen_random_uuid(),
        user_id uuid references users (id) on delete cascade,
        superadmin_id uuid references superadmins (id) on delete cascade,
        token_hash text not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        constraint sessions_token_hash_key unique (token_hash),
        constraint sessions_owner_check check ((user_id is null) <> (superadmin_id is null))
      )`,
      `create index sessions_expires_at_idx on sessions (expires_at)`,
      `create table audit_log (
        id uuid primary key default gen_random_uuid(),
        at timestamptz not null default now(),
        actor_id uuid,
        actor_email text,
        actor_role text not null,
        via text not null,
        domain_id uuid,
        action text not null,
        resource text not null,
        resource_id text,
        detail jsonb
      )`,
      `create index audit_log_domain_at_idx on audit_log (domain_id, at)`,
      `create index audit_log_at_idx on audit_log (at)`,
    ],
  },
  {
    version: 3,
    name: 'webhooks and their delivery log',
    // Tables are described in src/notify/webhook-tables.ts.
    statements: [
      `create table webhooks (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        domain text not null,
        url text not null,
        events jsonb not null default '["*"]'::jsonb,
        secret_enc text not null,
        description text,
        active boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint webhooks_url_scheme check (url ~* '^https?://')
      )`,
      `create index webhooks_domain_idx on webhooks (domain_id)`,
      `create table webhook_deliveries (
        id uuid primary key default gen_random_uuid(),
        webhook_id uuid not null references webhooks (id) on delete cascade,
        event_type text not null,
        body text not null,
        status text not null default 'pending',
        attempts integer not null default 0,
        next_attempt_at timestamptz,
        last_attempt_at timestamptz,
        last_error text,
        response_code integer,
        created_at timestamptz not null default now(),
        delivered_at timestamptz,
        constraint webhook_deliveries_status_check check (status in ('pending', 'delivered', 'failed'))
      )`,
      `create index webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`,
      `create index webhook_deliveries_webhook_idx on webhook_deliveries (webhook_id, created_at)`,
    ],
  },
  {
    version: 4,
    name: 'softphone provisioning: devices and lines',
    // Tables are described in src/provisioning/provisioning-tables.ts.
    statements: [
      `create table provisioning_devices (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        template text not null,
        app_device_id text not null,
        ext text not null,
        label text,
        enabled boolean not null default true,
        json_md5 text,
        code_id uuid not null,
        code_hash text not null,
        code_expires_at timestamptz not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        last_provisioned_at timestamptz,
        last_provisioned_ip text,
        constraint provisioning_devices_template_check
          check (template in ('sessiontalk/android', 'sessiontalk/ios', 'sessiontalk/windows', 'web'))
      )`,
      `create unique index provisioning_devices_app_key on provisioning_devices (domain_id, app_device_id)`,
      `create unique index provisioning_devices_code_hash_key on provisioning_devices (code_hash)`,
      `create table provisioning_device_lines (
        id uuid primary key default gen_random_uuid(),
        device_id uuid not null references provisioning_devices (id) on delete cascade,
        domain_id uuid not null references domains (id) on delete cascade,
        user_id uuid not null references users (id) on delete cascade,
        ext text not null,
        position integer not null,
        transport text not null,
        enabled boolean not null default true,
        created_at timestamptz not null default now(),
        constraint provisioning_device_lines_transport_check check (transport in ('udp', 'tcp', 'tls'))
      )`,
      `create unique index provisioning_device_lines_user_key on provisioning_device_lines (device_id, user_id)`,
      `create index provisioning_device_lines_user_idx on provisioning_device_lines (user_id)`,
    ],
  },
  {
    version: 5,
    name: 'CDR search indexes: tenant newest-first, trigram keyword search',
    // Measured with bench/cdr/cdr-search-bench.ts (docs/benchmarks.md): without these a tenant's first
    // page sorts all of its CDRs and a keyword scans the table.
    statements: [
      `create index cdrs_domain_started_idx on cdrs (domain, started_at desc, id desc)`,
      `drop index cdrs_domain_idx`,
      // pg_trgm ships with PostgreSQL's contrib; where it cannot be created (PGlite 0.5 does not load
      // it, a managed server may lack it) keyword search still works, by scanning.
      `do $$ begin
        create extension if not exists pg_trgm;
      exception when others then
        raise notice 'pg_trgm is not available: CDR keyword search will scan';
      end $$`,
      `do $$ begin
        if exists (select 1 from pg_extension where extname = 'pg_trgm') then
          create index cdrs_caller_trgm_idx on cdrs using gin (caller gin_trgm_ops);
          create index cdrs_callee_trgm_idx on cdrs using gin (callee gin_trgm_ops);
          create index cdrs_call_id_trgm_idx on cdrs using gin (call_id gin_trgm_ops);
          create index cdrs_disposition_trgm_idx on cdrs using gin (disposition gin_trgm_ops);
          create index cdrs_sip_reason_trgm_idx on cdrs using gin (sip_reason gin_trgm_ops);
        end if;
      end $$`,
    ],
  },
  {
    version: 6,
    name: 'web phone per-user state: agent status, balance',
    // Table described in src/webphone/webphone-tables.ts.
    statements: [
      `create table webphone_user_state (
        user_id uuid primary key references users (id) on delete cascade,
        domain_id uuid not null references domains (id) on delete cascade,
        agent_state text not null default 'available',
        balance double precision,
        currency text,
        updated_at timestamptz not null default now(),
        constraint webphone_user_state_agent_state_check
          check (agent_state in ('available', 'away', 'wrap_up', 'dnd'))
      )`,
      `create index webphone_user_state_domain_idx on webphone_user_state (domain_id)`,
    ],
  },
  {
    version: 80,
    name: 'agent tools: campaigns and leads (preview dialer), buttons, forms, scripts',
    // Tables are described in src/agent/agent-tables.ts.
    statements: [
      `create table agent_campaigns (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        name text not null,
        status text not null default 'active',
        caller_id text,
        lead_timeout_s integer not null default 300,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint agent_campaigns_status_check check (status in ('active', 'paused', 'archived')),
        constraint agent_campaigns_lead_timeout_check check (lead_timeout_s between 10 and 86400)
      )`,
      `create unique index agent_campaigns_domain_name_key on agent_campaigns (domain_id, name)`,
      `create table agent_campaign_members (
        campaign_id uuid not null references agent_campaigns (id) on delete cascade,
        user_id uuid references users (id) on delete cascade,
        group_id uuid references user_groups (id) on delete cascade,
        constraint agent_campaign_members_one_check check ((user_id is null) <> (group_id is null))
      )`,
      `create unique index agent_campaign_members_user_key on agent_campaign_members (campaign_id, user_id) where user_id is not null`,
      `create unique index agent_campaign_members_group_key on agent_campaign_members (campaign_id, group_id) where group_id is not null`,
      `create index agent_campaign_members_user_idx on agent_campaign_members (user_id)`,
      `create index agent_campaign_members_group_idx on agent_campaign_members (group_id)`,
      `create table agent_leads (
        id uuid primary key default gen_random_uuid(),
        campaign_id uuid not null references agent_campaigns (id) on delete cascade,
        domain_id uuid not null references domains (id) on delete cascade,
        position bigint not null,
        name text,
        phone text not null,
        alt_phone text,
        phone_code text,
        fields jsonb not null default '{}'::jsonb,
        status text not null default 'queued',
        queued_at timestamptz not null default now(),
        assigned_to uuid references users (id) on delete set null,
        assigned_at timestamptz,
        attempts integer not null default 0,
        decision text,
        decided_by uuid references users (id) on delete set null,
        decided_at timestamptz,
        created_at timestamptz not null default now(),
        constraint agent_leads_status_check check (status in ('queued', 'assigned', 'done')),
        constraint agent_leads_decision_check check (decision in ('Yes', 'No', 'Unknown')),
        constraint agent_leads_assigned_check check ((status = 'assigned') = (assigned_at is not null))
      )`,
      // The queue: the oldest queued (or timed-out) lead of a campaign first.
      `create index agent_leads_queue_idx on agent_leads (campaign_id, status, queued_at, position)`,
      // One lead held by one agent at a time.
      `create unique index agent_leads_held_key on agent_leads (assigned_to) where status = 'assigned'`,
      `create table agent_lead_calls (
        id uuid primary key default gen_random_uuid(),
        lead_id uuid not null references agent_leads (id) on delete cascade,
        domain_id uuid not null references domains (id) on delete cascade,
        user_id uuid references users (id) on delete set null,
        call_id text not null,
        target text not null,
        number text not null,
        created_at timestamptz not null default now(),
        constraint agent_lead_calls_target_check check (target in ('phone', 'alt_phone', 'phone_code'))
      )`,
      `create index agent_lead_calls_lead_idx on agent_lead_calls (lead_id, created_at)`,
      `create unique index agent_lead_calls_call_key on agent_lead_calls (domain_id, call_id)`,
      `create table agent_scripts (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        name text not null,
        version integer not null default 1,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create unique index agent_scripts_domain_name_key on agent_scripts (domain_id, name)`,
      `create table agent_script_versions (
        script_id uuid not null references agent_scripts (id) on delete cascade,
        version integer not null,
        source text not null,
        created_by uuid,
        created_at timestamptz not null default now(),
        constraint agent_script_versions_pkey primary key (script_id, version)
      )`,
      `create table agent_forms (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        name text not null,
        fields jsonb not null default '[]'::jsonb,
        sandbox_id uuid references agent_scripts (id) on delete set null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      // openForm(name) is not case sensitive.
      `create unique index agent_forms_domain_name_key on agent_forms (domain_id, lower(name))`,
      `create table agent_buttons (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        label text not null,
        icon text,
        tooltip text,
        type text not null default 'primary',
        placement text not null default 'agent',
        min_select integer not null default 0,
        max_select integer not null default 0,
        sandbox_id uuid references agent_scripts (id) on delete set null,
        fn text,
        form_id uuid references agent_forms (id) on delete set null,
        sort_order integer not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create index agent_buttons_domain_idx on agent_buttons (domain_id, placement, sort_order)`,
      `create table agent_form_submissions (
        id uuid primary key default gen_random_uuid(),
        form_id uuid not null references agent_forms (id) on delete cascade,
        domain_id uuid not null references domains (id) on delete cascade,
        user_id uuid references users (id) on delete set null,
        lead_id uuid references agent_leads (id) on delete set null,
        data jsonb not null,
        created_at timestamptz not null default now()
      )`,
      `create index agent_form_submissions_form_idx on agent_form_submissions (form_id, created_at)`,
      `create index agent_form_submissions_lead_idx on agent_form_submissions (lead_id)`,
    ],
  },
  {
    version: 50,
    name: 'device adapters: provisioning providers and the phones they provision',
    // Tables described in src/adapters/adapter-tables.ts.
    statements: [
      `create table device_adapters (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid references domains (id) on delete cascade,
        title text not null,
        token_id uuid,
        created_at timestamptz not null default now(),
        last_seen_at timestamptz
      )`,
      `create unique index device_adapters_scope_title_key
        on device_adapters (coalesce(domain_id, '00000000-0000-0000-0000-000000000000'::uuid), title)`,
      `create table adapter_phones (
        id uuid primary key default gen_random_uuid(),
        domain_id uuid not null references domains (id) on delete cascade,
        mac text not null,
        adapter_id uuid not null references device_adapters (id) on delete cascade,
        lines jsonb not null,
        state text not null default 'queued',
        queued_at timestamptz not null default now(),
        sent_at timestamptz,
        code_hash text,
        code_expires_at timestamptz,
        password_enc text,
        identified_at timestamptz,
        product text,
        version text,
        result_at timestamptz,
        last_error text,
        last_config jsonb,
        config_sent_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        constraint adapter_phones_mac_check check (mac ~ '^[0-9a-f]{12}$'),
        constraint adapter_phones_state_check check (state in ('queued', 'sent', 'ok', 'error'))
      )`,
      `create unique index adapter_phones_mac_key on adapter_phones (mac)`,
      `create index adapter_phones_queue_idx on adapter_phones (adapter_id, state, queued_at)`,
      `create index adapter_phones_domain_idx on adapter_phones (domain_id)`,
    ],
  },
  {
    version: 30,
    name: 'desk phones: devices by MAC, vendor, firmware, keys, overrides',
    // Columns described in src/provisioning/provisioning-tables.ts. A desk phone is a provisioning
    // device without an app or code: those columns become optional (an app row still has them all).
    statements: [
      `alter table provisioning_devices
        alter column app_device_id drop not null,
        alter column ext drop not null,
        alter column code_id drop not null,
        alter column code_hash drop not null,
        alter column code_expires_at drop not null,
        add column mac text,
        add column vendor text,
        add column model text,
        add column firmware text,
        add column user_agent text,
        add column secret text,
        add column status text not null default 'active',
        add column keys jsonb not null default '[]'::jsonb,
        add column overrides jsonb not null default '{}'::jsonb`,
      `alter table provisioning_devices drop constraint provisioning_devices_template_check`,
      `alter table provisioning_devices add constraint provisioning_devices_template_check
        check (template in ('sessiontalk/android', 'sessiontalk/ios', 'sessiontalk/windows', 'web', 'desk'))`,
      `alter table provisioning_devices add constraint provisioning_devices_status_check
        check (status in ('active', 'pending'))`,
      `alter table provisioning_devices add constraint provisioning_devices_desk_check
        check ((template = 'desk') = (mac is not null and vendor is not null and secret is not null))`,
      `alter table provisioning_devices add constraint provisioning_devices_app_check
        check (template = 'desk' or (app_device_id is not null and ext is not null and code_id is not null
          and code_hash is not null and code_expires_at is not null))`,
      // A MAC is one phone in the whole server: a phone of one domain is never served another's file.
      `create unique index provisioning_devices_mac_key on provisioning_devices (mac)`,
    ],
  },
  {
    version: 40,
    name: 'cdrs.node: which cluster node handled the call',
    statements: [`alter table cdrs add column node text`],
  },
];

/**
 * The migrations in version order. Parts of the server took version ranges of their own (desk
 * phones 30, cluster 40, device adapters 50, agent tools 80), so the list above is in the order the
 * parts were written; what runs, and what `MIGRATIONS.at(-1)` names, is ordered by version.
 */
export const MIGRATIONS: readonly Migration[] = [...ENTRIES].sort((a, b) => a.version - b.version);
