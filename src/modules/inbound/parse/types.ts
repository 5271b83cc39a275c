/** The shapes of the pure parsing half of the email channel (SPEC §12). No I/O, no database. */

/** One email as the parser sees it: decoded headers and bodies, attachments as bytes. */
export interface InboundMessage {
  messageId: string | null;
  from: { address: string | null; name: string | null };
  to: string[];
  subject: string;
  date: Date | null;
  /** Lower-cased names, first value, decoded, CR/LF removed. */
  headers: Record<string, string>;
  /** Decoded bodies. */
  text: string | null;
  html: string | null;
  attachments: { filename: string | null; contentType: string; size: number; content: Buffer }[];
  inReplyTo: string | null;
  references: string[];
  /** Messages attached as `message/rfc822` (a complaint forwarded as an attachment), already read. */
  embedded?: InboundMessage[];
}

export interface ParseContext {
  /** URLs on this site are targets. */
  publicBaseUrl: string;
  /** Original URL of one of our items → target (and also recorded as original work). */
  isItemOriginalUrl: (normalisedUrl: string) => boolean;
}

export type StatementKey = 'goodFaith' | 'accuracy' | 'signature' | 'infringingUrls' | 'workDescription' | 'contact' | 'rightsOwner';

export interface MissingElement {
  element: StatementKey;
  /** The statute paragraph, e.g. '§ 512(c)(3)(A)(v)'. */
  paragraph: string;
  /** One sentence for the sender, naming what to add. */
  message: string;
}

export interface ExtractedNotice {
  /** Auto-replies, bounces and bulk mail, and mail with no URL and no statement, are not notices. */
  kind: 'notice' | 'not_a_notice' | 'auto_reply';
  /** Why it is not a notice (null for a notice). */
  reason: string | null;
  /** Normalised URLs that are targets: on this site, or an item's original URL. */
  infringingUrls: string[];
  /** Every other URL (the work, evidence), plus item original URLs named as targets. */
  originalUrls: string[];
  goodFaith: boolean;
  accuracy: boolean;
  signature: string | null;
  name: string | null;
  email: string | null;
  organization: string | null;
  phone: string | null;
  address: string | null;
  country: string | null;
  role: 'owner' | 'agent' | null;
  rightsOwner: string | null;
  workDescription: string | null;
  /** The message's own text with quoted replies and signature removed (a forwarded original unwrapped). */
  body: string;
  forwardedFrom: { address: string | null; name: string | null } | null;
  missing: MissingElement[];
  /** missing.length === 0 and kind === 'notice'. */
  complete: boolean;
  /** The sentences the statements were recognised in (for staff: "what was extracted next to the text"). */
  goodFaithStatement: string | null;
  accuracyStatement: string | null;
  /** Where the data came from: 'text', 'acns', 'xarf' (structured reports are read first). */
  sources: ('text' | 'acns' | 'xarf')[];
}
