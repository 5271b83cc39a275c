import { ArrayMaxSize, IsArray, IsIn, IsObject, IsOptional, IsString, MaxLength } from 'class-validator';
import { BULK_ACTIONS, type BulkAction } from './bulk-job.entity';

/** The most notices one bulk action takes (a filter matching more is refused: narrow it). */
export const BULK_MAX = 5000;
/** Sets up to this size run in the request; larger ones become a job with a progress page. */
export const BULK_INLINE_MAX = 50;

/** `POST /api/v1/notices/bulk` (SPEC §15) and the queue's bulk form, once shaped. */
export class BulkDto {
  @IsIn(BULK_ACTIONS, { message: `action must be one of ${BULK_ACTIONS.join(', ')}.` })
  action: BulkAction;

  /** The notices, by reference. Give these or `filter`, not both. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(BULK_MAX)
  @IsString({ each: true })
  @MaxLength(20, { each: true })
  references?: string[];

  /** The queue's filter (status, assignee, source, claimType, flag): every notice it matches. */
  @IsOptional()
  @IsObject()
  filter?: Record<string, unknown>;

  /** reject: the reason shown to the complainant (or `canned`); approve, spam: optional words. */
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  reason?: string;

  /** reject: the id of a canned reason, used when `reason` is empty. */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  canned?: string;

  /** assign: the staff member's id. */
  @IsOptional()
  @IsString()
  @MaxLength(40)
  assignee?: string;
}
