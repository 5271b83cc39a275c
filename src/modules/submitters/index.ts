/** Rights holders as users (SPEC §14): submitters, the portal sign-in, their profile. */
export { Submitter } from './submitter.entity';
export type { SubmitterRole } from './submitter.entity';
export { SubmitterSignInLink } from './sign-in-link.entity';
export { requestSignInLink, useSignInLink, checkSignInLink, LINK_MINUTES } from './sign-in';
export { updateProfile, ProfileDto, suspension } from './profile';
export { listPortalNotices, portalCsvRows, parsePortalFilter } from './portal.queries';
export { submitterActor } from './submitter-actor';
export { StandingStatements } from './standing-statements.entity';
export { currentStatements, statementHistory, makeStatements, withdrawStatements, StandingStatementsDto } from './standing-statements';
export { SubmitterApiToken } from './submitter-token.entity';
export {
  createSubmitterToken,
  revokeSubmitterToken,
  submitterForToken,
  tokensOf,
  isSubmitterToken,
  SUBMITTER_TOKEN_PREFIX,
} from './submitter-tokens';
export { AuthorisationLetter } from './authorisation-letter.entity';
export { uploadLetter, currentLetter, letterForStaff, letterProblem } from './authorisation-letters';
export { setTrusted, warnSubmitter, suspendSubmitter, liftSuspension, WarnDto, SuspendDto } from './trust-and-misuse';
export { listSubmitters, accuracyOf, submitterDetail, parseSubmitterFilter } from './submitters-admin.queries';
export type { Accuracy, SubmitterRow, SubmitterFilter } from './submitters-admin.queries';
