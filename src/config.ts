import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

/**
 * The only reader of the environment. Every key is validated at start; all bad keys are reported
 * together, one line each, so an operator fixes them in one go.
 */

const toInt = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value).trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) => {
  if (value === undefined || value === '') return undefined;
  const v = String(value).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  return value;
};
const toNumber = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : /^\d*\.?\d+$/.test(String(value).trim()) ? Number(value) : value;
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

class EnvSchema {
  @IsOptional()
  @IsIn(['development', 'production', 'test'])
  NODE_ENV?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(65535)
  PORT?: number;

  /** The address to listen on: an IPv4/IPv6 literal or a host name. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(?:[0-9a-f:.]+|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)$/i, { message: 'must be an IP address or host name, e.g. 127.0.0.1' })
  HOST?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  DATA_DIR?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^smtps?:\/\/[^\s]+$/, { message: 'must be an smtp:// or smtps:// URL' })
  SMTP_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(?:[^<>\r\n]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, {
    message: 'must be an email address, optionally as "Name <address>"',
  })
  MAIL_FROM?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  PUBLIC_BASE_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  SESSION_SECRET?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: string;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  TRUST_PROXY?: boolean;

  // HTTP server limits (issue 22): slow or idle clients cannot hold sockets.
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(600)
  HTTP_HEADERS_TIMEOUT_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(3600)
  HTTP_REQUEST_TIMEOUT_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(600)
  HTTP_KEEP_ALIVE_TIMEOUT_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number (0: no cap)' })
  @Min(0)
  @Max(100_000)
  HTTP_MAX_CONNECTIONS_PER_ADDRESS?: number;

  // Claims (issue 22): a crashed process's claimed work is free this long after its last heartbeat.
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(3)
  @Max(600)
  CLAIM_LEASE_SECONDS?: number;

  // Live updates (SPEC §15): the server-sent events stream's heartbeat; a viewer unseen for 3 of them has left.
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(300)
  LIVE_HEARTBEAT_SECONDS?: number;

  // Evidence side by side (SPEC §15): claimed originals fetched through the SSRF-guarded fetcher.
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number of bytes' })
  @Min(1024)
  @Max(50 * 1024 * 1024)
  EVIDENCE_MAX_BYTES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(120)
  EVIDENCE_TIMEOUT_SECONDS?: number;

  // Policy (SPEC §9)
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(24 * 90)
  SLA_HOURS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(100)
  STRIKE_LIMIT?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(365)
  NEEDS_INFO_DAYS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(10, { message: 'must be between 10 and 14 (17 U.S.C. § 512(g)(2)(C))' })
  @Max(14, { message: 'must be between 10 and 14 (17 U.S.C. § 512(g)(2)(C))' })
  RESTORE_BUSINESS_DAYS?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  REQUIRE_EMAIL_VERIFICATION?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(10000)
  SENDER_BURST?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(24 * 60)
  MODERATOR_DIGEST_MINUTES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(24 * 60)
  FEED_INTERVAL_MINUTES?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  ALLOW_PRIVATE_FEEDS?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(50)
  MAIL_MAX_ATTEMPTS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(3600)
  MAIL_RETRY_BASE_SECONDS?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(1_000_000)
  INTAKE_PER_HOUR?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1, { message: 'must be at least 1 (day)' })
  @Max(3650, { message: 'must be at most 3650 (ten years)' })
  PERSONAL_DATA_RETENTION_DAYS?: number;

  // Staydown (SPEC §13): containment similarity at which an imported entry is held.
  @IsOptional()
  @Transform(toNumber)
  @IsNumber({}, { message: 'must be a number between 0.5 and 1' })
  @Min(0.5, { message: 'must be between 0.5 and 1' })
  @Max(1, { message: 'must be between 0.5 and 1' })
  STAYDOWN_SIMILARITY?: number;

  // Staff login protection
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(100)
  LOGIN_MAX_FAILURES?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(24 * 60)
  LOGIN_LOCK_MINUTES?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false' })
  VIEW_RELOAD?: boolean;

  // Public pages behind HTTP caches and CDNs (SPEC §16)
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(31_536_000)
  PUBLIC_MAX_AGE?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(31_536_000)
  EDGE_MAX_AGE?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^\s*https?:\/\/[^\s,]+(\s*,\s*https?:\/\/[^\s,]+)*\s*$/, { message: 'must be a comma-separated list of http(s) URLs' })
  PURGE_URLS?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['PURGE', 'BAN'], { message: 'must be PURGE or BAN' })
  PURGE_METHOD?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[A-Za-z0-9]{1,64}$/, { message: 'must be a Fastly service id (letters and digits)' })
  FASTLY_SERVICE_ID?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  FASTLY_API_TOKEN?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  FASTLY_API_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[a-f0-9]{32}$/i, { message: 'must be a Cloudflare zone id (32 hex digits)' })
  CLOUDFLARE_ZONE_ID?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MinLength(8, { message: 'must be at least 8 characters' })
  CLOUDFLARE_API_TOKEN?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL' })
  CLOUDFLARE_API_URL?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(100)
  PURGE_MAX_ATTEMPTS?: number;

  /** Who must use a second factor (SPEC §17): nobody, admins, or all staff. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(['none', 'admin', 'all'], { message: 'must be none, admin or all' })
  REQUIRE_2FA?: string;

  /** Out-of-court dispute settlement bodies (DSA Art. 21), named in complaint outcome emails: "Name|https://url;Name|https://url". */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^\s*[^|;]{2,200}\|\s*https?:\/\/[^\s;|]+\s*(;\s*[^|;]{2,200}\|\s*https?:\/\/[^\s;|]+\s*)*;?\s*$/, {
    message: 'must be "Name|https://address" entries separated by ";"',
  })
  ODS_BODIES?: string;

  // Designated agent (SPEC §9, the /dmca page)
  @IsOptional() @IsString() DMCA_AGENT_NAME?: string;
  @IsOptional() @IsString() DMCA_AGENT_ADDRESS?: string;
  @IsOptional() @IsString() DMCA_AGENT_PHONE?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsEmail({}, { message: 'must be an email address' }) DMCA_AGENT_EMAIL?: string;

  // Rights holders (SPEC §14): the largest authorisation letter (PDF) a submitter may upload.
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1024, { message: 'must be at least 1024 bytes' })
  @Max(50 * 1024 * 1024, { message: 'must be at most 52428800 bytes (50 MiB)' })
  AUTHORISATION_LETTER_MAX_BYTES?: number;

  // Email as a channel (SPEC §12)
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(65535)
  INBOUND_SMTP_PORT?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^(?:[0-9a-f:.]+|[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?)$/i, { message: 'must be an IP address or host name, e.g. 127.0.0.1' })
  INBOUND_SMTP_HOST?: string;

  /** PEM files: with both, the receiver offers STARTTLS. */
  @IsOptional() @Transform(emptyToUndefined) @IsString() INBOUND_SMTP_TLS_CERT?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsString() INBOUND_SMTP_TLS_KEY?: string;

  /** Messages one client IP may deliver per minute (the receiver's rate limit). */
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(1_000_000)
  INBOUND_SMTP_PER_MINUTE?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^\s*[^\s@,]+@[^\s@,]+(\s*,\s*[^\s@,]+@[^\s@,]+)*\s*$/, { message: 'must be a comma-separated list of email addresses' })
  INBOUND_ADDRESSES?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?$/i, { message: 'must be a domain name, e.g. desk.example.org' })
  INBOUND_REPLY_DOMAIN?: string;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1024)
  @Max(200 * 1024 * 1024)
  INBOUND_MAX_BYTES?: number;

  @IsOptional()
  @Transform(toBool)
  @IsBoolean({ message: 'must be true or false (on/off)' })
  INBOUND_AUTH_DNS?: boolean;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(0)
  @Max(10_000)
  INBOUND_REPLIES_PER_HOUR?: number;

  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'must be a whole number' })
  @Min(1)
  @Max(365)
  INCOMPLETE_DAYS?: number;

  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^imaps?:\/\/[^\s]+$/, { message: 'must be an imap:// or imaps:// URL' })
  INBOUND_IMAP_URL?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(200)
  INBOUND_IMAP_DONE_FOLDER?: string;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly port: number;
  /** undefined: every interface (Node's default). */
  readonly host?: string;
  readonly dataDir: string;
  /** undefined: start the embedded PostgreSQL under dataDir. */
  readonly databaseUrl?: string;
  /** undefined: keep emails in the outbox (local store) instead of sending. */
  readonly smtpUrl?: string;
  readonly mailFrom: string;
  readonly publicBaseUrl: string;
  /** undefined: generated once and kept under dataDir (embedded default). */
  readonly sessionSecret?: string;
  readonly logLevel: string;
  readonly trustProxy: boolean;
  /** Re-read and recompile templates on every render (editing views); otherwise compiled once. */
  readonly viewReload: boolean;
  readonly secureCookies: boolean;
  /** Node's HTTP server limits, in ms; `maxConnectionsPerAddress` 0 means no cap. */
  readonly http: {
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxConnectionsPerAddress: number;
  };
  /** A process's claims (src/db/leases.ts) are free this long after its last heartbeat (renewed every third of it). */
  readonly claimLeaseSeconds: number;
  /** The live stream (GET /live): heartbeat interval; presence expires after three missed ones. */
  readonly live: { readonly heartbeatSeconds: number };
  /** Claimed originals fetched for the evidence page: size cap, deadline (kept 10 minutes per instance). */
  readonly evidence: { readonly maxBytes: number; readonly timeoutMs: number };
  readonly policy: {
    readonly slaHours: number;
    readonly strikeLimit: number;
    readonly needsInfoDays: number;
    readonly restoreBusinessDays: number;
    readonly requireEmailVerification: boolean;
    readonly senderBurst: number;
    readonly moderatorDigestMinutes: number;
    readonly feedIntervalMinutes: number;
    readonly allowPrivateFeeds: boolean;
    readonly mailMaxAttempts: number;
    /** First retry delay of an email after a transient failure; doubled each attempt (capped at 4 h). */
    readonly mailRetryBaseSeconds: number;
    /** Notices one IP may submit per hour (form and API together, per endpoint). */
    readonly intakePerHour: number;
    /** Days the complainant's personal data of a rejected/spam/withdrawn notice is kept before it is redacted. */
    readonly personalDataRetentionDays: number;
    /** Containment (0.5–1) at which an imported entry matching the fingerprint bank is held. */
    readonly staydownSimilarity: number;
  };
  /** HTTP caching of public pages and edge purges (SPEC §16). */
  readonly edge: {
    /** Seconds browsers may keep a public page (`max-age`). */
    readonly publicMaxAge: number;
    /** Seconds shared caches (Varnish, CDN) may keep it (`s-maxage`); removals purge them at once. */
    readonly edgeMaxAge: number;
    /** Varnish-style purge endpoints. */
    readonly purgeUrls: readonly string[];
    readonly purgeMethod: 'PURGE' | 'BAN';
    readonly fastly?: { readonly serviceId: string; readonly apiToken: string; readonly apiUrl: string };
    readonly cloudflare?: { readonly zoneId: string; readonly apiToken: string; readonly apiUrl: string };
    /** Attempts per target before a purge is marked failed. */
    readonly maxAttempts: number;
  };
  readonly login: { readonly maxFailures: number; readonly lockMinutes: number };
  /** REQUIRE_2FA: staff who must enrol a second factor before any other staff page. */
  readonly require2fa: 'none' | 'admin' | 'all';
  /** ODS_BODIES: certified out-of-court dispute settlement bodies (DSA Art. 21). */
  readonly odsBodies: readonly { readonly name: string; readonly url: string }[];
  readonly dmcaAgent: { readonly name: string; readonly address: string; readonly phone: string; readonly email: string };
  /** Rights holders (SPEC §14). */
  readonly submitters: {
    /** AUTHORISATION_LETTER_MAX_BYTES: the largest authorisation letter (PDF) taken. Default 5 MiB. */
    readonly letterMaxBytes: number;
  };
  /** Email as a channel (SPEC §12). */
  readonly inbound: {
    /** undefined: no SMTP receiver. */
    readonly smtpPort?: number;
    readonly smtpHost?: string;
    readonly smtpTls?: { readonly certFile: string; readonly keyFile: string };
    readonly smtpPerMinute: number;
    /** Lower-cased; RCPT TO is accepted for these and for reply addresses. */
    readonly addresses: readonly string[];
    readonly replyDomain: string;
    readonly maxBytes: number;
    /** false: no SPF/DKIM/DMARC lookups; results recorded as `none`. */
    readonly authDns: boolean;
    readonly repliesPerHour: number;
    readonly incompleteDays: number;
    readonly imapUrl?: string;
    readonly imapDoneFolder: string;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw = plainToInstance(EnvSchema, { ...env });
  const errors = validateSync(raw);
  const extra: string[] = [];
  if (raw.DATABASE_URL && raw.NODE_ENV === 'production' && !raw.SESSION_SECRET) {
    extra.push('SESSION_SECRET: required with DATABASE_URL in production (every instance must share it)');
  }
  // The app listens on plain HTTP: an https address means a TLS proxy in front. Without trusting it,
  // express-session sees an insecure request, never sets the Secure session cookie, and every
  // sign-in fails (as an expired form: the CSRF token is bound to a session that was never kept).
  if (raw.NODE_ENV === 'production' && /^https:\/\//i.test(raw.PUBLIC_BASE_URL ?? '') && !raw.TRUST_PROXY) {
    extra.push(
      'TRUST_PROXY: must be true when PUBLIC_BASE_URL is https (the app serves plain HTTP behind a TLS proxy that sends X-Forwarded-Proto; without it no one can sign in)',
    );
  }
  if (!!raw.FASTLY_SERVICE_ID !== !!raw.FASTLY_API_TOKEN) {
    extra.push('FASTLY_SERVICE_ID, FASTLY_API_TOKEN: set both or neither');
  }
  if (!!raw.CLOUDFLARE_ZONE_ID !== !!raw.CLOUDFLARE_API_TOKEN) {
    extra.push('CLOUDFLARE_ZONE_ID, CLOUDFLARE_API_TOKEN: set both or neither');
  }
  // Node refuses a header timeout longer than the whole-request timeout.
  if ((raw.HTTP_HEADERS_TIMEOUT_SECONDS ?? 10) > (raw.HTTP_REQUEST_TIMEOUT_SECONDS ?? 30)) {
    extra.push('HTTP_HEADERS_TIMEOUT_SECONDS: must not be longer than HTTP_REQUEST_TIMEOUT_SECONDS (headers are part of the request)');
  }
  if (!!raw.INBOUND_SMTP_TLS_CERT !== !!raw.INBOUND_SMTP_TLS_KEY) {
    extra.push('INBOUND_SMTP_TLS_CERT, INBOUND_SMTP_TLS_KEY: give both (PEM files) for STARTTLS, or neither');
  }
  if (errors.length || extra.length) {
    const problems = errors.map((e) => {
      const shown = typeof e.value === 'string' && /SECRET|PASSWORD|URL|TOKEN/.test(e.property) ? '(hidden)' : JSON.stringify(e.value);
      const msgs = Object.values(e.constraints ?? {}).join('; ');
      return `${e.property}=${shown}: ${msgs}`;
    });
    throw new ConfigError([...problems, ...extra]);
  }
  const port = raw.PORT ?? 3000;
  const publicBaseUrl = (raw.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const config: Config = {
    env: (raw.NODE_ENV as Config['env']) ?? 'development',
    port,
    host: raw.HOST,
    dataDir: raw.DATA_DIR ?? './data',
    databaseUrl: raw.DATABASE_URL,
    smtpUrl: raw.SMTP_URL,
    mailFrom: raw.MAIL_FROM ?? 'Takedown Desk <takedowns@localhost>',
    publicBaseUrl,
    sessionSecret: raw.SESSION_SECRET,
    logLevel: raw.LOG_LEVEL ?? (raw.NODE_ENV === 'test' ? 'silent' : 'info'),
    trustProxy: raw.TRUST_PROXY ?? false,
    viewReload: raw.VIEW_RELOAD ?? false,
    secureCookies: publicBaseUrl.startsWith('https://'),
    http: {
      headersTimeoutMs: (raw.HTTP_HEADERS_TIMEOUT_SECONDS ?? 10) * 1000,
      requestTimeoutMs: (raw.HTTP_REQUEST_TIMEOUT_SECONDS ?? 30) * 1000,
      keepAliveTimeoutMs: (raw.HTTP_KEEP_ALIVE_TIMEOUT_SECONDS ?? 5) * 1000,
      maxConnectionsPerAddress: raw.HTTP_MAX_CONNECTIONS_PER_ADDRESS ?? 256,
    },
    claimLeaseSeconds: raw.CLAIM_LEASE_SECONDS ?? 30,
    live: { heartbeatSeconds: raw.LIVE_HEARTBEAT_SECONDS ?? 15 },
    evidence: { maxBytes: raw.EVIDENCE_MAX_BYTES ?? 2 * 1024 * 1024, timeoutMs: (raw.EVIDENCE_TIMEOUT_SECONDS ?? 10) * 1000 },
    policy: {
      slaHours: raw.SLA_HOURS ?? 48,
      strikeLimit: raw.STRIKE_LIMIT ?? 3,
      needsInfoDays: raw.NEEDS_INFO_DAYS ?? 14,
      restoreBusinessDays: raw.RESTORE_BUSINESS_DAYS ?? 10,
      requireEmailVerification: raw.REQUIRE_EMAIL_VERIFICATION ?? false,
      senderBurst: raw.SENDER_BURST ?? 10,
      moderatorDigestMinutes: raw.MODERATOR_DIGEST_MINUTES ?? 0,
      feedIntervalMinutes: raw.FEED_INTERVAL_MINUTES ?? 30,
      allowPrivateFeeds: raw.ALLOW_PRIVATE_FEEDS ?? false,
      mailMaxAttempts: raw.MAIL_MAX_ATTEMPTS ?? 8,
      mailRetryBaseSeconds: raw.MAIL_RETRY_BASE_SECONDS ?? 60,
      intakePerHour: raw.INTAKE_PER_HOUR ?? 60,
      personalDataRetentionDays: raw.PERSONAL_DATA_RETENTION_DAYS ?? 365,
      staydownSimilarity: raw.STAYDOWN_SIMILARITY ?? 0.8,
    },
    edge: {
      publicMaxAge: raw.PUBLIC_MAX_AGE ?? 60,
      edgeMaxAge: raw.EDGE_MAX_AGE ?? 86_400,
      purgeUrls: (raw.PURGE_URLS ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean),
      purgeMethod: (raw.PURGE_METHOD as 'PURGE' | 'BAN' | undefined) ?? 'PURGE',
      fastly:
        raw.FASTLY_SERVICE_ID && raw.FASTLY_API_TOKEN
          ? {
              serviceId: raw.FASTLY_SERVICE_ID,
              apiToken: raw.FASTLY_API_TOKEN,
              apiUrl: (raw.FASTLY_API_URL ?? 'https://api.fastly.com').replace(/\/+$/, ''),
            }
          : undefined,
      cloudflare:
        raw.CLOUDFLARE_ZONE_ID && raw.CLOUDFLARE_API_TOKEN
          ? {
              zoneId: raw.CLOUDFLARE_ZONE_ID,
              apiToken: raw.CLOUDFLARE_API_TOKEN,
              apiUrl: (raw.CLOUDFLARE_API_URL ?? 'https://api.cloudflare.com/client/v4').replace(/\/+$/, ''),
            }
          : undefined,
      maxAttempts: raw.PURGE_MAX_ATTEMPTS ?? 20,
    },
    login: { maxFailures: raw.LOGIN_MAX_FAILURES ?? 5, lockMinutes: raw.LOGIN_LOCK_MINUTES ?? 15 },
    require2fa: (raw.REQUIRE_2FA as Config['require2fa'] | undefined) ?? 'none',
    odsBodies: (raw.ODS_BODIES ?? '')
      .split(';')
      .map((e) => e.trim())
      .filter(Boolean)
      .map((e) => {
        const [name, url] = e.split('|').map((p) => p.trim());
        return { name, url };
      }),
    submitters: { letterMaxBytes: raw.AUTHORISATION_LETTER_MAX_BYTES ?? 5 * 1024 * 1024 },
    dmcaAgent: {
      name: raw.DMCA_AGENT_NAME ?? 'Copyright Agent, Takedown Desk',
      address: raw.DMCA_AGENT_ADDRESS ?? '(set DMCA_AGENT_ADDRESS)',
      phone: raw.DMCA_AGENT_PHONE ?? '(set DMCA_AGENT_PHONE)',
      email: raw.DMCA_AGENT_EMAIL ?? 'dmca@localhost',
    },
    inbound: {
      smtpPort: raw.INBOUND_SMTP_PORT,
      smtpHost: raw.INBOUND_SMTP_HOST ?? raw.HOST,
      smtpTls:
        raw.INBOUND_SMTP_TLS_CERT && raw.INBOUND_SMTP_TLS_KEY
          ? { certFile: raw.INBOUND_SMTP_TLS_CERT, keyFile: raw.INBOUND_SMTP_TLS_KEY }
          : undefined,
      smtpPerMinute: raw.INBOUND_SMTP_PER_MINUTE ?? 60,
      addresses: (raw.INBOUND_ADDRESSES ?? raw.DMCA_AGENT_EMAIL ?? 'dmca@localhost')
        .split(',')
        .map((a) => a.trim().toLowerCase())
        .filter(Boolean),
      replyDomain: (raw.INBOUND_REPLY_DOMAIN ?? new URL(publicBaseUrl).hostname).toLowerCase(),
      maxBytes: raw.INBOUND_MAX_BYTES ?? 25 * 1024 * 1024,
      authDns: raw.INBOUND_AUTH_DNS ?? true,
      repliesPerHour: raw.INBOUND_REPLIES_PER_HOUR ?? 5,
      incompleteDays: raw.INCOMPLETE_DAYS ?? 14,
      imapUrl: raw.INBOUND_IMAP_URL,
      imapDoneFolder: raw.INBOUND_IMAP_DONE_FOLDER ?? 'Processed',
    },
  };
  return deepFreeze(config);
}

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (v && typeof v === 'object') deepFreeze(v as object);
  return Object.freeze(o);
}
