import { CountryCodes } from 'validator/lib/isISO31661Alpha2';

/** ISO 3166-1 alpha-2 codes (the list class-validator checks against) with their English names. */
export const COUNTRIES: { code: string; name: string }[] = (() => {
  const names = new Intl.DisplayNames(['en'], { type: 'region' });
  return [...CountryCodes].map((code) => ({ code, name: names.of(code) ?? code })).sort((a, b) => a.name.localeCompare(b.name, 'en'));
})();
