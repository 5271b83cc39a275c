import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsOptional, IsString, IsUUID, Length, MaxLength, MinLength } from 'class-validator';
import { MIN_PASSWORD_LENGTH } from './passwords';
import { ROLES, type Role } from './user.entity';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** Every staff form carries its CSRF token; the DTOs accept it so unknown fields can still be refused. */
class StaffForm {
  @IsOptional() @IsString() _csrf?: string;
}

export class LoginDto extends StaffForm {
  @Transform(trim)
  @IsEmail({ require_tld: false }, { message: 'Enter your email address.' })
  @MaxLength(254)
  email: string;

  @IsString({ message: 'Enter your password.' })
  @Length(1, 256, { message: 'Enter your password.' })
  password: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  next?: string;
}

export class ChangePasswordDto extends StaffForm {
  @IsString({ message: 'Enter your current password.' })
  @Length(1, 256, { message: 'Enter your current password.' })
  currentPassword: string;

  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
  @MaxLength(256, { message: 'Use at most 256 characters.' })
  newPassword: string;

  @IsString({ message: 'Repeat the new password.' })
  confirmPassword: string;
}

export class CreateUserDto extends StaffForm {
  @Transform(trim)
  @IsEmail({ require_tld: false }, { message: 'Enter a valid email address.' })
  @MaxLength(254, { message: 'Use at most 254 characters.' })
  email: string;

  @Transform(trim)
  @IsString()
  @Length(1, 200, { message: 'Enter a name (at most 200 characters).' })
  name: string;

  @IsIn(ROLES, { message: 'Choose admin or moderator.' })
  role: Role;

  /** Empty: a password is generated and shown once. */
  @IsOptional()
  @IsString()
  @MaxLength(256, { message: 'Use at most 256 characters.' })
  password?: string;
}

export class UserActionDto extends StaffForm {
  @IsIn(['role', 'deactivate', 'activate', 'revoke-tokens', 'create-token', 'unlock', 'reset-2fa'], { message: 'Unknown action.' })
  action: string;

  @IsUUID('all', { message: 'Unknown user.' })
  userId: string;

  @IsOptional()
  @IsIn(ROLES, { message: 'Choose admin or moderator.' })
  role?: Role;

  @IsOptional()
  @Transform(trim)
  @IsString()
  @MaxLength(100, { message: 'Use at most 100 characters.' })
  tokenName?: string;
}
