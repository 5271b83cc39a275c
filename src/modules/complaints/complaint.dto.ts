import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** The complaint form (notifier and source alike); the credential fields are checked by the use case. */
export class ComplaintDto {
  @Transform(trim)
  @IsString()
  @Length(1, 200, { message: 'Enter your name (at most 200 characters).' })
  name: string;

  @Transform(trim)
  @IsEmail({}, { message: 'Enter a valid email address.' })
  @MaxLength(254)
  email: string;

  @Transform(trim)
  @IsString()
  @Length(20, 5000, { message: 'Explain why the decision is wrong (20 to 5,000 characters).' })
  grounds: string;

  @IsOptional() @IsString() _csrf?: string;
  @IsOptional() @IsString() token?: string;
  @IsOptional() @IsString() source?: string;
  @IsOptional() @IsString() sig?: string;
}

export class DecideComplaintDto {
  @IsOptional() @IsString() _csrf?: string;

  @IsIn(['upheld', 'reversed'], { message: 'Choose: the decision stands (upheld) or is reversed.' })
  outcome: 'upheld' | 'reversed';

  @Transform(trim)
  @IsString()
  @Length(10, 5000, { message: 'Give the reason sent to both parties (10 to 5,000 characters).' })
  reason: string;
}
