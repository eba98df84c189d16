import { AgentActionError, parseButtonFn } from '@handset/agent-actions';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { AuditLog } from '../directory/audit-log.js';
import { DirectoryError } from '../directory/directory-error.js';
import type { Principal } from '../directory/principal.js';
import type { Store } from '../store/store.js';
import { agentAccess as access } from './agent-access.js';
import { agentButtons } from './agent-tables.js';
import { UUID } from './campaign-service.js';
import type { FormService } from './form-service.js';
import type { ScriptService } from './script-service.js';

/** A button in the seed's Button Builder shape. */
export interface ButtonRecord {
  id: string;
  domainId: string;
  label: string;
  icon: string | null;
  tooltip: string | null;
  /** Colour / theme: primary, secondary, success, danger, warning, info, light, dark. */
  type: string;
  placement: string;
  min_select: number;
  max_select: number;
  sandbox_id: string | null;
  fn: string | null;
  form_id: string | null;
  sort_order: number;
  createdAt: string;
  updatedAt: string;
}

/** What creating a button takes (the record less ids and dates). */
export type ButtonInput = Omit<ButtonRecord, 'id' | 'domainId' | 'createdAt' | 'updatedAt'>;

type Row = typeof agentButtons.$inferSelect;

/**
 * Buttons on the Agent page, in sort order. `fn` is checked when saved (an action of the table,
 * or the name of the script function to run, which then needs a script); the script and form
 * must be of the same domain. Agents read them; owners and admins manage them.
 */
export class ButtonService {
  constructor(
    private readonly store: Store,
    private readonly audit: AuditLog,
    private readonly scripts: ScriptService,
    private readonly forms: FormService,
  ) {}

  /** Buttons of a domain (of one placement, when given) in sort order. */
  async list(p: Principal, domainId: string, placement?: string): Promise<ButtonRecord[]> {
    access.requireInDomain(p, domainId, 'domain');
    const rows = await this.store.db
      .select()
      .from(agentButtons)
      .where(
        and(
          eq(agentButtons.domainId, domainId),
          placement === undefined ? undefined : eq(agentButtons.placement, placement),
        ),
      )
      .orderBy(asc(agentButtons.sortOrder), asc(agentButtons.label), asc(agentButtons.id));
    return rows.map(view);
  }

  /** One button (`manage`: for a change). */
  async get(p: Principal, id: string): Promise<ButtonRecord> {
    return view(await this.load(p, id, false));
  }

  /** Creates a button. */
  async create(p: Principal, domainId: string, input: ButtonInput): Promise<ButtonRecord> {
    access.requireManager(p, domainId, 'domain');
    await this.check(domainId, input);
    const [row] = await this.store.db
      .insert(agentButtons)
      .values({ domainId, ...columns(input) })
      .returning();
    await this.audit.record(p, {
      action: 'create',
      resource: 'agent-button',
      resourceId: row!.id,
      domainId,
      detail: { label: input.label },
    });
    return view(row!);
  }

  /** Changes a button. */
  async update(p: Principal, id: string, patch: Partial<ButtonInput>): Promise<ButtonRecord> {
    const cur = view(await this.load(p, id, true));
    const next: ButtonInput = { ...cur, ...patch };
    await this.check(cur.domainId, next);
    const [row] = await this.store.db
      .update(agentButtons)
      .set({ ...columns(next), updatedAt: sql`now()` })
      .where(eq(agentButtons.id, id))
      .returning();
    await this.audit.record(p, {
      action: 'update',
      resource: 'agent-button',
      resourceId: id,
      domainId: cur.domainId,
      detail: { fields: Object.keys(patch) },
    });
    return view(row!);
  }

  /** Deletes a button. */
  async delete(p: Principal, id: string): Promise<void> {
    const cur = await this.load(p, id, true);
    await this.store.db.delete(agentButtons).where(eq(agentButtons.id, id));
    await this.audit.record(p, {
      action: 'delete',
      resource: 'agent-button',
      resourceId: id,
      domainId: cur.domainId,
      detail: { label: cur.label },
    });
  }

  /** The button, when `p` may see it. */
  async load(p: Principal, id: string, manage: boolean): Promise<Row> {
    if (!UUID.test(id)) throw DirectoryError.notFound('button');
    const [row] = await this.store.db.select().from(agentButtons).where(eq(agentButtons.id, id));
    if (!row) throw DirectoryError.notFound('button');
    if (manage) access.requireManager(p, row.domainId, 'button');
    else access.requireInDomain(p, row.domainId, 'button');
    return row;
  }

  private async check(domainId: string, b: ButtonInput): Promise<void> {
    const fields: Record<string, string> = {};
    try {
      const fn = parseButtonFn(b.fn);
      if (fn?.kind === 'function' && !b.sandbox_id)
        fields.fn = `"${fn.name}" is no action; as a script function it needs a sandbox_id`;
    } catch (e) {
      if (!(e instanceof AgentActionError)) throw e;
      fields.fn = e.message;
    }
    if (b.max_select > 0 && b.min_select > b.max_select) fields.min_select = 'must not exceed max_select';
    if (b.sandbox_id && !(await this.scripts.exists(domainId, b.sandbox_id)))
      fields.sandbox_id = 'no such script in this domain';
    if (b.form_id && !(await this.forms.find(domainId, { id: b.form_id })))
      fields.form_id = 'no such form in this domain';
    if (Object.keys(fields).length) throw DirectoryError.validation(fields);
  }
}

function columns(b: ButtonInput) {
  return {
    label: b.label,
    icon: b.icon,
    tooltip: b.tooltip,
    type: b.type,
    placement: b.placement,
    minSelect: b.min_select,
    maxSelect: b.max_select,
    sandboxId: b.sandbox_id,
    fn: b.fn,
    formId: b.form_id,
    sortOrder: b.sort_order,
  };
}

/** A row as the API shows it. */
export function view(r: Row): ButtonRecord {
  return {
    id: r.id,
    domainId: r.domainId,
    label: r.label,
    icon: r.icon,
    tooltip: r.tooltip,
    type: r.type,
    placement: r.placement,
    min_select: r.minSelect,
    max_select: r.maxSelect,
    sandbox_id: r.sandboxId,
    fn: r.fn,
    form_id: r.formId,
    sort_order: r.sortOrder,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
