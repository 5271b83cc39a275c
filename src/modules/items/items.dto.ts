import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsDateString,
  IsEmail,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  ValidatorConstraintInterface,
} from 'class-validator';
import { normaliseDomain, normaliseUrl } from '../../shared/url';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const emptyToUndefined = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() === '' ? undefined : typeof value === 'string' ? value.trim() : value;
/** "a.org, b.org" (a form) or ["a.org", "b.org"] (JSON) → a list. */
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean)
    : value;

@ValidatorConstraint({ name: 'httpUrl' })
class HttpUrl implements ValidatorConstraintInterface {
  validate(v: unknown) {
    return typeof v === 'string' && v.length <= 2048 && normaliseUrl(v) !== null;
  }
  defaultMessage() {
    return 'Enter an absolute http:// or https:// URL (at most 2,048 characters).';
  }
}

@ValidatorConstraint({ name: 'domains' })
class Domains implements ValidatorConstraintInterface {
  validate(v: unknown) {
    return Array.isArray(v) && v.length > 0 && v.every((d) => typeof d === 'string' && d.length <= 253 && normaliseDomain(d) !== null);
  }
  defaultMessage() {
    return 'List the publisher\'s homepage domains, e.g. "example.org, news.example.org".';
  }
}

class StaffForm {
  @IsOptional() @IsString() _csrf?: string;
}

export class CreateSourceDto extends StaffForm {
  @Transform(trim)
  @IsString()
  @Length(1, 200, { message: "Enter the publisher's name (at most 200 characters)." })
  name: string;

  @Transform(toList)
  @IsArray({ message: "List the publisher's homepage domains." })
  @ArrayMaxSize(20, { message: 'At most 20 domains.' })
  @Validate(Domains)
  domains: string[];

  @IsOptional()
  @Transform(emptyToUndefined)
  @Validate(HttpUrl)
  feedUrl?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsEmail({}, { message: 'Enter a valid email address.' })
  @MaxLength(254)
  contactEmail?: string;
}

export class SourceActionDto extends StaffForm {}

export class RightsDto {
  @IsOptional() @IsString() @MaxLength(1000) copyright?: string;
  @IsOptional() @IsString() @MaxLength(1000) dcRights?: string;
  @IsOptional() @IsString() @MaxLength(1000) creativeCommons?: string;
  @IsOptional() @IsString() @MaxLength(1000) atomRights?: string;
}

/** An item added without a feed: `POST /api/v1/items` and each line of `import-items FILE`. */
export class CreateItemDto {
  @IsUUID('all', { message: 'Use the id of a source (see GET /api/v1/sources).' })
  sourceId: string;

  @Transform(trim)
  @IsString()
  @Length(1, 500, { message: 'Enter a title (1 to 500 characters).' })
  title: string;

  @Validate(HttpUrl)
  originalUrl: string;

  /** The publisher's own id for the item; defaults to the original URL. */
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(2048)
  guid?: string;

  @IsOptional()
  @Transform(emptyToUndefined)
  @IsString()
  @MaxLength(200)
  author?: string;

  @IsOptional()
  @IsDateString({}, { message: 'Use an ISO 8601 date-time, e.g. 2026-03-01T09:00:00Z.' })
  publishedAt?: string;

  /** HTML; sanitised before it is stored. */
  @IsOptional()
  @IsString()
  @MaxLength(500_000, { message: 'At most 500,000 characters.' })
  content?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RightsDto)
  rights?: RightsDto;
}

export const ITEM_STATUS_FILTER = ['published', 'removed', 'withdrawn', 'held'] as const;

export class ItemSearchDto {
  @IsOptional() @Transform(trim) @IsString() @MaxLength(2048) q?: string;
  @IsOptional() @Transform(emptyToUndefined) @IsUUID('all', { message: 'Unknown source.' }) source?: string;
  @IsOptional()
  @Transform(emptyToUndefined)
  @IsIn(ITEM_STATUS_FILTER, { message: 'Unknown status.' })
  status?: (typeof ITEM_STATUS_FILTER)[number];
  @IsOptional() @IsString() @MaxLength(200) cursor?: string;
}
