import { CreateStaffAndAudit1796011105754 } from './1796011105754-CreateStaffAndAudit';
import { CreateOutboundEmails1796012015825 } from './1796012015825-CreateOutboundEmails';
import { CreateSourcesAndItems1796012162044 } from './1796012162044-CreateSourcesAndItems';
import { CreateNotices1796014294589 } from './1796014294589-CreateNotices';
import { AddNoticePersonalDataRedactedAt1796020000000 } from './1796020000000-AddNoticePersonalDataRedactedAt';

/** Every migration, in order. A new migration file is added here too. */
export const allMigrations: Function[] = [
  CreateStaffAndAudit1796011105754,
  CreateOutboundEmails1796012015825,
  CreateSourcesAndItems1796012162044,
  CreateNotices1796014294589,
  AddNoticePersonalDataRedactedAt1796020000000,
];
