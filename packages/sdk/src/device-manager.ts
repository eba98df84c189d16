import { HandsetError } from './handset-error.js';
import { TypedEmitter } from './typed-emitter.js';

/** One selectable device. */
export interface MediaDevice {
  readonly id: string;
  readonly label: string;
  readonly kind: 'microphone' | 'camera' | 'speaker';
}

/** The device picked for each role (undefined = the browser's default). */
export interface DeviceSelection {
  readonly microphone: string | undefined;
  readonly camera: string | undefined;
  /** Call audio output. */
  readonly speaker: string | undefined;
  /** Ringtone output, separate so a headset user hears the ring on the loudspeaker. */
  readonly ringer: string | undefined;
}

/** An element that can play to a chosen output (HTMLMediaElement with setSinkId, where supported). */
export interface OutputElement {
  setSinkId?: (id: string) => Promise<void>;
}

/** Events of a {@link DeviceManager}. */
export type DeviceManagerEvents = {
  /** The selection changed. */
  selected: [DeviceSelection];
  /** A device was plugged in or out. */
  devicesChanged: [];
};

const KIND: Record<string, MediaDevice['kind']> = {
  audioinput: 'microphone',
  videoinput: 'camera',
  audiooutput: 'speaker',
};

/**
 * Microphone, camera, speaker and ringer selection. The phone asks it for getUserMedia
 * constraints and routes call audio and the ringtone to the chosen outputs with setSinkId.
 */
export class DeviceManager extends TypedEmitter<DeviceManagerEvents> {
  private selection: DeviceSelection = {
    microphone: undefined,
    camera: undefined,
    speaker: undefined,
    ringer: undefined,
  };
  private readonly outputs = new Map<OutputElement, 'speaker' | 'ringer'>();

  /** @param media navigator.mediaDevices (undefined outside a browser: listing returns nothing). */
  constructor(private readonly media: MediaDevices | undefined) {
    super();
    media?.addEventListener?.('devicechange', () => this.emit('devicesChanged'));
  }

  /** The current selection. */
  get selected(): DeviceSelection {
    return this.selection;
  }

  /** True when outputs can be chosen (setSinkId exists: Chromium, Firefox 116+; not Safari). */
  get canSelectOutput(): boolean {
    return typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype;
  }

  /** Lists the devices (labels are empty until the user granted the microphone once). */
  async list(): Promise<MediaDevice[]> {
    const all = (await this.media?.enumerateDevices()) ?? [];
    return all.flatMap((d) => {
      const kind = KIND[d.kind];
      return kind ? [{ id: d.deviceId, label: d.label, kind }] : [];
    });
  }

  /** Picks the microphone, camera, speaker or ringer (undefined = default). Unknown ids are refused. */
  async select(role: keyof DeviceSelection, id: string | undefined): Promise<void> {
    if (id !== undefined) {
      const want: MediaDevice['kind'] = role === 'ringer' ? 'speaker' : role;
      const known = (await this.list()).some((d) => d.kind === want && d.id === id);
      if (!known) throw HandsetError.invalidArgument(`no ${want} with id ${id}`);
    }
    this.selection = { ...this.selection, [role]: id };
    for (const [el, r] of this.outputs) if (r === role) await this.applySink(el, r);
    this.emit('selected', this.selection);
  }

  /** getUserMedia constraints for a call with the selected microphone (and camera for video). */
  constraints(video: boolean): MediaStreamConstraints {
    const mic = this.selection.microphone;
    const cam = this.selection.camera;
    return {
      audio: mic ? { deviceId: { exact: mic } } : true,
      video: video ? (cam ? { deviceId: { exact: cam } } : true) : false,
    };
  }

  /** Routes an element to the speaker or ringer output, now and whenever the selection changes. */
  async attach(el: OutputElement, role: 'speaker' | 'ringer'): Promise<void> {
    this.outputs.set(el, role);
    await this.applySink(el, role);
  }

  /** Stops routing an element. */
  detach(el: OutputElement): void {
    this.outputs.delete(el);
  }

  private async applySink(el: OutputElement, role: 'speaker' | 'ringer'): Promise<void> {
    const id = this.selection[role];
    if (id === undefined || typeof el.setSinkId !== 'function') return;
    // A device that vanished leaves the element on its current output rather than failing the call.
    await el.setSinkId(id).catch(() => undefined);
  }
}
