import request from 'supertest';
import { createTestContext, TestContext } from '../support/context';

describe('the DMCA policy page', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await createTestContext({
      env: {
        DMCA_AGENT_NAME: 'Copyright Agent, Harbour <Media> LLC',
        DMCA_AGENT_ADDRESS: '1 Pier Road, Baltimore, MD 21202, USA',
        DMCA_AGENT_PHONE: '+1 410 555 0199',
        DMCA_AGENT_EMAIL: 'dmca@harbour-media.example',
        RESTORE_BUSINESS_DAYS: '12',
        STRIKE_LIMIT: '4',
      },
    });
  });
  afterAll(() => t.close());

  it('when opened, then it shows the configured agent, the notice and counter-notice procedures, the timing, the repeat-infringer policy, the opt-out and links to the forms', async () => {
    const res = await request(t.app).get('/dmca').expect(200);
    expect(res.text).toContain('Copyright Agent, Harbour &lt;Media&gt; LLC');
    expect(res.text).toContain('1 Pier Road, Baltimore, MD 21202, USA');
    expect(res.text).toContain('+1 410 555 0199');
    expect(res.text).toContain('href="mailto:dmca@harbour-media.example"');
    expect(res.text).toContain('§ 512(c)(3)');
    expect(res.text).toContain('§ 512(g)(3)');
    expect(res.text).toContain('12 business days');
    expect(res.text).toContain('4 strikes within 12 months');
    for (const href of ['/takedown', '/counter-notice', '/opt-out']) expect(res.text).toContain(`href="${href}"`);
  });

  it('when any page is shown, then its footer links to the policy', async () => {
    const res = await request(t.app).get('/takedown').expect(200);
    expect(res.text).toContain('<a href="/dmca">DMCA policy</a>');
  });
});
