import { addBusinessDays, isBusinessDay, usFederalHolidays } from '../../src/shared/business-days';

const d = (s: string) => new Date(`${s}T00:00:00Z`);
const iso = (x: Date) => x.toISOString().slice(0, 10);

describe('US business days', () => {
  it.each([
    // year, holidays as observed (published by OPM)
    [
      2023,
      [
        '2023-01-02',
        '2023-01-16',
        '2023-02-20',
        '2023-05-29',
        '2023-06-19',
        '2023-07-04',
        '2023-09-04',
        '2023-10-09',
        '2023-11-10',
        '2023-11-23',
        '2023-12-25',
      ],
    ],
    [
      2024,
      [
        '2024-01-01',
        '2024-01-15',
        '2024-02-19',
        '2024-05-27',
        '2024-06-19',
        '2024-07-04',
        '2024-09-02',
        '2024-10-14',
        '2024-11-11',
        '2024-11-28',
        '2024-12-25',
      ],
    ],
    [
      2026,
      [
        '2026-01-01',
        '2026-01-19',
        '2026-02-16',
        '2026-05-25',
        '2026-06-19',
        '2026-07-03',
        '2026-09-07',
        '2026-10-12',
        '2026-11-11',
        '2026-11-26',
        '2026-12-25',
      ],
    ],
    [
      2027,
      [
        '2027-01-01',
        '2027-01-18',
        '2027-02-15',
        '2027-05-31',
        '2027-06-18',
        '2027-07-05',
        '2027-09-06',
        '2027-10-11',
        '2027-11-11',
        '2027-11-25',
        '2027-12-24',
        '2027-12-31',
      ],
    ],
    [
      2028,
      [
        '2028-01-17',
        '2028-02-21',
        '2028-05-29',
        '2028-06-19',
        '2028-07-04',
        '2028-09-04',
        '2028-10-09',
        '2028-11-10',
        '2028-11-23',
        '2028-12-25',
      ],
    ],
  ])('when the holidays of %i are computed, then they match the published observed dates', (year, expected) => {
    expect(
      usFederalHolidays(year as number)
        .map((h) => iso(h.date))
        .sort(),
    ).toEqual(expected);
  });

  it('when a counter-notice arrives the Wednesday before Thanksgiving 2026, then 10 business days land on Thursday 10 December', () => {
    expect(iso(addBusinessDays(d('2026-11-25'), 10))).toBe('2026-12-10');
    expect(iso(addBusinessDays(new Date('2026-11-25T22:30:00Z'), 14))).toBe('2026-12-16');
  });

  it('when the window crosses Christmas and an observed New Year on 31 December, then both are skipped', () => {
    // 2027: Christmas observed Fri 24 Dec, New Year 2028 observed Fri 31 Dec.
    expect(iso(addBusinessDays(d('2027-12-20'), 10))).toBe('2028-01-05');
  });

  it('when a counter-notice arrives on a Saturday, then counting starts on Monday', () => {
    expect(iso(addBusinessDays(d('2026-03-07'), 1))).toBe('2026-03-09');
    expect(iso(addBusinessDays(d('2026-03-07'), 10))).toBe('2026-03-20');
  });

  it('when days are weekends or holidays, then they are not business days', () => {
    expect(isBusinessDay(d('2026-11-26'))).toBe(false); // Thanksgiving
    expect(isBusinessDay(d('2026-07-03'))).toBe(false); // Independence Day observed (4 July is a Saturday)
    expect(isBusinessDay(d('2026-11-28'))).toBe(false); // Saturday
    expect(isBusinessDay(d('2026-11-27'))).toBe(true);
  });
});
