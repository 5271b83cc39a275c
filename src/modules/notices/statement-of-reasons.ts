import type { AppDeps } from '../../deps';
import type { Notice } from './notice.entity';

const LEGAL_BASIS: Record<string, string> = {
  copyright: '17 U.S.C. § 512(c) (copyright)',
  trademark: 'Trademark law (15 U.S.C. § 1114)',
  defamation: 'Defamation law',
  privacy: 'Privacy law',
  other: 'Applicable law named in the notice',
};

/** The legal basis shown on the 451 page and in the statement of reasons. */
export const legalBasisOf = (notice: Notice) => LEGAL_BASIS[notice.claimType] ?? LEGAL_BASIS.other;

/** The public name of the claimant: the organisation, or "[private]" for a person. */
export const claimantOf = (notice: Notice) => notice.organization?.trim() || null;

/** What a decision says about itself; the rest of the statement comes from the notice. */
export interface StatementInput {
  decision: 'approved' | 'rejected' | 'spam';
  facts: string;
  explanation: string;
  removedUrls?: string[];
  automated?: boolean;
}

/**
 * The EU DSA Art. 17 statement of reasons, recorded with every decision. Field names follow the
 * DSA Transparency Database API so an export is a mapping, not a translation.
 */
export function statementOfReasons(
  deps: Pick<AppDeps, 'config'>,
  notice: Notice,
  d: StatementInput & { at: Date },
): Record<string, unknown> {
  const restricted = d.decision === 'approved';
  return {
    decision_visibility: restricted ? ['DECISION_VISIBILITY_CONTENT_DISABLED'] : [],
    kind_of_restriction: restricted
      ? 'Access to the republished item disabled; the page answers 451 Unavailable For Legal Reasons.'
      : 'None: the content stays available.',
    territorial_scope: restricted ? 'worldwide' : null,
    content_urls: d.removedUrls ?? [],
    facts_relied_on: d.facts,
    // SPEC §14: a trusted flagger's notice (DSA Art. 22) is named as such; any other is an Art. 16 notice.
    source_type: notice.sourceType === 'trusted_flagger' ? 'trusted_flagger' : 'SOURCE_ARTICLE_16',
    from_notice: true,
    notice_reference: notice.reference,
    automated_detection: false,
    automated_decision: d.automated ? 'AUTOMATED_DECISION_PARTIALLY' : 'AUTOMATED_DECISION_NOT_AUTOMATED',
    decision_ground: restricted ? 'DECISION_GROUND_ILLEGAL_CONTENT' : null,
    illegal_content_legal_ground: legalBasisOf(notice),
    illegal_content_explanation: d.explanation,
    category:
      notice.claimType === 'copyright' || notice.claimType === 'trademark'
        ? 'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS'
        : 'STATEMENT_CATEGORY_OTHER',
    redress: restricted
      ? `The publisher may send a counter-notice under 17 U.S.C. § 512(g) at ${deps.config.publicBaseUrl}/counter-notice?notice=${notice.reference}; the decision can also be challenged in court.`
      : 'The complainant may send a new notice with more information, or go to court.',
    decided_at: d.at.toISOString(),
  };
}
