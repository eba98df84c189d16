/** A tenant: one SIP domain. */
export interface Domain {
  id: string;
  /** Lowercased hostname or IP address. */
  domain: string;
  name: string | undefined;
  active: boolean;
  createdAt: Date;
}

/** A domain with how many users it has (listing). */
export interface DomainSummary extends Domain {
  userCount: number;
}

/** A user (extension) as shown to administrators: never carries the password. */
export interface User {
  id: string;
  domain: string;
  ext: string;
  name: string | undefined;
  email: string | undefined;
  active: boolean;
  createdAt: Date;
}

/** Input of {@link DirectoryService.addUser}. */
export interface NewUser {
  domain: string;
  ext: string;
  password: string;
  name?: string | undefined;
  email?: string | undefined;
}

/** A user's decrypted SIP credentials, for digest verification only; never logged. */
export interface SipCredentials {
  domain: string;
  ext: string;
  password: string;
  displayName?: string | undefined;
}
