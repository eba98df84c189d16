import { describe, expect, it } from 'vitest';
import { AgentActionError } from './agent-action-error.js';
import { checkFormData, checkFormFields, mergeFormSchema, type FormField } from './form-schema.js';
import { leadDialString } from './lead-numbers.js';

const fields: FormField[] = [
  { type: 'text', name: 'first_name', label: 'First name', required: true },
  { type: 'text', name: 'last_name' },
  { type: 'email', name: 'email' },
  { type: 'number', name: 'age', validation: 'integer' },
  {
    type: 'select',
    name: 'outcome',
    options: [
      { label: 'Sale', value: 'sale' },
      { label: 'No', value: 'no' },
    ],
  },
  { type: 'text', name: 'ref', regex: '[A-Z]{2}-\\d{4}' },
  { type: 'text', name: 'agent', disabled: true, defaultValue: '1001' },
  { type: 'checkbox', name: 'consent', required: true },
];

describe('form schemas', () => {
  it('accepts the seed example fields and refuses broken ones', () => {
    expect(() => checkFormFields(fields)).not.toThrow();
    const bad: Array<[Partial<FormField>[], RegExp]> = [
      [
        [
          { type: 'text', name: 'a' },
          { type: 'text', name: 'a' },
        ],
        /twice/,
      ],
      [[{ type: 'blink' as never, name: 'a' }], /type/],
      [[{ type: 'select', name: 'a' }], /options/],
      [[{ type: 'text', name: 'a', regex: '(' }], /not a valid/],
      [[{ type: 'text', name: 'a', regex: '(a+)+$' }], /nests/],
      [[{ type: 'text', name: 'a b' }], /name/],
      [[{ type: 'text', name: 'a', width: 13 }], /width/],
    ];
    for (const [f, msg] of bad) {
      expect(() => checkFormFields(f as FormField[])).toThrow(AgentActionError);
      expect(() => checkFormFields(f as FormField[])).toThrow(msg);
    }
  });

  it('merges a script formSchema: updates by name, appends new fields', () => {
    const merged = mergeFormSchema(fields, [
      { name: 'first_name', defaultValue: 'New Updated name' },
      { name: 'last_name', required: true },
      { type: 'text', name: 'country', label: 'Country', defaultValue: 'newly inserted field', width: 12 },
    ]);
    expect(merged.find((f) => f.name === 'first_name')).toMatchObject({
      label: 'First name',
      defaultValue: 'New Updated name',
    });
    expect(merged.find((f) => f.name === 'last_name')?.required).toBe(true);
    expect(merged.at(-1)).toMatchObject({ name: 'country', type: 'text' });
    expect(merged).toHaveLength(fields.length + 1);
    expect(() => mergeFormSchema(fields, [{ label: 'no name' }])).toThrow(/name/);
  });

  it('checks submitted data field by field', () => {
    const ok = checkFormData(fields, {
      first_name: 'Ann',
      email: 'ann@example.com',
      age: '42',
      outcome: 'sale',
      ref: 'AB-1234',
      agent: 'forged',
      consent: true,
      extra: 'dropped',
    });
    expect(ok.errors).toEqual({});
    expect(ok.values).toMatchObject({ first_name: 'Ann', age: 42, agent: '1001', consent: true, last_name: null });
    expect(ok.values).not.toHaveProperty('extra');

    const bad = checkFormData(fields, {
      email: 'nope',
      age: '4.5',
      outcome: 'maybe',
      ref: 'ab-1',
      first_name: { x: 1 },
    });
    expect(Object.keys(bad.errors).sort()).toEqual(['age', 'consent', 'email', 'first_name', 'outcome', 'ref']);
    expect(bad.errors.consent).toMatch(/required/);
    expect(checkFormData(fields, { first_name: 'x'.repeat(20_000), consent: true }).errors.first_name).toMatch(
      /too long/,
    );
  });
});

describe('leadDialString', () => {
  it('dials phone, alt_phone, or phone_code then phone', () => {
    const lead = { phone: '07700900123', alt_phone: '1002', phone_code: '+44' };
    expect(leadDialString(lead)).toBe('07700900123');
    expect(leadDialString(lead, 'alt_phone')).toBe('1002');
    expect(leadDialString(lead, 'phone_code')).toBe('+447700900123');
    expect(leadDialString({ phone: '1' }, 'alt_phone')).toBeUndefined();
  });
});
