import { Transform } from 'class-transformer';
import { IsEmail, IsString, Length, MaxLength } from 'class-validator';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/** `POST /opt-out`: the source's domain and an address that proves control of it. */
export class OptOutDto {
  @Transform(trim)
  @IsString({ message: 'Enter the domain of your site, like example.com.' })
  @Length(3, 253, { message: 'Enter the domain of your site, like example.com.' })
  domain: string;

  @Transform(trim)
  @IsEmail({}, { message: 'Enter an email address at your domain, like editor@example.com.' })
  @MaxLength(254, { message: 'Use at most 254 characters.' })
  email: string;
}
