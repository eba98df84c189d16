/** Publishes the location service's binding changes on the bus as `registration.*` events. */
import type { LocationService } from '../registrar/location-service.js';
import type { Binding } from '../registrar/binding.js';
import type { EventBus } from './event-bus.js';
import type { RegistrationEventType, RegistrationPayload } from './platform-event.js';

/** Subscribes `bus` to `location`; returns the function that stops it. */
export function bridgeLocationEvents(
  location: Pick<LocationService, 'on'>,
  bus: Pick<EventBus, 'publish' | 'wants'>,
  clock: () => number = Date.now,
): () => void {
  const stops = (['registered', 'refreshed', 'unregistered', 'expired'] as const).map((name) => {
    const type: RegistrationEventType = `registration.${name}`;
    return location.on(name, (b) => {
      // Every REGISTER refreshes a binding: build the event only when someone takes it.
      if (!bus.wants(type)) return;
      bus.publish({
        type,
        domain: b.domain.toLowerCase(),
        domainId: undefined,
        at: new Date(clock()).toISOString(),
        payload: registrationPayload(b),
      });
    });
  });
  return () => stops.forEach((stop) => stop());
}

function registrationPayload(b: Binding): RegistrationPayload {
  return {
    aor: b.aor,
    contact: b.contactUri,
    transport: b.transport,
    source: b.sourceAddress.includes(':')
      ? `[${b.sourceAddress}]:${b.sourcePort}`
      : `${b.sourceAddress}:${b.sourcePort}`,
    userAgent: b.userAgent,
    instanceId: b.instanceId,
    expiresAt: new Date(b.expiresAt).toISOString(),
  };
}
