import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  Equals,
  IsArray,
  IsEmail,
  IsISO31661Alpha2,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { IsUrlList, MatchesName, MAX_INFRINGING_URLS } from '../notices';

/** The service provider named in the consent to jurisdiction. */
const PROVIDER = 'Takedown Desk';

/** § 512(g)(3)(C): quoted in full on the form, in the emails and on the record. */
export const MISTAKE_STATEMENT =
  'I swear, under penalty of perjury, that I have a good faith belief that the material identified above was removed or disabled as a result of mistake or misidentification of the material to be removed or disabled.';

/** § 512(g)(3)(D) for an address in the United States. */
export const CONSENT_STATEMENT_US =
  'I consent to the jurisdiction of the Federal District Court for the judicial district in which my address is located, and I will accept service of process from the person who provided the notification of the alleged infringement, or an agent of such person.';

/** § 512(g)(3)(D) for an address outside the United States. */
export const CONSENT_STATEMENT_ABROAD = `I consent to the jurisdiction of any judicial district in which ${PROVIDER} may be found, and I will accept service of process from the person who provided the notification of the alleged infringement, or an agent of such person.`;

/** The form shows both halves in one statement; the record keeps the one that applies. */
export const CONSENT_STATEMENT_FORM =
  'I consent to the jurisdiction of the Federal District Court for the judicial district in which my address is located or, if my address is outside the United States, of any judicial district in which ' +
  `${PROVIDER} may be found, and I will accept service of process from the person who provided the notification of the alleged infringement, or an agent of such person.`;

export function consentStatementFor(country: string): string {
  return country.toUpperCase() === 'US' ? CONSENT_STATEMENT_US : CONSENT_STATEMENT_ABROAD;
}

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value;
const checkbox = ({ value }: { value: unknown }) =>
  value === true || value === 'true' || value === 'on' || value === 'yes' ? true : value;

/**
 * A counter-notice as submitted, by the form and the API alike (SPEC §4, § 512(g)(3)). Field names
 * are the API contract. Whether the notice can be countered and whether the URLs were removed by
 * it needs the database: the use case checks that.
 */
export class CounterNoticeDto {
  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toUpperCase() : value))
  @IsString({ message: 'Enter the reference of the takedown notice, like TD-000123 (it is on the page of the removed item).' })
  @Matches(/^TD-\d{6,12}$/, {
    message: 'Enter the reference of the takedown notice, like TD-000123 (it is on the page of the removed item).',
  })
  notice: string;

  @Transform(trim)
  @IsString({ message: 'Enter your full name.' })
  @Length(1, 200, { message: 'Enter your full name (at most 200 characters).' })
  name: string;

  @Transform(trim)
  @IsEmail({}, { message: 'Enter an email address where the complainant and we can reach you, like name@example.com.' })
  @MaxLength(254, { message: 'Use at most 254 characters.' })
  email: string;

  @Transform(trim)
  @IsString({ message: 'Enter your telephone number (§ 512(g)(3)(D) requires it).' })
  @Matches(/^\+?[0-9 ().\-/]{5,40}$/, {
    message: 'Enter your telephone number using digits, spaces, + ( ) - only (§ 512(g)(3)(D) requires it).',
  })
  phone: string;

  @Transform(trim)
  @IsString({ message: 'Enter your postal address.' })
  @Length(5, 1000, { message: 'Enter your full postal address (5 to 1,000 characters).' })
  address: string;

  @Transform(({ value }) => (typeof value === 'string' ? value.trim().toUpperCase() : value))
  @IsISO31661Alpha2({
    message: 'Choose your country (a two-letter ISO 3166 code such as US or DE): it decides which court you consent to.',
  })
  country: string;

  @IsArray({ message: 'List the URLs of the removed material on this site.' })
  @ArrayMinSize(1, { message: 'List at least one URL of the removed material on this site.' })
  @ArrayMaxSize(MAX_INFRINGING_URLS, { message: `List at most ${MAX_INFRINGING_URLS} URLs.` })
  @IsUrlList({ allowRelative: true })
  removedUrls: string[];

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(5000, { message: 'Use at most 5,000 characters.' })
  explanation?: string;

  @Transform(checkbox)
  @Equals(true, {
    message: 'You must make the statement, under penalty of perjury, that the material was removed by mistake or misidentification.',
  })
  mistake: boolean;

  @Transform(checkbox)
  @Equals(true, { message: 'You must consent to the jurisdiction of the court and to accept service of process to send a counter-notice.' })
  consent: boolean;

  @Transform(trim)
  @IsString({ message: 'Type your full name as your signature.' })
  @MaxLength(200, { message: 'Use at most 200 characters.' })
  @MatchesName({ message: 'Type your full name exactly as in the name field, as your signature.' })
  signature: string;

  /** Honeypot: a field people never see. Filled in by bots. */
  @IsOptional()
  @IsString()
  @MaxLength(500)
  website?: string;
}
