import { errorsByField } from '../../shared/http';
import { COUNTRIES } from './countries';
import { ACCURACY_STATEMENT, CLAIM_TYPES, GOOD_FAITH_STATEMENT } from './notice.dto';

/**
 * The notice form's shaping, shared by the public form (`notices.routes.ts`) and the rights holders'
 * portal: the HTML fields as the API's JSON, and what the form's template needs.
 */
const CLAIM_LABELS: Record<string, string> = {
  copyright: 'Copyright (DMCA notice)',
  trademark: 'Trademark',
  defamation: 'Defamation',
  privacy: 'Privacy',
  other: 'Something else',
};

export const lines = (v: unknown): string[] =>
  typeof v === 'string'
    ? v
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
    : Array.isArray(v)
      ? v.map(String)
      : [];

/** The HTML form's fields as the API's JSON: textareas become lists, checkboxes booleans. */
export function formToNotice(body: Record<string, unknown>): Record<string, unknown> {
  const { goodFaith, accuracy, infringingUrls, originalUrls, ...rest } = body;
  const original = lines(originalUrls);
  return {
    ...rest,
    infringingUrls: lines(infringingUrls),
    ...(original.length ? { originalUrls: original } : {}),
    goodFaith: goodFaith === 'true' || goodFaith === 'on',
    accuracy: accuracy === 'true' || accuracy === 'on',
  };
}

/**
 * What the notice form's template needs; the portal renders the same form with its own action, and
 * an emailed notice found incomplete (SPEC §12) is completed through it (`completing`).
 */
export function noticeFormView(
  values: Record<string, unknown>,
  errors: { field: string; message: string }[] = [],
  completing?: { reference: string; token: string },
) {
  return {
    title: completing ? `Complete your notice ${completing.reference}` : 'Submit a DMCA takedown request',
    completing,
    values,
    errors: errorsByField(errors),
    errorList: errors.map((e) => ({ field: e.field === '_body' ? 'name' : e.field, message: e.message })),
    countries: COUNTRIES,
    claimTypes: CLAIM_TYPES.map((value) => ({ value, label: CLAIM_LABELS[value] })),
    statements: { goodFaith: GOOD_FAITH_STATEMENT, accuracy: ACCURACY_STATEMENT },
  };
}
