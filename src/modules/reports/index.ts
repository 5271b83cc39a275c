/** Reports: the public transparency report, Lumen-style notice exports and DSA statements of reasons, SVG charts. */
export { exportLumenNotices, exportDsaStatements, publicClaimant, PRIVATE } from './export-notices';
export type { NoticeRange } from './export-notices';
export { transparencyReport, publicNoticeRecord } from './transparency';
export type { MonthFigures } from './transparency';
export { barChart } from './svg-chart';
