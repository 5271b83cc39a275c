import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, MaxLength, Min } from 'class-validator';

export const DECISION_ACTIONS = ['approve', 'reject', 'request_info', 'spam'] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** `POST /api/v1/notices/:reference/decision` (SPEC §7). */
export class DecisionDto {
  @IsIn(DECISION_ACTIONS, { message: `action must be one of ${DECISION_ACTIONS.join(', ')}.` })
  action: DecisionAction;

  /** The reason (reject: required), the question (request_info: required), or optional words (approve, spam). */
  @IsOptional()
  @IsString()
  @MaxLength(5000)
  reason?: string;

  /** approve only: limit the removal to these URLs of the notice. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(2048, { each: true })
  targets?: string[];

  /** The notice version the client saw; a different current version is a 409. */
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}

/** `POST …/claim` and `…/release`: an optional version. */
export class VersionDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;
}
