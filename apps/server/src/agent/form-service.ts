import { AgentActionError, checkFormFields, type FormField } from '@handset/agent-actions';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import { uniqueViolation } from '../directory/directory-service.js';
import type { Principal } from '../directory/principal.js';
import type { Store } from '../store/store.js';
import { agentAccess as access } from './agent-access.js';
import { agentForms } from './agent-tables.js';
import { UUID } from './campaign-service.js';
import type { ScriptService } from './script-service.js';

/** A form as the API shows it. */
export interface FormRecord {
  id: string;
  domainId: string;
  name: string;
  fields: FormField[];
  /** The script a submission runs. */
  sandbox_id: string | null;
  createdAt: string;
  updatedAt: string;
}

/** What creating or changing a form takes. */
export interface FormInput {
  name: string;
  fields: FormField[];
  sandbox_id?: string | null | undefined;
}

type Row = typeof agentForms.$inferSelect;

/**
 * Forms a button opens on the Agent page: a schema of fields, checked when saved (types,
 * unique names, options of selects, regexes that compile and match quickly). Agents read the
 * forms of their domain; owners and admins manage them.
 */
export class FormService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly scripts: ScriptService,
  ) {}

  /** Forms of a domain, by name. */
  async list(p: Principal, domainId: string): Promise<FormRecord[]> {
    access.requireInDomain(p, domainId, 'domain');
    const rows = await this.store.db
      .select()
      .from(agentForms)
      .where(eq(agentForms.domainId, domainId))
      .orderBy(asc(agentForms.name));
    return rows.map(view);
  }

  /** One form. */
  async get(p: Principal, id: string): Promise<FormRecord> {
    return view(await this.load(p, id, false));
  }

  /** A form of `domainId` by id, or by name (openForm(name): not case sensitive). */
  async find(domainId: string, by: { id: string } | { name: string }): Promise<FormRecord | undefined> {
    if ('id' in by && !UUID.test(by.id)) return undefined;
    const [row] = await this.store.db
      .select()
      .from(agentForms)
      .where(
        and(
          eq(agentForms.domainId, domainId),
          'id' in by ? eq(agentForms.id, by.id) : sql`lower(${agentForms.name}) = lower(${by.name})`,
        ),
      );
    return row ? view(row) : undefined;
  }

  /** Creates a form. */
  async create(p: Principal, domainId: string, input: FormInput): Promise<FormRecord> {
    access.requireManager(p, domainId, 'domain');
    await this.check(domainId, input);
    const row = await this.write(() =>
      this.store.db
        .insert(agentForms)
        .values({ domainId, name: input.name, fields: input.fields, sandboxId: input.sandbox_id ?? null })
        .returning(),
    );
    await this.audit.record(p, {
      action: 'create',
      resource: 'agent-form',
      resourceId: row.id,
      domainId,
      detail: { name: input.name },
    });
    return view(row);
  }

  /** Changes a form. */
  async update(p: Principal, id: string, patch: Partial<FormInput>): Promise<FormRecord> {
    const cur = await this.load(p, id, true);
    const next = {
      name: patch.name ?? cur.name,
      fields: patch.fields ?? cur.fields,
      sandbox_id: patch.sandbox_id === undefined ? cur.sandboxId : patch.sandbox_id,
    };
    await this.check(cur.domainId, next);
    const row = await this.write(() =>
      this.store.db
        .update(agentForms)
        .set({ name: next.name, fields: next.fields, sandboxId: next.sandbox_id, updatedAt: sql`now()` })
        .where(eq(agentForms.id, id))
        .returning(),
    );
    await this.audit.record(p, {
      action: 'update',
      resource: 'agent-form',
      resourceId: id,
      domainId: cur.domainId,
      detail: { fields: Object.keys(patch) },
    });
    return view(row);
  }

  /** Deletes a form (buttons that opened it lose their form_id). */
  async delete(p: Principal, id: string): Promise<void> {
    const cur = await this.load(p, id, true);
    await this.store.db.delete(agentForms).where(eq(agentForms.id, id));
    await this.audit.record(p, {
      action: 'delete',
      resource: 'agent-form',
      resourceId: id,
      domainId: cur.domainId,
      detail: { name: cur.name },
    });
  }

  private async check(domainId: string, f: FormInput): Promise<void> {
    try {
      checkFormFields(f.fields);
    } catch (e) {
      if (e instanceof AgentActionError) throw DirectoryError.validation({ fields: e.message });
      throw e;
    }
    if (f.sandbox_id && !(await this.scripts.exists(domainId, f.sandbox_id)))
      throw DirectoryError.validation({ sandbox_id: 'no such script in this domain' });
  }

  private async load(p: Principal, id: string, manage: boolean): Promise<Row> {
    if (!UUID.test(id)) throw DirectoryError.notFound('form');
    const [row] = await this.store.db.select().from(agentForms).where(eq(agentForms.id, id));
    if (!row) throw DirectoryError.notFound('form');
    if (manage) access.requireManager(p, row.domainId, 'form');
    else access.requireInDomain(p, row.domainId, 'form');
    return row;
  }

  private async write(fn: () => Promise<Row[]>): Promise<Row> {
    try {
      return (await fn())[0]!;
    } catch (err) {
      if (uniqueViolation(err) === 'agent_forms_domain_name_key')
        throw new DirectoryError('CONFLICT', 'a form of that name exists in this domain');
      throw err;
    }
  }
}

function view(r: Row): FormRecord {
  return {
    id: r.id,
    domainId: r.domainId,
    name: r.name,
    fields: r.fields,
    sandbox_id: r.sandboxId,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
