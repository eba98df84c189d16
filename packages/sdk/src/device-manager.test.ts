import { describe, expect, it } from 'vitest';
import { DeviceManager } from './device-manager.js';
import { ErrorReason } from './handset-error.js';

const devices = [
  { kind: 'audioinput', deviceId: 'mic-1', label: 'Headset mic' },
  { kind: 'videoinput', deviceId: 'cam-1', label: 'Webcam' },
  { kind: 'audiooutput', deviceId: 'spk-1', label: 'Headset' },
  { kind: 'audiooutput', deviceId: 'spk-2', label: 'Loudspeaker' },
];
const media = {
  enumerateDevices: async () => devices,
  addEventListener: () => undefined,
} as unknown as MediaDevices;

describe('DeviceManager', () => {
  it('lists devices by role and builds getUserMedia constraints from the selection', async () => {
    const d = new DeviceManager(media);
    expect((await d.list()).map((x) => `${x.kind}:${x.id}`)).toEqual([
      'microphone:mic-1',
      'camera:cam-1',
      'speaker:spk-1',
      'speaker:spk-2',
    ]);
    expect(d.constraints(true)).toEqual({ audio: true, video: true });
    await d.select('microphone', 'mic-1');
    await d.select('camera', 'cam-1');
    expect(d.constraints(false)).toEqual({ audio: { deviceId: { exact: 'mic-1' } }, video: false });
    expect(d.constraints(true).video).toEqual({ deviceId: { exact: 'cam-1' } });
  });

  it('routes call audio and the ringer to separate outputs, following later changes', async () => {
    const d = new DeviceManager(media);
    const sinks: string[] = [];
    const call = { setSinkId: async (id: string) => void sinks.push(`call:${id}`) };
    const ring = { setSinkId: async (id: string) => void sinks.push(`ring:${id}`) };
    await d.select('speaker', 'spk-1');
    await d.select('ringer', 'spk-2');
    await d.attach(call, 'speaker');
    await d.attach(ring, 'ringer');
    await d.select('ringer', 'spk-1');
    expect(sinks).toEqual(['call:spk-1', 'ring:spk-2', 'ring:spk-1']);
  });

  it('refuses an unknown device or a microphone id as a speaker', async () => {
    const d = new DeviceManager(media);
    await expect(d.select('speaker', 'nope')).rejects.toMatchObject({ reason: ErrorReason.InvalidArgument });
    await expect(d.select('ringer', 'mic-1')).rejects.toMatchObject({ reason: ErrorReason.InvalidArgument });
    expect(d.selected.ringer).toBeUndefined();
  });
});
