/** A small JSON client over Node's fetch, with a deadline on every request (a hang is a failure, not a wait). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** Default 15 s. */
  timeoutMs?: number;
}

export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    redirect: 'manual',
  });
  const text = await res.text();
  let body: unknown = undefined;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) body = JSON.parse(text);
  return { status: res.status, headers: res.headers, body, text };
}

/** A takedown notice body as the API takes it (SPEC §7). */
export function noticeBody(who: string, infringingUrls: string[]) {
  const name = `Claimant ${who}`;
  return {
    name,
    organization: `Rights ${who} Ltd`,
    email: `claimant-${who}@rights.example`,
    address: '1 Main Street, Springfield',
    country: 'US',
    role: 'owner',
    workDescription: `The article "${who}" that we wrote and published first.`,
    originalUrls: [`https://rights.example/articles/${who}`],
    infringingUrls,
    goodFaith: true,
    accuracy: true,
    signature: name,
  };
}
