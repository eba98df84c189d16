/**
 * What provisioning needs from other contexts, as narrow interfaces so each can be injected
 * (the directory service, the audit log) or replaced in tests.
 */
import type { AuditRecord } from '../directory/audit-log.js';
import type { Principal } from '../directory/principal.js';

/** An extension (user) as provisioning sees it. */
export interface ExtensionRef {
  userId: string;
  domainId: string;
  domain: string;
  ext: string;
  name: string | undefined;
}

/** Directory look-ups provisioning makes. Inactive domains and users are not found. */
export interface ProvisioningDirectory {
  findDomain(domain: string): Promise<{ id: string; domain: string } | undefined>;
  findExtension(domain: string, ext: string): Promise<ExtensionRef | undefined>;
  listExtensions(domainId: string): Promise<ExtensionRef[]>;
  /** The SIP password of an active extension, or undefined. */
  getSipPassword(domain: string, ext: string): Promise<string | undefined>;
  /** The SIP password and display name of an active extension (desk-phone files carry both). */
  getSipAccount(
    domain: string,
    ext: string,
  ): Promise<{ password: string; displayName: string | undefined } | undefined>;
  /** Every active extension's SIP account in one read (desk phones preload them); optional. */
  listSipAccounts?(): Promise<
    Array<{ domain: string; ext: string; password: string; displayName: string | undefined }>
  >;
}

/** The audit trail (AuditLog.record). */
export interface ProvisioningAudit {
  record(principal: Principal, r: AuditRecord): Promise<void>;
}

/** Resolves SRV records (node:dns resolveSrv); injected so tests need no DNS. */
export type SrvResolver = (name: string) => Promise<Array<{ name: string; port: number }>>;
