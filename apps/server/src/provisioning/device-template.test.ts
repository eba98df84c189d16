import { describe, expect, it } from 'vitest';
import { deviceTemplateFor } from './device-template.js';

describe('deviceTemplateFor', () => {
  it.each([
    ['6A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D', 'sessiontalk/ios'],
    ['6a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d', 'sessiontalk/windows'],
    ['6A1b2C3d-4E5F-4A6B-8C7D-8E9F0A1B2C3D', 'sessiontalk/android'],
    ['3kQs875391li29', 'sessiontalk/android'],
    ['6A1B2C3D4E5F4A6B8C7D8E9F0A1B2C3D', 'sessiontalk/android'],
    ['web:0f4c2a', 'web'],
  ])('%s is %s', (id, template) => {
    expect(deviceTemplateFor(id)).toBe(template);
  });
});
