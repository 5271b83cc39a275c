import request from 'supertest';
import type { Express } from 'express';
import type { MailWorker } from '../../src/modules/mail';
import type { SmtpSink } from './smtp-sink';
import { csrfFrom, csrfOf } from './staff';

export type PortalAgent = ReturnType<typeof request.agent>;

/** Asks for a sign-in link through the real form and returns the link's path, read from the email received. */
export async function requestPortalLink(
  app: Express,
  worker: MailWorker,
  sink: SmtpSink,
  email: string,
  agent = request.agent(app),
): Promise<string> {
  const page = await agent.get('/portal/login').expect(200);
  await agent
    .post('/portal/login')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), email })
    .expect(200);
  await worker.drain();
  const mails = sink.to(email).filter((m) => /sign-in link/i.test(m.parsed.subject ?? ''));
  if (!mails.length) throw new Error(`no sign-in email reached ${email}`);
  const text = mails[mails.length - 1].parsed.text ?? '';
  return /https?:\/\/[^/\s]+(\/portal\/login\/link\?token=[\w-]+)/.exec(text)![1];
}

/** Opens the link's page and presses its button: the response of the POST. */
export async function useLink(agent: PortalAgent, link: string) {
  const page = await agent.get(link);
  if (page.status !== 200) return page;
  const token = new URL(link, 'http://x').searchParams.get('token')!;
  return agent
    .post('/portal/login/link')
    .type('form')
    .send({ _csrf: csrfFrom(page.text), token });
}

/** A cookie-keeping client signed in to the portal as `email`, through the emailed link. */
export async function portalAgent(app: Express, worker: MailWorker, sink: SmtpSink, email: string): Promise<PortalAgent> {
  const agent = request.agent(app);
  const link = await requestPortalLink(app, worker, sink, email, agent);
  const res = await useLink(agent, link);
  if (res.status !== 303) throw new Error(`portal sign-in failed with ${res.status}`);
  return agent;
}

/** Fills in the profile and makes standing statements through the portal's forms: what a batch needs. */
export async function makeReady(agent: PortalAgent): Promise<void> {
  const csrf = await csrfOf(agent, '/portal/profile');
  await agent
    .post('/portal/profile')
    .type('form')
    .send({ _csrf: csrf, name: 'Ada Lovelace', role: 'owner', address: '12 Marylebone Road, London', country: 'GB' })
    .expect(303);
  await agent
    .post('/portal/statements')
    .type('form')
    .send({ _csrf: csrf, signature: 'Ada Lovelace', goodFaith: 'true', accuracy: 'true' })
    .expect(303);
}

/** A submitter signed in through the emailed link, with a complete profile and standing statements. */
export async function readySubmitter(app: Express, worker: MailWorker, sink: SmtpSink, email: string): Promise<PortalAgent> {
  const agent = await portalAgent(app, worker, sink, email);
  await makeReady(agent);
  return agent;
}

/** Creates an API token on the portal's tokens page and returns the secret it shows once. */
export async function portalToken(agent: PortalAgent, name: string): Promise<string> {
  const csrf = await csrfOf(agent, '/portal/tokens');
  await agent.post('/portal/tokens').type('form').send({ _csrf: csrf, name }).expect(303);
  const page = await agent.get('/portal/tokens').expect(200);
  return /<code class="secret">(tds_[\w-]+)<\/code>/.exec(page.text)![1];
}
