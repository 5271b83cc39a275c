/**
 * US business days: weekends and US federal holidays (5 U.S.C. § 6103) are skipped. Holidays are
 * computed by rule for any year, including the observed day when one falls on a weekend
 * (Saturday → the Friday before, Sunday → the Monday after). Dates are calendar days in UTC.
 */

const DAY = 86_400_000;

const utc = (y: number, m: number, d: number) => new Date(Date.UTC(y, m, d));

/** The n-th (1-based) given weekday of a month; n = -1 for the last. */
function nthWeekday(year: number, month: number, weekday: number, n: number): Date {
  if (n > 0) {
    const first = utc(year, month, 1);
    const offset = (weekday - first.getUTCDay() + 7) % 7;
    return utc(year, month, 1 + offset + 7 * (n - 1));
  }
  const last = utc(year, month + 1, 0);
  const offset = (last.getUTCDay() - weekday + 7) % 7;
  return utc(year, month, last.getUTCDate() - offset);
}

function observed(d: Date): Date {
  const wd = d.getUTCDay();
  if (wd === 6) return new Date(d.getTime() - DAY);
  if (wd === 0) return new Date(d.getTime() + DAY);
  return d;
}

export interface Holiday {
  name: string;
  /** The day it is observed (a weekday). */
  date: Date;
}

/** The federal holidays observed in a calendar year (a New Year's Day falling on a Saturday is observed on 31 December of the year before). */
export function usFederalHolidays(year: number): Holiday[] {
  const list: Holiday[] = [
    { name: "New Year's Day", date: observed(utc(year, 0, 1)) },
    { name: 'Birthday of Martin Luther King, Jr.', date: nthWeekday(year, 0, 1, 3) },
    { name: "Washington's Birthday", date: nthWeekday(year, 1, 1, 3) },
    { name: 'Memorial Day', date: nthWeekday(year, 4, 1, -1) },
    ...(year >= 2021 ? [{ name: 'Juneteenth National Independence Day', date: observed(utc(year, 5, 19)) }] : []),
    { name: 'Independence Day', date: observed(utc(year, 6, 4)) },
    { name: 'Labor Day', date: nthWeekday(year, 8, 1, 1) },
    { name: 'Columbus Day', date: nthWeekday(year, 9, 1, 2) },
    { name: 'Veterans Day', date: observed(utc(year, 10, 11)) },
    { name: 'Thanksgiving Day', date: nthWeekday(year, 10, 4, 4) },
    { name: 'Christmas Day', date: observed(utc(year, 11, 25)) },
  ];
  // Next year's New Year's Day may be observed on 31 December of this year.
  const nextNewYear = observed(utc(year + 1, 0, 1));
  if (nextNewYear.getUTCFullYear() === year) list.push({ name: "New Year's Day (observed)", date: nextNewYear });
  return list.filter((h) => h.date.getUTCFullYear() === year);
}

const cache = new Map<number, Set<number>>();
function holidaySet(year: number): Set<number> {
  let s = cache.get(year);
  if (!s) {
    s = new Set(usFederalHolidays(year).map((h) => h.date.getTime()));
    cache.set(year, s);
  }
  return s;
}

function startOfDay(d: Date): Date {
  return utc(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

export function isBusinessDay(d: Date): boolean {
  const day = startOfDay(d);
  const wd = day.getUTCDay();
  return wd !== 0 && wd !== 6 && !holidaySet(day.getUTCFullYear()).has(day.getTime());
}

/**
 * The calendar day `n` business days after `from` (the day of `from` itself is not counted),
 * at 00:00 UTC. Used for "not less than 10 business days after receipt" (§ 512(g)(2)(C)).
 */
export function addBusinessDays(from: Date, n: number): Date {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('n must be a whole number ≥ 0');
  let day = startOfDay(from);
  let left = n;
  while (left > 0) {
    day = new Date(day.getTime() + DAY);
    if (isBusinessDay(day)) left -= 1;
  }
  return day;
}
