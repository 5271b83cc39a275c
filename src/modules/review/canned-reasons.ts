/**
 * Canned rejection reasons offered on the notice page (editable here, in code: a change is a
 * reviewed commit). A moderator can always write their own instead. Each is shown to the complainant.
 */
export const CANNED_REJECT_REASONS: readonly { id: string; label: string; text: string }[] = [
  {
    id: 'not-on-site',
    label: 'Not on this site',
    text: 'None of the URLs in your notice are on this site, so there is nothing we can remove.',
  },
  {
    id: 'incomplete',
    label: 'Notice incomplete',
    text: 'Your notice does not contain all the elements 17 U.S.C. § 512(c)(3) requires (in particular an identification of the copyrighted work). Please send a new, complete notice.',
  },
  {
    id: 'licensed',
    label: 'Licensed / permitted',
    text: 'The material is republished under a licence or permission shown in the original feed (for example a Creative Commons licence), so we do not consider it infringing.',
  },
  {
    id: 'not-owner',
    label: 'Ownership not shown',
    text: 'The notice does not show that you own the work or act for its owner: the original we recorded was published by a different publisher before the date you give.',
  },
  {
    id: 'fair-use',
    label: 'Fair use / not the work',
    text: 'The material at these URLs is not a copy of the work you describe, or its use is a short quotation we consider fair use.',
  },
];
