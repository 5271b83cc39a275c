import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsEmail,
  IsIn,
  IsISO31661Alpha2,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  registerDecorator,
  ValidateIf,
  ValidationArguments,
  ValidationOptions,
} from 'class-validator';

export const CLAIM_TYPES = ['copyright', 'trademark', 'defamation', 'privacy', 'other'] as const;
export type ClaimType = (typeof CLAIM_TYPES)[number];
export const COMPLAINANT_ROLES = ['owner', 'agent'] as const;
export type ComplainantRole = (typeof COMPLAINANT_ROLES)[number];

export const MAX_INFRINGING_URLS = 1000;
export const MAX_ORIGINAL_URLS = 100;
export const MAX_URL_LENGTH = 2048;

/** The two sworn statements, quoted in full on the form, in emails and on the record. */
export const GOOD_FAITH_STATEMENT =
  'I have a good faith belief that use of the material in the manner complained of is not authorized by the copyright owner, its agent, or the law.';
export const ACCURACY_STATEMENT =
  'The information in this notification is accurate, and under penalty of perjury, I am the owner, or an agent authorized to act on behalf of the owner, of an exclusive right that is allegedly infringed.';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value;

/** Case and spacing folded, for comparing the typed signature with the name. */
export function foldName(s: string): string {
  return s.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Checks every entry of a URL list and names the first bad line. */
export function IsUrlList(opts: { allowRelative: boolean }, validationOptions?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isUrlList',
      target: object.constructor,
      propertyName,
      options: validationOptions,
      validator: {
        validate(value: unknown) {
          return urlListProblem(value, opts.allowRelative) === null;
        },
        defaultMessage(args: ValidationArguments) {
          return urlListProblem(args.value, opts.allowRelative) ?? 'Check the URLs.';
        },
      },
    });
}

export function urlListProblem(value: unknown, allowRelative: boolean): string | null {
  if (!Array.isArray(value)) return 'Give a list of URLs.';
  for (let i = 0; i < value.length; i++) {
    const v = value[i];
    const where = value.length > 1 ? `URL ${i + 1} ` : 'The URL ';
    if (typeof v !== 'string' || !v.trim()) return `${where}is empty.`;
    const s = v.trim();
    if (s.length > MAX_URL_LENGTH) return `${where}is longer than ${MAX_URL_LENGTH} characters.`;
    if (/[\s<>"]/.test(s)) return `${where}contains spaces or characters a URL cannot have: ${s.slice(0, 80)}`;
    if (allowRelative && s.startsWith('/') && !s.startsWith('//')) continue;
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      return `${where}is not a valid web address: ${s.slice(0, 80)}`;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${where}must start with http:// or https://: ${s.slice(0, 80)}`;
    if (!u.hostname) return `${where}has no host name: ${s.slice(0, 80)}`;
  }
  return null;
}

/** The signature (§ 512(c)(3)(A)(i)) must be the complainant's own name. */
export function MatchesName(validationOptions?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'matchesName',
      target: object.constructor,
      propertyName,
      options: validationOptions,
      validator: {
        validate(value: unknown, args: ValidationArguments) {
          const name = (args.object as { name?: unknown }).name;
          // A missing or over-long name has its own error; do not report it twice.
          if (typeof name !== 'string' || !name.trim() || name.trim().length > 200) return true;
          return typeof value === 'string' && foldName(value) === foldName(name);
        },
      },
    });
}

/**
 * A takedown notice as submitted, by the form and the API alike (SPEC §4, §7). Field names are the
 * API contract. The form turns its textareas (one URL per line) and checkboxes into these types
 * before validation.
 */
export class NoticeDto {
  @Transform(trim)
  @IsString({ message: 'Enter your full name.' })
  @Length(1, 200, { message: 'Enter your full name (at most 200 characters).' })
  name: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(200, { message: 'Use at most 200 characters.' })
  organization?: string;

  @Transform(trim)
  @IsEmail({}, { message: 'Enter an email address where we can reach you, like name@example.com.' })
  @MaxLength(254, { message: 'Use at most 254 characters.' })
  email: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @Matches(/^\+?[0-9 ().\-/]{5,40}$/, { message: 'Enter a phone number using digits, spaces, + ( ) - only.' })
  phone?: string;

  @Transform(trim)
  @IsString({ message: 'Enter your postal address.' })
  @Length(5, 1000, { message: 'Enter your full postal address (5 to 1,000 characters).' })
  address: string;

  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toUpperCase() : value))
  @IsISO31661Alpha2({ message: 'Choose your country (a two-letter ISO 3166 code such as US or DE).' })
  country: string;

  @IsIn(COMPLAINANT_ROLES, { message: 'Say whether you are the rights owner or an agent acting for them.' })
  role: ComplainantRole;

  @ValidateIf((o: NoticeDto) => o.role === 'agent' || (o.rightsOwner !== undefined && o.rightsOwner !== ''))
  @Transform(emptyToUndefined)
  @IsString({ message: 'As an agent, name the rights owner you act for.' })
  @Length(1, 200, { message: 'As an agent, name the rights owner you act for (at most 200 characters).' })
  rightsOwner?: string;

  @Transform(trim)
  @IsString({ message: 'Describe the copyrighted work.' })
  @Length(10, 5000, { message: 'Describe the copyrighted work (10 to 5,000 characters).' })
  workDescription: string;

  @IsOptional()
  @IsArray({ message: 'Give the original URLs as a list.' })
  @ArrayMaxSize(MAX_ORIGINAL_URLS, { message: `Give at most ${MAX_ORIGINAL_URLS} original URLs.` })
  @IsUrlList({ allowRelative: false })
  originalUrls?: string[];

  /** When the original work was first published (optional; a date after our copy is flagged). */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'Give the date as YYYY-MM-DD.' })
  workPublishedAt?: string;

  @IsArray({ message: 'List the URLs on this site that you want removed.' })
  @ArrayMinSize(1, { message: 'List at least one URL on this site that you want removed.' })
  @ArrayMaxSize(MAX_INFRINGING_URLS, { message: `A notice can name at most ${MAX_INFRINGING_URLS} URLs; send several notices.` })
  @IsUrlList({ allowRelative: true })
  infringingUrls: string[];

  @Transform(({ value }) => (value === true || value === 'true' || value === 'on' || value === 'yes' ? true : value))
  @Equals(true, { message: 'You must make the good-faith statement to send a notice.' })
  goodFaith: boolean;

  @Transform(({ value }) => (value === true || value === 'true' || value === 'on' || value === 'yes' ? true : value))
  @Equals(true, { message: 'You must make the statement of accuracy, under penalty of perjury, to send a notice.' })
  accuracy: boolean;

  @Transform(trim)
  @IsString({ message: 'Type your full name as your signature.' })
  @MaxLength(200, { message: 'Use at most 200 characters.' })
  @MatchesName({ message: 'Type your full name exactly as in the name field, as your signature.' })
  signature: string;

  @IsOptional()
  @IsIn(CLAIM_TYPES, { message: 'Choose the kind of claim: copyright, trademark, defamation, privacy or other.' })
  claimType?: ClaimType;

  /** Honeypot: a field people never see. Filled in by bots. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  website?: string;
}
