import { CounterNotice } from '../modules/counter-notices/counter-notice.entity';
import { OptOutRequest } from '../modules/opt-out/opt-out-request.entity';
import { EdgePurge } from '../modules/edge/edge-purge.entity';
import { AuditEvent } from '../modules/audit/audit-event.entity';
import { ApiToken } from '../modules/auth/api-token.entity';
import { User } from '../modules/auth/user.entity';
import { RecoveryCode, TotpCredential } from '../modules/auth/two-factor.entity';
import { Complaint } from '../modules/complaints/complaint.entity';
import { InboundEmail } from '../modules/inbound/inbound-email.entity';
import { Item } from '../modules/items/item.entity';
import { ItemAlias } from '../modules/items/item-alias.entity';
import { Source } from '../modules/items/source.entity';
import { OutboundEmail } from '../modules/mail/outbound-email.entity';
import { NoticeTarget } from '../modules/notices/notice-target.entity';
import { Notice } from '../modules/notices/notice.entity';
import { SourceStrike } from '../modules/review/source-strike.entity';
import { WorkerInstance } from './worker-instance.entity';
import { ContentFingerprint, ContentFingerprintBand, StaydownException } from '../modules/staydown/content-fingerprint.entity';
import { SubmitterSignInLink } from '../modules/submitters/sign-in-link.entity';
import { Submitter } from '../modules/submitters/submitter.entity';
import { StandingStatements } from '../modules/submitters/standing-statements.entity';
import { SubmitterApiToken } from '../modules/submitters/submitter-token.entity';
import { AuthorisationLetter } from '../modules/submitters/authorisation-letter.entity';
import { Batch, BatchWork } from '../modules/batches/batch.entity';

/** Every TypeORM entity of the product; each module adds its own here. */
export const entities = [
  User,
  ApiToken,
  AuditEvent,
  OutboundEmail,
  Source,
  Item,
  Notice,
  NoticeTarget,
  SourceStrike,
  CounterNotice,
  OptOutRequest,
  EdgePurge,
  WorkerInstance,
  ItemAlias,
  ContentFingerprint,
  ContentFingerprintBand,
  StaydownException,
  TotpCredential,
  RecoveryCode,
  Complaint,
  InboundEmail,
  Submitter,
  SubmitterSignInLink,
  StandingStatements,
  SubmitterApiToken,
  AuthorisationLetter,
  Batch,
  BatchWork,
];
