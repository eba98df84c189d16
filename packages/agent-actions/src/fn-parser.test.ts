import { describe, expect, it } from 'vitest';
import { AgentActionError } from './agent-action-error.js';
import { formatAction, parseAction, parseButtonFn, splitCall } from './fn-parser.js';
import { normalizeAction } from './actions.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AgentActionError);
    return (e as AgentActionError).code;
  }
  throw new Error('did not throw');
};

describe('parseAction (the seed Actions table)', () => {
  it.each([
    ['answerCall', { name: 'answerCall', params: [] }],
    ['ENDCALL()', { name: 'endCall', params: [] }],
    ['toggleMic', { name: 'toggleMic', params: [] }],
    ['next', { name: 'next', params: [] }],
    ['makeCall(alt_phone)', { name: 'makeCall', params: ['alt_phone'] }],
    ["makecall('PHONE_CODE')", { name: 'makeCall', params: ['phone_code'] }],
    ['openForm(feedback form)', { name: 'openForm', params: ['feedback form'] }],
    ["openForm('Feedback Form')", { name: 'openForm', params: ['Feedback Form'] }],
    ['openform("a, b (c)")', { name: 'openForm', params: ['a, b (c)'] }],
    ['redirect(https://www.example.com)', { name: 'redirect', params: ['https://www.example.com'] }],
    ['redirect(www.example.com, true)', { name: 'redirect', params: ['www.example.com', 'true'] }],
    ['redirect(https://www.example.com, _blank)', { name: 'redirect', params: ['https://www.example.com', '_blank'] }],
    [
      'Redirect("https://x.example/?a=1,2", False, _BLANK)',
      { name: 'redirect', params: ['https://x.example/?a=1,2', 'false', '_blank'] },
    ],
    ['save(yes)', { name: 'save', params: ['Yes'] }],
    ["SAVE('No')", { name: 'save', params: ['No'] }],
    ['save( unknown )', { name: 'save', params: ['Unknown'] }],
  ])('%s', (fn, want) => {
    expect(parseAction(fn)).toEqual(want);
  });

  it('round-trips through formatAction', () => {
    for (const fn of [
      "openForm('it''s')".replace("''", "\\'"),
      'redirect("https://a.example/x,y", _blank)',
      'save(Yes)',
    ]) {
      const a = parseAction(fn);
      expect(parseAction(formatAction(a))).toEqual(a);
    }
  });

  it.each([
    ['', 'SYNTAX'],
    ['(x)', 'SYNTAX'],
    ['save(Yes', 'SYNTAX'],
    ["openForm('unclosed)", 'SYNTAX'],
    ["openForm('a' b)", 'SYNTAX'],
    ['openForm(a(b))', 'SYNTAX'],
    ['1next', 'SYNTAX'],
    ['next; alert(1)', 'SYNTAX'],
    ['dance()', 'UNKNOWN_ACTION'],
    ['__proto__', 'UNKNOWN_ACTION'],
    ['save(maybe)', 'BAD_PARAMS'],
    ['save()', 'BAD_PARAMS'],
    ['next(1)', 'BAD_PARAMS'],
    ['makeCall(fax)', 'BAD_PARAMS'],
    ['openForm()', 'BAD_PARAMS'],
    ['redirect()', 'BAD_PARAMS'],
    ['redirect(https://a.example, maybe)', 'BAD_PARAMS'],
    ['eval(alert(1))', 'SYNTAX'],
    ['eval', 'NOT_IMPLEMENTED'],
    ["EVAL('x')", 'NOT_IMPLEMENTED'],
  ])('refuses %j with %s', (fn, want) => {
    expect(code(() => parseAction(fn))).toBe(want);
  });

  it('refuses a huge fn or too many parameters without scanning forever', () => {
    expect(code(() => parseAction(`openForm(${'a'.repeat(10_000)})`))).toBe('SYNTAX');
    expect(code(() => parseAction(`redirect(${Array(50).fill('x').join(',')})`))).toBe('SYNTAX');
  });
});

describe('parseButtonFn', () => {
  it('reads a bare name that is no action as the script function to run (the seed\'s "fn": "main")', () => {
    expect(parseButtonFn('main')).toEqual({ kind: 'function', name: 'main' });
    expect(parseButtonFn('Next')).toEqual({ kind: 'action', action: { name: 'next', params: [] } });
    expect(parseButtonFn('  ')).toBeUndefined();
    expect(code(() => parseButtonFn('main()'))).toBe('UNKNOWN_ACTION');
    expect(code(() => parseButtonFn('eval'))).toBe('NOT_IMPLEMENTED');
  });

  it('splits calls exactly', () => {
    expect(splitCall(' openForm ( "x" , y ) ')).toEqual({ name: 'openForm', params: ['x', 'y'] });
  });
});

describe('normalizeAction (a script answer)', () => {
  it('reads booleans and numbers as text and refuses objects', () => {
    expect(normalizeAction({ name: 'redirect', params: ['https://a.example', true, '_blank'] })).toEqual({
      name: 'redirect',
      params: ['https://a.example', 'true', '_blank'],
    });
    expect(code(() => normalizeAction({ name: 'save', params: [{ toString: 'Yes' }] }))).toBe('BAD_PARAMS');
    expect(code(() => normalizeAction({ name: 42 }))).toBe('SYNTAX');
    expect(code(() => normalizeAction({ name: 'next', params: 'x' }))).toBe('BAD_PARAMS');
  });
});
