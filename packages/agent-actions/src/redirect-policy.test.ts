import { describe, expect, it } from 'vitest';
import { AgentActionError } from './agent-action-error.js';
import { checkRedirect } from './redirect-policy.js';

const allowed = ['https://crm.example.com', 'http://intranet.example:8080/ignored-path'];

describe('checkRedirect', () => {
  it('opens paths inside the web phone and allowed origins', () => {
    expect(checkRedirect(['/history'], [])).toEqual({ url: '/history', external: false, target: '_self' });
    expect(checkRedirect(['https://crm.example.com/lead/1?x=1', '_blank'], allowed)).toEqual({
      url: 'https://crm.example.com/lead/1?x=1',
      external: true,
      target: '_blank',
    });
    expect(checkRedirect(['crm.example.com/a', 'true'], allowed).url).toBe('https://crm.example.com/a');
    expect(checkRedirect(['http://intranet.example:8080/x'], allowed).url).toBe('http://intranet.example:8080/x');
  });

  it.each([
    ['javascript:alert(1)'],
    ['JAVASCRIPT:alert(1)'],
    ['data:text/html,<script>alert(1)</script>'],
    ['https://evil.example/'],
    ['https://crm.example.com.evil.example/'],
    ['https://user:pw@crm.example.com/'],
    ['//evil.example/x'],
    ['http://crm.example.com/'],
    ['www.example.com'],
    ['https://crm.example.com/\nx'],
  ])('refuses %j', (url) => {
    expect(() => checkRedirect([url], allowed)).toThrow(AgentActionError);
    try {
      checkRedirect([url], allowed);
    } catch (e) {
      expect((e as AgentActionError).code).toMatch(/REDIRECT_REFUSED|BAD_PARAMS/);
    }
  });
});
