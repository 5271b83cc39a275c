import { AppError } from '../../shared/errors';
import type { Notice } from '../notices';
import { approveNotice } from './approve-notice';
import { markSpam } from './mark-spam';
import { rejectNotice } from './reject-notice';
import { requestInfo } from './request-info';
import type { DecisionAction } from './review.dto';
import type { ReviewCmd, ReviewDeps } from './review-support';

/** One entry for the API's `decision` action (and the bulk form): picks the use case. */
export function decide(
  deps: ReviewDeps,
  cmd: ReviewCmd & { action: DecisionAction; reason?: string; targets?: string[] },
): Promise<Notice> {
  switch (cmd.action) {
    case 'approve':
      return approveNotice(deps, cmd);
    case 'reject':
      return rejectNotice(deps, { ...cmd, reason: cmd.reason ?? '' });
    case 'request_info':
      if (cmd.targets) throw AppError.validation([{ field: 'targets', message: 'targets applies to approve only.' }]);
      return requestInfo(deps, { ...cmd, question: cmd.reason ?? '' });
    case 'spam':
      return markSpam(deps, cmd);
  }
}
