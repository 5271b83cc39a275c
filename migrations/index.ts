import { CreateStaffAndAudit1796011105754 } from './1796011105754-CreateStaffAndAudit';
import { CreateOutboundEmails1796012015825 } from './1796012015825-CreateOutboundEmails';
import { CreateSourcesAndItems1796012162044 } from './1796012162044-CreateSourcesAndItems';
import { CreateNotices1796014294589 } from './1796014294589-CreateNotices';
import { CreateSourceStrikesAndQueueIndex1796014706059 } from './1796014706059-CreateSourceStrikesAndQueueIndex';
import { CreateCounterNotices1796014748164 } from './1796014748164-CreateCounterNotices';
import { CreateOptOutRequests1796015169615 } from './1796015169615-CreateOptOutRequests';
import { AddNoticePersonalDataRedactedAt1796020000000 } from './1796020000000-AddNoticePersonalDataRedactedAt';
import { CreateInboundEmails1796100000000 } from './1796100000000-CreateInboundEmails';
import { AddStaydown1796200000000 } from './1796200000000-AddStaydown';
import { CreateSubmitters1796300000000 } from './1796300000000-CreateSubmitters';
import { AddStandingStatements1796300001000 } from './1796300001000-AddStandingStatements';
import { CreateSubmitterApiTokens1796300002000 } from './1796300002000-CreateSubmitterApiTokens';
import { CreateBatches1796300003000 } from './1796300003000-CreateBatches';
import { CreateEdgePurges1796400000000 } from './1796400000000-CreateEdgePurges';
import { CreateTwoFactor1796500000000 } from './1796500000000-CreateTwoFactor';
import { CreateComplaints1796500000001 } from './1796500000001-CreateComplaints';
import { CreateWorkerInstancesAndEmailClaims1796600000000 } from './1796600000000-CreateWorkerInstancesAndEmailClaims';
import { CreateItemAliases1796600000001 } from './1796600000001-CreateItemAliases';
import { AddClaimsToWorkerTables1796700000000 } from './1796700000000-AddClaimsToWorkerTables';
import { CreateBulkJobsAndSavedViews1796800000000 } from './1796800000000-CreateBulkJobsAndSavedViews';
import { AddNoticesDecidedIndex1796900000000 } from './1796900000000-AddNoticesDecidedIndex';
import { AddTrustedFlaggersAndLetters1797050000000 } from './1797050000000-AddTrustedFlaggersAndLetters';
import { CreateWebhooks1797000000000 } from './1797000000000-CreateWebhooks';
import { CreatePasskeys1797100000000 } from './1797100000000-CreatePasskeys';
import { AddImages1797200000000 } from './1797200000000-AddImages';
import { MakeRateLimitsUnlogged1797310000000 } from './1797310000000-MakeRateLimitsUnlogged';
import { AddOpenNoticeFlagsIndex1797360000000 } from './1797360000000-AddOpenNoticeFlagsIndex';

/** Every migration, in order. A new migration file is added here too. */
export const allMigrations: Function[] = [
  CreateStaffAndAudit1796011105754,
  CreateOutboundEmails1796012015825,
  CreateSourcesAndItems1796012162044,
  CreateNotices1796014294589,
  CreateSourceStrikesAndQueueIndex1796014706059,
  CreateCounterNotices1796014748164,
  CreateOptOutRequests1796015169615,
  AddNoticePersonalDataRedactedAt1796020000000,
  CreateInboundEmails1796100000000,
  AddStaydown1796200000000,
  CreateSubmitters1796300000000,
  AddStandingStatements1796300001000,
  CreateSubmitterApiTokens1796300002000,
  CreateBatches1796300003000,
  CreateEdgePurges1796400000000,
  CreateTwoFactor1796500000000,
  CreateComplaints1796500000001,
  CreateWorkerInstancesAndEmailClaims1796600000000,
  CreateItemAliases1796600000001,
  AddClaimsToWorkerTables1796700000000,
  CreateBulkJobsAndSavedViews1796800000000,
  AddNoticesDecidedIndex1796900000000,
  CreateWebhooks1797000000000,
  AddTrustedFlaggersAndLetters1797050000000,
  CreatePasskeys1797100000000,
  AddImages1797200000000,
  MakeRateLimitsUnlogged1797310000000,
  AddOpenNoticeFlagsIndex1797360000000,
];
